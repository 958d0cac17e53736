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

// Whether a failed probe says that Redis is not usable *yet* — down, unreachable, stalled, still loading its
// dataset, busy with a script, a replica without its master — rather than that the configuration is wrong (a
// wrong password or user, a db the server refuses, a TLS certificate that does not verify). Only the latter
// stops Gatehouse: the former passes by itself, and the workers' clients reconnect until it does.
bool isTransient(const std::string& error) {
  // Redis error codes of a server that will answer later, whichever handshake step got them
  // ("authentication failed: LOADING Redis is loading the dataset in memory").
  constexpr std::array<std::string_view, 5> kNotYetCodes = {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN",
                                                            "CLUSTERDOWN"};
  for (const auto code : kNotYetCodes) {
    const auto at = error.find(": " + std::string(code));
    const auto after = at + 2 + code.size();
    if (at != std::string::npos && (after == error.size() || error[after] == ' ')) return true;
  }
  std::string lower = error;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The transport: nothing listens, nothing answers (a stalled server accepts but never replies to the
  // handshake), or the connection went away.
  constexpr std::array<std::string_view, 12> kTransport = {
      "refused", "timed out",   "timeout",     "unreachable",          "resolve",          "no such file",
      "reset",   "end of file", "broken pipe", "no connection within", "no answer within", "aborted"};
  return std::any_of(kTransport.begin(), kTransport.end(),
                     [&](std::string_view word) { return lower.find(word) != std::string::npos; });
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
  if (isTransient(*error)) {
    spdlog::warn(
        "store not usable yet ({}); starting anyway: /readyz answers 503 and on_store_error applies "
        "until it answers",
        *error);
    return std::nullopt;
  }
  return "store: " + *error;
}

}  // namespace gatehouse::proxy
