#include "proxy/startup_checks.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include <spdlog/spdlog.h>

#include "store/redis_client.h"

namespace gatehouse::proxy {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(3);

bool isUnreachable(std::string error) {
  std::transform(error.begin(), error.end(), error.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::array<std::string_view, 7> kTransient = {"refused", "timed out",    "timeout", "unreachable",
                                                          "resolve", "no such file", "reset"};
  return std::any_of(kTransient.begin(), kTransient.end(),
                     [&](std::string_view word) { return error.find(word) != std::string::npos; });
}

}  // namespace

std::optional<std::string> checkStoreAtStartup(const config::StoreConfig& store) {
  if (store.type != config::StoreConfig::Type::Redis) return std::nullopt;
  store::RedisClientOptions options;
  options.url = store.redis;
  options.tls = store.tls;
  options.command_timeout = std::max<std::chrono::milliseconds>(store.timeout, std::chrono::seconds(1));
  auto error = store::RedisClient::probe(options, kProbeTimeout);
  if (!error) return std::nullopt;
  if (isUnreachable(*error)) {
    spdlog::warn("store not reachable yet ({}); starting anyway: on_store_error applies until it answers",
                 *error);
    return std::nullopt;
  }
  return "store: " + *error;
}

}  // namespace gatehouse::proxy
