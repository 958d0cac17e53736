// What a rate-limit decision tells the client: the X-RateLimit-* and IETF RateLimit / RateLimit-Policy
// fields, the Retry-After value, and the problem+json body of a 429.
//
// The IETF fields follow draft-ietf-httpapi-ratelimit-headers-11: both are Structured Field Lists of Items
// whose value is a String naming a quota policy. A policy with one limit has one item named after the policy
// (`"per_client";q=100;w=60`); a policy with several limits names its first item after the policy and each
// other one
// "<policy>-<window>" (`"per_client";q=100;w=60, "per_client-1s";q=10;w=1`), adding "-<index>" if two windows
// are equal. `w` and `t` are whole seconds, rounded up (the draft allows no sub-second precision; `w` at
// least 1). RateLimit and the X-RateLimit-* fields report one limit: the one closest to exhaustion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "filters/filter.h"
#include "proxy/config/config.h"
#include "store/store.h"

namespace gatehouse::filters {

// The fields of one decision, built for every rate-limited request: the names are the constants below (static
// storage), the X-RateLimit-* values are numbers short enough for std::string's inline buffer, and there are
// at most five, so building them allocates nothing unless the IETF fields are on.
using HeaderFields = boost::container::small_vector<std::pair<std::string_view, std::string>, 5>;

inline constexpr std::string_view kXRateLimitLimit = "X-RateLimit-Limit";
inline constexpr std::string_view kXRateLimitRemaining = "X-RateLimit-Remaining";
inline constexpr std::string_view kXRateLimitReset = "X-RateLimit-Reset";
inline constexpr std::string_view kRateLimitPolicyField = "RateLimit-Policy";
inline constexpr std::string_view kRateLimitField = "RateLimit";

// The problem type of a rejected request: a stable URI under the project's documentation, never dereferenced
// by Gatehouse itself. (The IETF draft's own type,
// https://iana.org/assignments/http-problem-types#quota-exceeded, is not registered yet.)
inline constexpr std::string_view kQuotaExceededType = "https://gatehouse.dev/problems#quota-exceeded";

// The limit to report: fewest requests remaining; on a tie the shortest window, whose state changes soonest.
// `states` and `limits` are parallel; returns 0 when they are empty.
std::size_t closestToExhaustion(std::span<const store::LimitState> states,
                                std::span<const config::WindowLimit> limits);

// Whole seconds, rounded up, and at least 1: "Retry-After: 0" would invite an immediate retry that is refused
// again.
std::int64_t retryAfterSeconds(store::Millis retry_after);

// Formats the fields of one policy. Built once per policy: the item names and the RateLimit-Policy value
// never change.
class RateLimitHeaderFormatter {
 public:
  explicit RateLimitHeaderFormatter(const config::RateLimitPolicy& policy);

  // The fields for one store answer, in the order they are sent. Empty when the answer carries no state for
  // the policy's limits (nothing true could be said).
  HeaderFields fields(const store::RateLimitResult& result) const;

  const std::vector<std::string>& itemNames() const { return item_names_; }
  const std::string& policyFieldValue() const { return policy_field_value_; }

 private:
  bool x_ratelimit_;
  bool ietf_;
  std::vector<config::WindowLimit> limits_;
  std::vector<std::string> item_names_;
  std::string policy_field_value_;
};

// The application/problem+json body of a 429.
std::string quotaExceededBody(std::string_view policy_name, std::int64_t retry_after_seconds);

// The body of the 503 sent when the store fails and the policy says `on_store_error: deny`.
std::string storeUnavailableBody();

// Adds a decision's fields to a response. RateLimit and RateLimit-Policy are lists: every rate_limit filter
// of a route appends its items. The X-RateLimit-* trio holds one limit, so when one is already present
// (another rate_limit filter of the route, or the upstream's own limiter) the trio with fewer requests
// remaining wins: an outer filter must not hide the exhausted limit of a 429 made further in.
void addRateLimitFields(ResponseHeader& response, const HeaderFields& fields);

}  // namespace gatehouse::filters
