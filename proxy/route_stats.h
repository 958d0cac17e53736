// Responses per route by status class, for /metrics: the worker that ends an exchange counts it once, with
// the status it sent (499 when the client left before any response). Process-wide, contention-free (each
// thread writes its own slot: filters/sharded_counters.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filters/sharded_counters.h"

namespace gatehouse::proxy {

enum class StatusClass : std::uint8_t { Informational, Success, Redirection, ClientError, ServerError };
inline constexpr std::size_t kStatusClasses = 5;

using RouteStats = filters::ShardedCounters<StatusClass, kStatusClasses>;

// 1xx..5xx; anything else (no status: never sent) counts as a server error.
constexpr StatusClass statusClassOf(unsigned status) {
  if (status >= 100 && status < 200) return StatusClass::Informational;
  if (status >= 200 && status < 300) return StatusClass::Success;
  if (status >= 300 && status < 400) return StatusClass::Redirection;
  if (status >= 400 && status < 500) return StatusClass::ClientError;
  return StatusClass::ServerError;
}

constexpr std::string_view statusClassLabel(StatusClass status_class) {
  constexpr std::string_view kLabels[kStatusClasses] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  return kLabels[static_cast<std::size_t>(status_class)];
}

}  // namespace gatehouse::proxy
