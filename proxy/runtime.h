// The immutable snapshot every worker serves from: the config, and what was built from it once (each route's
// filter factories, the identity header names to strip). Shared by all workers through a shared_ptr<const
// Runtime>.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/filter_chain.h"
#include "proxy/route_stats.h"

namespace gatehouse::proxy {

struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::vector<FilterFactoryList> route_filters;  // parallel to config->routes
  // Responses per route (parallel to config->routes), and of requests that matched none or were refused
  // before routing. Shared by the workers' copies; a reload builds new ones (counting from zero).
  std::vector<std::shared_ptr<RouteStats>> route_stats;
  std::shared_ptr<RouteStats> unrouted_stats = std::make_shared<RouteStats>();
  // Every identity header a session policy injects (X-User, X-User-Roles...). A client must never be able to
  // send them: they are removed from every request, on every route, before any filter runs.
  std::vector<std::string> identity_headers;

  std::uint64_t bodyLimit(std::size_t route_index) const {
    const auto& route = config->routes[route_index];
    return route.body_bytes ? *route.body_bytes : config->limits.body_bytes;
  }
};

// Builds the filter factories of every route. Throws std::invalid_argument on a filter it cannot build (the
// loader has already validated references, so this is a programming error, not a user one).
std::shared_ptr<const Runtime> buildRuntime(std::shared_ptr<const config::Config> config);

// What a reload (SIGHUP) applies: `fresh`, with every setting that only takes effect when Gatehouse starts
// set back to its value in `running` — the listeners (listen, admin), workers, busy_poll, the upstream pool's
// settings (upstream.address, connect_timeout, max_idle, idle_timeout), the store (every store.* key) and
// log.access. `kept` names each of those keys whose value differed, e.g. "workers" or "store.url".
struct ReloadedConfig {
  std::shared_ptr<const config::Config> config;
  std::vector<std::string> kept;
};
ReloadedConfig keepRestartOnlySettings(const config::Config& running, const config::Config& fresh);

}  // namespace gatehouse::proxy
