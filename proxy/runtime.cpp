#include "proxy/runtime.h"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include "filters/headers_filter.h"
#include "filters/rate_limit_filter.h"
#include "filters/session_filter.h"

namespace gatehouse::proxy {
namespace {

// One factory per named policy, shared by every route that names it: per-policy state (counters, the
// over-limit cache) is then per policy, as a user reading the config would expect.
struct PolicyFactories {
  std::map<std::string, std::shared_ptr<const filters::FilterFactory>> rate_limits;
};

std::shared_ptr<const filters::FilterFactory> makeFactory(const config::Config& config,
                                                          const config::FilterConfig& filter,
                                                          PolicyFactories& shared) {
  return std::visit(
      [&](const auto& spec) -> std::shared_ptr<const filters::FilterFactory> {
        using Spec = std::decay_t<decltype(spec)>;
        if constexpr (std::is_same_v<Spec, config::SessionFilterConfig>) {
          const auto policy = config.sessions.find(spec.policy);
          if (policy == config.sessions.end())
            throw std::invalid_argument("unknown session policy " + spec.policy);
          return std::make_shared<filters::SessionFilterFactory>(
              spec, std::make_shared<const config::SessionPolicy>(policy->second));
        } else if constexpr (std::is_same_v<Spec, config::RateLimitFilterConfig>) {
          auto& factory = shared.rate_limits[spec.policy];
          if (!factory) {
            const auto policy = config.rate_limits.find(spec.policy);
            if (policy == config.rate_limits.end()) {
              throw std::invalid_argument("unknown rate-limit policy " + spec.policy);
            }
            factory = std::make_shared<filters::RateLimitFilterFactory>(
                std::make_shared<const config::RateLimitPolicy>(policy->second));
          }
          return factory;
        } else {
          return std::make_shared<filters::HeadersFilterFactory>(spec);
        }
      },
      filter);
}

}  // namespace

std::shared_ptr<const Runtime> buildRuntime(std::shared_ptr<const config::Config> config) {
  auto runtime = std::make_shared<Runtime>();
  runtime->config = config;
  PolicyFactories shared;
  for (const auto& route : config->routes) {
    FilterFactoryList list;
    for (const auto& filter : route.filters) list.push_back(makeFactory(*config, filter, shared));
    runtime->route_filters.push_back(std::move(list));
  }
  for (const auto& [name, policy] : config->sessions) {
    for (const auto* header : {&policy.user_header, &policy.roles_header}) {
      if (!header->empty() && std::find(runtime->identity_headers.begin(), runtime->identity_headers.end(),
                                        *header) == runtime->identity_headers.end()) {
        runtime->identity_headers.push_back(*header);
      }
    }
  }
  return runtime;
}

}  // namespace gatehouse::proxy
