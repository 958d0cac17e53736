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

}  // namespace

std::shared_ptr<const Runtime> buildRuntime(std::shared_ptr<const config::Config> config) {
  auto runtime = std::make_shared<Runtime>();
  runtime->config = config;
  SharedPolicies shared;
  for (const auto& route : config->routes) {
    FilterFactoryList list;
    for (const auto& filter : route.filters) list.push_back(makeFactory(*config, filter, shared));
    runtime->route_filters.push_back(std::move(list));
  }
  runtime->identity_headers = filters::identityHeaderNames(*config);
  return runtime;
}

}  // namespace gatehouse::proxy
