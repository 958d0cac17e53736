// How Gatehouse treats its Redis at startup and in readiness: a wrong password is a configuration error that
// stops it; a Redis that is merely down is not (a sidecar starts in any order), but /readyz says so.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "tests/integration/harness.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

std::string redisStore(const std::string& url) {
  return "store: {type: redis, url: \"" + url + "\", timeout: 200ms}\n";
}

// A Redis on a loopback port that is not usable yet: Stalled accepts connections and reads commands but never
// answers (a hung server behind a live TCP stack); Loading answers every command with -LOADING, as Redis does
// while it loads its dataset. Healthy answers like an empty Redis: +PONG to PING, +OK to anything else.
class FakeRedis {
 public:
  enum class Mode { Stalled, Loading, Healthy };

  explicit FakeRedis(Mode mode) : mode_(mode) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("FakeRedis: cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  ~FakeRedis() {
    ::shutdown(listener_, SHUT_RDWR);  // accept() returns
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (const int fd : connections_) ::shutdown(fd, SHUT_RDWR);  // every recv() returns
    }
    for (auto& thread : sessions_) thread.join();
    for (const int fd : connections_) ::close(fd);
    ::close(listener_);
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& password = "") const {
    return "redis://" + (password.empty() ? "" : ":" + password + "@") +
           "127.0.0.1:" + std::to_string(port_) + "/0";
  }
  void setMode(Mode mode) { mode_ = mode; }

 private:
  void acceptLoop() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      sessions_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // The name of the first whole command (a RESP array of bulk strings) in `buffer`, upper-cased, and the
  // bytes it takes; nullopt while it is incomplete.
  static std::optional<std::pair<std::string, std::size_t>> nextCommand(const std::string& buffer) {
    std::size_t pos = 0;
    const auto line = [&]() -> std::optional<std::string> {
      const auto end = buffer.find("\r\n", pos);
      if (end == std::string::npos) return std::nullopt;
      auto text = buffer.substr(pos, end - pos);
      pos = end + 2;
      return text;
    };
    const auto header = line();
    if (!header || header->size() < 2 || header->front() != '*') return std::nullopt;
    const auto count = std::stoul(header->substr(1));
    std::string name;
    for (std::size_t i = 0; i < count; ++i) {
      const auto length_line = line();
      if (!length_line || length_line->size() < 2) return std::nullopt;
      const auto length = std::stoul(length_line->substr(1));
      if (buffer.size() < pos + length + 2) return std::nullopt;
      if (i == 0) name = buffer.substr(pos, length);
      pos += length + 2;
    }
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return std::make_pair(std::move(name), pos);
  }

  void serve(int fd) {
    std::string buffer;
    char chunk[4096];
    for (;;) {
      const auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      while (const auto command = nextCommand(buffer)) {
        buffer.erase(0, command->second);
        std::string reply;
        switch (mode_.load()) {
          case Mode::Stalled:
            continue;
          case Mode::Loading:
            reply = "-LOADING Redis is loading the dataset in memory\r\n";
            break;
          case Mode::Healthy:
            reply = command->first == "PING" ? "+PONG\r\n" : "+OK\r\n";
            break;
        }
        if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return;
      }
    }
  }

  std::atomic<Mode> mode_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> sessions_;
};

// Polls /readyz (bounded) until it answers `status`; returns the last answer. The admin listener starts just
// after the workers' (all ProxyProcess waits for): a refused connection is retried too.
Response awaitReadiness(std::uint16_t admin_port, unsigned status, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  Response response;
  do {
    try {
      response = HttpClient(admin_port).get("/readyz");
      if (response.result_int() == status) break;
    } catch (const boost::system::system_error&) {
    }
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return response;
}

// A Redis that accepts connections but is not usable yet is not a configuration error: Gatehouse starts, says
// "not ready" until the store answers, and is ready once it does, without a restart.
void expectStartsAndRecovers(FakeRedis& redis, const std::string& url) {
  TestUpstream upstream;
  const auto port = freePort();
  const auto admin_port = freePort();
  ProxyProcess proxy(
      withPort(testConfig(upstream.address(), kCatchAll,
                          redisStore(url) + "admin: 127.0.0.1:" + std::to_string(admin_port) + "\n"),
               port),
      port);
  const auto not_ready = awaitReadiness(admin_port, 503, 2s);
  EXPECT_EQ(not_ready.result_int(), 503);
  EXPECT_NE(not_ready.body().find("store"), std::string::npos) << not_ready.body();
  EXPECT_EQ(HttpClient(port).get("/").result_int(), 200);  // pass-through routes need no store

  redis.setMode(FakeRedis::Mode::Healthy);
  const auto ready = awaitReadiness(admin_port, 200, 10s);
  EXPECT_EQ(ready.result_int(), 200) << ready.body() << proxy.stderrText();
  EXPECT_EQ(proxy.wait(0ms), std::nullopt);
}

TEST(StoreStartup, AWrongRedisPasswordStopsGatehouseWithAClearError) {
  RedisServerOptions options;
  options.requirepass = "right-password";
  RedisServer redis(options);
  TestUpstream upstream;
  const auto port = freePort();
  auto yaml =
      testConfig(upstream.address(), kCatchAll,
                 redisStore("redis://:wrong-password@127.0.0.1:" + std::to_string(redis.port()) + "/0"));
  yaml.replace(yaml.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(port));
  try {
    ProxyProcess proxy(yaml, port);
    FAIL() << "gatehouse started with a wrong Redis password";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("exited at startup"), std::string::npos) << message;
    EXPECT_NE(message.find("authentication failed"), std::string::npos) << message;
    EXPECT_EQ(message.find("wrong-password"), std::string::npos)
        << "the password must not be logged: " << message;
  }
}

TEST(StoreStartup, ARedisThatIsDownDoesNotStopGatehouseButReadinessSaysSo) {
  auto redis = std::make_unique<RedisServer>();
  const auto url = redis->url();
  redis->kill();
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll, redisStore(url) + "admin: 127.0.0.1:0\n"));
  HttpClient admin(proxy.adminPort());
  const auto not_ready = admin.get("/readyz");
  EXPECT_EQ(not_ready.result_int(), 503);
  EXPECT_NE(boost::json::parse(not_ready.body()).at("reason").as_string().find("store"), std::string::npos)
      << not_ready.body();
  // Pass-through routes still work: no filter needs the store.
  HttpClient client(proxy.port());
  EXPECT_EQ(client.get("/").result_int(), 200);

  redis->restart();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  unsigned status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    status = admin.get("/readyz").result_int();
    if (status == 200) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 200u);
}

TEST(StoreStartup, ARedisThatAcceptsButNeverAnswersDoesNotStopGatehouse) {
  FakeRedis redis(FakeRedis::Mode::Stalled);
  expectStartsAndRecovers(redis, redis.url());
}

TEST(StoreStartup, ARedisStillLoadingItsDatasetDoesNotStopGatehouse) {
  // With a password the handshake's AUTH is what gets -LOADING; without one, the readiness PING.
  for (const auto* password : {"secret", ""}) {
    SCOPED_TRACE(std::string("password \"") + password + "\"");
    FakeRedis redis(FakeRedis::Mode::Loading);
    expectStartsAndRecovers(redis, redis.url(password));
  }
}

}  // namespace
}  // namespace gatehouse::testing
