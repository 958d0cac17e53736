#include "store/rate_limit_keys.h"

namespace gatehouse::store {

std::optional<std::string> invalidCheckReason(const RateLimitCheck& check) {
  if (check.limits.empty()) return "a rate-limit check needs at least one limit";
  for (const WindowLimit& limit : check.limits) {
    if (limit.window.count() <= 0) return "a rate-limit window must be longer than 0 ms";
  }
  if (check.cost == 0) return "a rate-limit check must cost at least 1";
  if (check.key.find_first_of("{}") != std::string::npos)
    return "a rate-limit key must not contain '{' or '}'";
  return std::nullopt;
}

std::string rateLimitKey(std::string_view base_key, RateLimitAlgorithm algorithm, Millis window) {
  std::string key = "gh:rl:{";
  key.append(base_key);
  key.append(algorithm == RateLimitAlgorithm::SlidingLog ? "}:sl:" : "}:sw:");
  key.append(std::to_string(window.count()));
  return key;
}

}  // namespace gatehouse::store
