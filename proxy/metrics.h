// The admin listener's /metrics page in Prometheus's text exposition format (version 0.0.4): responses per
// route and status class, and the filters' outcome counters — rate limits per policy (every route naming a
// policy shares its counters, as it shares its over-limit cache), sessions per route and policy. The counters
// are process-wide (every worker adds to the same ones) and count from the start, or from the reload that
// rebuilt the route's filters: a reload starts them afresh, which Prometheus takes as a counter reset.
#pragma once

#include <string>
#include <string_view>

#include "proxy/runtime.h"

namespace gatehouse::proxy {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string renderMetrics(const Runtime& runtime);

}  // namespace gatehouse::proxy
