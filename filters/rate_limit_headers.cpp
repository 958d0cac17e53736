#include "filters/rate_limit_headers.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace gatehouse::filters {
namespace {

std::int64_t ceilSeconds(std::int64_t millis) {
  if (millis <= 0) return 0;
  return (millis + 999) / 1000;
}

// An sf-string (RFC 9651 §3.3.3): printable ASCII, with '"' and '\' escaped. Policy names come from the
// config; a byte outside that range cannot be sent, so it becomes '_' rather than making the whole field
// invalid.
std::string sfString(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c > 0x7E) {
      out.push_back('_');
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

// "1h", "5m", "1s", "250ms": the way the config writes durations.
std::string windowLabel(config::Duration window) {
  const auto ms = window.count();
  if (ms <= 0 || ms % 1000 != 0) return std::to_string(ms) + "ms";
  const auto seconds = ms / 1000;
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

std::vector<std::string> itemNamesFor(const config::RateLimitPolicy& policy) {
  std::vector<std::string> names;
  names.reserve(policy.limits.size());
  for (std::size_t i = 0; i < policy.limits.size(); ++i) {
    std::string name = i == 0 ? policy.name : policy.name + "-" + windowLabel(policy.limits[i].window);
    if (std::find(names.begin(), names.end(), name) != names.end()) name += "-" + std::to_string(i);
    names.push_back(std::move(name));
  }
  return names;
}

std::optional<std::uint64_t> parseUnsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::int64_t epochMillis(const store::RateLimitResult& result) {
  if (result.now_ms > 0) return result.now_ms;
  // A store that did not report its clock: the local wall clock is the best remaining estimate.
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::size_t closestToExhaustion(std::span<const store::LimitState> states,
                                std::span<const config::WindowLimit> limits) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < states.size(); ++i) {
    if (states[i].remaining < states[best].remaining) {
      best = i;
    } else if (states[i].remaining == states[best].remaining && i < limits.size() && best < limits.size() &&
               limits[i].window < limits[best].window) {
      best = i;
    }
  }
  return best;
}

std::int64_t retryAfterSeconds(store::Millis retry_after) {
  return std::max<std::int64_t>(1, ceilSeconds(retry_after.count()));
}

RateLimitHeaderFormatter::RateLimitHeaderFormatter(const config::RateLimitPolicy& policy)
    : x_ratelimit_(policy.headers_x_ratelimit),
      ietf_(policy.headers_ietf),
      limits_(policy.limits),
      item_names_(itemNamesFor(policy)) {
  for (std::size_t i = 0; i < limits_.size(); ++i) {
    if (i > 0) policy_field_value_ += ", ";
    const auto window_seconds = std::max<std::int64_t>(1, ceilSeconds(limits_[i].window.count()));
    policy_field_value_ += sfString(item_names_[i]) + ";q=" + std::to_string(limits_[i].requests) +
                           ";w=" + std::to_string(window_seconds);
  }
}

HeaderFields RateLimitHeaderFormatter::fields(const store::RateLimitResult& result) const {
  HeaderFields out;
  if (result.limits.empty() || result.limits.size() != limits_.size()) return out;
  const std::size_t index = closestToExhaustion({result.limits.data(), result.limits.size()}, limits_);
  const store::LimitState& state = result.limits[index];
  const std::int64_t reset_after_ms = std::max<std::int64_t>(0, state.reset_after.count());

  if (x_ratelimit_) {
    // The store echoes each limit; the configured one stands in should it not.
    const std::uint64_t limit = state.limit > 0 ? state.limit : limits_[index].requests;
    out.emplace_back(kXRateLimitLimit, std::to_string(limit));
    out.emplace_back(kXRateLimitRemaining, std::to_string(state.remaining));
    out.emplace_back(kXRateLimitReset, std::to_string(ceilSeconds(epochMillis(result) + reset_after_ms)));
  }
  if (ietf_) {
    out.emplace_back(kRateLimitPolicyField, policy_field_value_);
    out.emplace_back(kRateLimitField, sfString(item_names_[index]) + ";r=" + std::to_string(state.remaining) +
                                          ";t=" + std::to_string(ceilSeconds(reset_after_ms)));
  }
  return out;
}

std::string quotaExceededBody(std::string_view policy_name, std::int64_t retry_after_seconds) {
  boost::json::object problem;
  problem["type"] = kQuotaExceededType;
  problem["title"] = "Too Many Requests";
  problem["status"] = 429;
  problem["detail"] = "The rate limit of policy '" + std::string(policy_name) + "' is exhausted; retry in " +
                      std::to_string(retry_after_seconds) + " s.";
  problem["policy"] = policy_name;
  problem["retry_after"] = retry_after_seconds;
  return boost::json::serialize(problem);
}

std::string storeUnavailableBody() {
  boost::json::object body;
  body["error"] = "rate limit store unavailable";
  return boost::json::serialize(body);
}

void addRateLimitFields(ResponseHeader& response, const HeaderFields& fields) {
  std::optional<std::uint64_t> ours;
  for (const auto& [name, value] : fields) {
    if (name == kXRateLimitRemaining) ours = parseUnsigned(value);
  }
  bool keep_existing_trio = false;
  if (ours) {
    const auto existing = response.find(kXRateLimitRemaining);
    if (existing != response.end()) {
      const auto theirs = parseUnsigned(existing->value());
      keep_existing_trio = theirs && *theirs <= *ours;
    }
  }
  for (const auto& [name, value] : fields) {
    if (name == kXRateLimitLimit || name == kXRateLimitRemaining || name == kXRateLimitReset) {
      if (!keep_existing_trio) response.set(name, value);
    } else {
      response.insert(name, value);
    }
  }
}

}  // namespace gatehouse::filters
