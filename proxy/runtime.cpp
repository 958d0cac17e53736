#include "proxy/runtime.h"

#include <map>
#include <stdexcept>
#include <type_traits>

#include "filters/headers_filter.h"
#include "filters/identity_headers.h"
#include "filters/rate_limit_filter.h"
#include "filters/session_filter.h"

namespace gatehouse::proxy {
namespace {

// What routes naming the same policy share. One rate-limit factory per policy: its counters and over-limit
// cache are per policy, as a user reading the config expects. Session filters differ per route (require,
// roles) but share the policy object, and with it the per-worker cache and rolling-touch bookkeeping the
// session filter keys by policy.
struct SharedPolicies {
  std::map<std::string, std::shared_ptr<const filters::FilterFactory>> rate_limits;
  std::map<std::string, std::shared_ptr<const config::SessionPolicy>> sessions;
};

template <typename Policy>
const Policy& findPolicy(const std::map<std::string, Policy>& policies, const std::string& name,
                         const char* what) {
  const auto found = policies.find(name);
  if (found == policies.end())
    throw std::invalid_argument(std::string("unknown ") + what + " policy " + name);
  return found->second;
}

std::shared_ptr<const filters::FilterFactory> makeFactory(const config::Config& config,
                                                          const config::FilterConfig& filter,
                                                          SharedPolicies& shared) {
  return std::visit(
      [&](const auto& spec) -> std::shared_ptr<const filters::FilterFactory> {
        using Spec = std::decay_t<decltype(spec)>;
        if constexpr (std::is_same_v<Spec, config::SessionFilterConfig>) {
          auto& policy = shared.sessions[spec.policy];
          if (!policy) {
            policy = std::make_shared<const config::SessionPolicy>(
                findPolicy(config.sessions, spec.policy, "session"));
          }
          return std::make_shared<filters::SessionFilterFactory>(spec, policy);
        } else if constexpr (std::is_same_v<Spec, config::RateLimitFilterConfig>) {
          auto& factory = shared.rate_limits[spec.policy];
          if (!factory) {
            factory = std::make_shared<filters::RateLimitFilterFactory>(
                std::make_shared<const config::RateLimitPolicy>(
                    findPolicy(config.rate_limits, spec.policy, "rate-limit")));
          }
          return factory;
        } else {
          return std::make_shared<filters::HeadersFilterFactory>(spec);
        }
      },
      filter);
}

bool sameAddress(const config::Address& a, const config::Address& b) {
  return a.kind == b.kind && a.host == b.host && a.port == b.port && a.path == b.path;
}

// Sets `fresh` back to `running` when they differ, and records the key.
template <typename T, typename Same>
void keep(const T& running, T& fresh, const char* key, std::vector<std::string>& kept, Same same) {
  if (same(running, fresh)) return;
  fresh = running;
  kept.emplace_back(key);
}

template <typename T>
void keep(const T& running, T& fresh, const char* key, std::vector<std::string>& kept) {
  keep(running, fresh, key, kept, [](const T& a, const T& b) { return a == b; });
}

}  // namespace

ReloadedConfig keepRestartOnlySettings(const config::Config& running, const config::Config& fresh) {
  auto next = std::make_shared<config::Config>(fresh);
  std::vector<std::string> kept;
  // Bound at start: the listening sockets, the threads and how they wait.
  keep(running.listen, next->listen, "listen", kept, sameAddress);
  keep(running.admin, next->admin, "admin", kept,
       [](const std::optional<config::Address>& a, const std::optional<config::Address>& b) {
         return a.has_value() == b.has_value() && (!a || sameAddress(*a, *b));
       });
  keep(running.workers, next->workers, "workers", kept);
  keep(running.busy_poll, next->busy_poll, "busy_poll", kept);
  // Each worker's upstream pool is made at start with these; response_timeout is read per request.
  keep(running.upstream.address, next->upstream.address, "upstream.address", kept, sameAddress);
  keep(running.upstream.connect_timeout, next->upstream.connect_timeout, "upstream.connect_timeout", kept);
  keep(running.upstream.max_idle, next->upstream.max_idle, "upstream.max_idle", kept);
  keep(running.upstream.idle_timeout, next->upstream.idle_timeout, "upstream.idle_timeout", kept);
  // Each worker's store connections, and the memory store, are made at start.
  const auto& store = running.store;
  auto& next_store = next->store;
  keep(store.type, next_store.type, "store.type", kept);
  keep(store.redis, next_store.redis, "store.url", kept);
  next_store.url = store.url;  // the text goes with the parsed URL
  keep(store.timeout, next_store.timeout, "store.timeout", kept);
  keep(store.connections, next_store.connections, "store.connections", kept);
  keep(store.tls.ca_file, next_store.tls.ca_file, "store.tls.ca_file", kept);
  keep(store.tls.cert_file, next_store.tls.cert_file, "store.tls.cert_file", kept);
  keep(store.tls.key_file, next_store.tls.key_file, "store.tls.key_file", kept);
  keep(store.tls.verify, next_store.tls.verify, "store.tls.verify", kept);
  keep(store.memory_max_keys, next_store.memory_max_keys, "store.memory_max_keys", kept);
  // The access log's sink and format are set up once.
  keep(running.log.access, next->log.access, "log.access", kept);
  return {std::move(next), std::move(kept)};
}

std::shared_ptr<const Runtime> buildRuntime(std::shared_ptr<const config::Config> config) {
  auto runtime = std::make_shared<Runtime>();
  runtime->config = config;
  SharedPolicies shared;
  for (const auto& route : config->routes) {
    FilterFactoryList list;
    for (const auto& filter : route.filters) list.push_back(makeFactory(*config, filter, shared));
    runtime->route_filters.push_back(std::move(list));
    runtime->route_stats.push_back(std::make_shared<RouteStats>());
  }
  runtime->identity_headers = filters::identityHeaderNames(*config);
  return runtime;
}

}  // namespace gatehouse::proxy
