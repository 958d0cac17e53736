#include "store/rate_limit_keys.h"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace gatehouse::store {

std::optional<std::string> invalidCheckReason(const RateLimitCheck& check) {
  if (check.limits.empty()) return "a rate-limit check needs at least one limit";
  for (const WindowLimit& limit : check.limits) {
    if (limit.window.count() <= 0) return "a rate-limit window must be longer than 0 ms";
  }
  if (check.cost == 0) return "a rate-limit check must cost at least 1";
  // Not find_first_of("{}"): that searches the two-character set once per character of the key, on every
  // check.
  const bool has_brace =
      std::any_of(check.key.begin(), check.key.end(), [](char c) { return c == '{' || c == '}'; });
  if (has_brace) return "a rate-limit key must not contain '{' or '}'";
  return std::nullopt;
}

std::string rateLimitKey(std::string_view base_key, RateLimitAlgorithm algorithm, Millis window) {
  std::string key;
  appendRateLimitKey(key, base_key, algorithm, window);
  return key;
}

void appendRateLimitKey(std::string& out, std::string_view base_key, RateLimitAlgorithm algorithm,
                        Millis window) {
  constexpr std::string_view kPrefix = "gh:rl:{";
  constexpr std::size_t kSuffixChars = 5 + 20;  // "}:sw:" and the digits of a 64-bit number
  char digits[20];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), window.count()).ptr;
  out.reserve(out.size() + kPrefix.size() + base_key.size() + kSuffixChars);  // at most one allocation
  out.append(kPrefix);
  out.append(base_key);
  out.append(algorithm == RateLimitAlgorithm::SlidingLog ? "}:sl:" : "}:sw:");
  out.append(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace gatehouse::store
