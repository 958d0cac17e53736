#include "store/redis_client.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

#include "store/redis_connection.h"
#include "store/redis_tls.h"

namespace gatehouse::store {

namespace {

std::shared_ptr<boost::asio::ssl::context> tlsContextFor(const RedisClientOptions& options) {
  if (!options.url.tls || options.url.unix_socket) return nullptr;
  return makeRedisTlsContext(options.tls);
}

}  // namespace

LuaScript LuaScript::fromSource(std::string source) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(source.data(), source.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA1 of a Lua script failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return LuaScript{std::move(source), std::move(hex)};
}

std::shared_ptr<RedisClient> RedisClient::create(boost::asio::io_context& io, RedisClientOptions options) {
  auto tls = tlsContextFor(options);
  return std::make_shared<RedisConnection>(io, std::move(options), std::move(tls), /*reconnect=*/true);
}

std::optional<std::string> RedisClient::probe(const RedisClientOptions& options,
                                              std::chrono::milliseconds timeout) {
  RedisClientOptions once = options;
  once.connect_timeout = timeout;
  std::shared_ptr<boost::asio::ssl::context> tls;
  try {
    tls = tlsContextFor(once);
  } catch (const std::exception& error) {
    return std::string(error.what());
  }
  // A private loop: the caller (startup) has no event loop running yet, and nothing here may leak into one.
  boost::asio::io_context io;
  auto connection =
      std::make_shared<RedisConnection>(io, std::move(once), std::move(tls), /*reconnect=*/false);
  std::optional<std::optional<std::string>> outcome;
  connection->onFirstAttempt([&](std::optional<std::string> error) {
    outcome = std::move(error);
    io.stop();
  });
  connection->start();
  // The connect timer inside bounds the attempt; the extra margin only covers its own scheduling.
  io.run_for(timeout + std::chrono::milliseconds(100));
  std::optional<std::string> result = outcome ? *outcome
                                              : "redis " + connection->endpoint() + ": no answer within " +
                                                    std::to_string(timeout.count()) + "ms";
  connection->onFirstAttempt(nullptr);
  connection->stop();
  return result;
}

}  // namespace gatehouse::store
