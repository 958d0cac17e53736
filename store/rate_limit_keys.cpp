#include "store/rate_limit_keys.h"

#include <charconv>
#include <iterator>

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
  constexpr std::string_view kPrefix = "gh:rl:{";
  constexpr std::size_t kSuffixChars = 5 + 20;  // "}:sw:" and the digits of a 64-bit number
  char digits[20];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), window.count()).ptr;
  std::string key;
  key.reserve(kPrefix.size() + base_key.size() + kSuffixChars);  // one allocation: built for every check
  key.append(kPrefix);
  key.append(base_key);
  key.append(algorithm == RateLimitAlgorithm::SlidingLog ? "}:sl:" : "}:sw:");
  key.append(digits, static_cast<std::size_t>(end - digits));
  return key;
}

}  // namespace gatehouse::store
