#include "proxy/metrics.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "filters/rate_limit_filter.h"
#include "filters/session_filter.h"

namespace gatehouse::proxy {
namespace {

// One filter's counters with the labels that name it: `route="...",policy="..."`, or `policy="..."` for a
// rate-limit policy, whose one factory (and counters) every route naming it shares. Route and policy names
// are letters, digits, '_', '-' and '.' (the loader checks): nothing to escape.
template <typename Stats>
struct Sample {
  std::string labels;
  Stats stats;
};

void appendFamilyHeader(std::string& out, std::string_view name, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" counter\n");
}

template <typename Stats>
void appendSeries(std::string& out, std::string_view name, const Sample<Stats>& sample,
                  std::string_view outcome, std::uint64_t value) {
  out.append(name).append("{").append(sample.labels);
  if (!outcome.empty()) out.append(",outcome=\"").append(outcome).append("\"");
  out.append("} ").append(std::to_string(value)).append("\n");
}

// A family whose series are one number per sample: `field` picks it.
template <typename Stats, typename Field>
void appendCounterFamily(std::string& out, std::string_view name, std::string_view help,
                         const std::vector<Sample<Stats>>& samples, Field field) {
  if (samples.empty()) return;
  appendFamilyHeader(out, name, help);
  for (const auto& sample : samples) appendSeries(out, name, sample, {}, field(sample.stats));
}

void appendRateLimits(std::string& out, const std::vector<Sample<filters::RateLimitStats>>& samples) {
  if (samples.empty()) return;
  constexpr std::string_view kDecisions = "gatehouse_rate_limit_decisions_total";
  appendFamilyHeader(
      out, kDecisions,
      "Rate-limit decisions by route, policy and outcome (a request the store failed to decide "
      "is in none of them).");
  for (const auto& sample : samples) {
    appendSeries(out, kDecisions, sample, "allowed", sample.stats.allowed);
    appendSeries(out, kDecisions, sample, "limited", sample.stats.limited);
    appendSeries(out, kDecisions, sample, "shadow_limited", sample.stats.shadow_limited);
    appendSeries(out, kDecisions, sample, "allow_listed", sample.stats.allow_listed);
  }
  appendCounterFamily(
      out, "gatehouse_rate_limit_store_errors_total",
      "Rate-limit checks the store did not answer with a decision (timeout, unavailable, error).", samples,
      [](const auto& stats) { return stats.store_error; });
  appendCounterFamily(
      out, "gatehouse_rate_limit_local_fallbacks_total",
      "Rate-limit checks decided in process because the store failed (on_store_error: local).", samples,
      [](const auto& stats) { return stats.fallback_local; });
  appendCounterFamily(out, "gatehouse_rate_limit_cache_refusals_total",
                      "Requests refused from the worker's over-limit cache, without asking the store.",
                      samples, [](const auto& stats) { return stats.local_cache_hit; });
  appendCounterFamily(out, "gatehouse_rate_limit_mispredictions_total",
                      "session.user checks prefetched for a user the session no longer had.", samples,
                      [](const auto& stats) { return stats.mispredicted; });
}

void appendSessions(std::string& out, const std::vector<Sample<filters::SessionStats>>& samples) {
  if (samples.empty()) return;
  constexpr std::string_view kOutcomes = "gatehouse_session_outcomes_total";
  appendFamilyHeader(out, kOutcomes, "Session checks by route, policy and outcome.");
  for (const auto& sample : samples) {
    appendSeries(out, kOutcomes, sample, "valid", sample.stats.valid);
    appendSeries(out, kOutcomes, sample, "missing", sample.stats.missing);
    appendSeries(out, kOutcomes, sample, "bad_signature", sample.stats.bad_signature);
    appendSeries(out, kOutcomes, sample, "expired", sample.stats.expired);
    appendSeries(out, kOutcomes, sample, "invalid", sample.stats.invalid);
    appendSeries(out, kOutcomes, sample, "forbidden", sample.stats.forbidden);
    appendSeries(out, kOutcomes, sample, "store_error", sample.stats.store_error);
  }
  appendCounterFamily(out, "gatehouse_session_cache_hits_total",
                      "Valid sessions answered from the worker's session cache, without the store.", samples,
                      [](const auto& stats) { return stats.cache_hit; });
  appendCounterFamily(out, "gatehouse_session_touches_total",
                      "Session lookups that also refreshed the key's TTL (rolling sessions).", samples,
                      [](const auto& stats) { return stats.touched; });
}

void appendResponses(std::string& out, const Runtime& runtime) {
  constexpr std::string_view kResponses = "gatehouse_http_responses_total";
  appendFamilyHeader(
      out, kResponses,
      "Responses by route and status class (route=\"\": requests that matched no route or were "
      "refused before routing; 4xx includes 499, a client that left before the response).");
  const auto appendRoute = [&](std::string_view route, const RouteStats& stats) {
    for (std::size_t i = 0; i < kStatusClasses; ++i) {
      const auto status_class = static_cast<StatusClass>(i);
      out.append(kResponses).append("{route=\"").append(route).append("\",code=\"");
      out.append(statusClassLabel(status_class)).append("\"} ");
      out.append(std::to_string(stats.read(status_class))).append("\n");
    }
  };
  for (std::size_t i = 0; i < runtime.route_stats.size(); ++i) {
    appendRoute(runtime.config->routes[i].name, *runtime.route_stats[i]);
  }
  appendRoute("", *runtime.unrouted_stats);
}

}  // namespace

std::string renderMetrics(const Runtime& runtime) {
  std::vector<Sample<filters::RateLimitStats>> rate_limits;
  std::vector<Sample<filters::SessionStats>> sessions;
  std::set<const filters::FilterFactory*> seen;
  for (std::size_t i = 0; i < runtime.route_filters.size(); ++i) {
    const std::string& route = runtime.config->routes[i].name;
    for (const auto& factory : runtime.route_filters[i]) {
      if (const auto* limit = dynamic_cast<const filters::RateLimitFilterFactory*>(factory.get())) {
        if (seen.insert(limit).second) {
          rate_limits.push_back({"policy=\"" + limit->policy().name + "\"", limit->counters()});
        }
      } else if (const auto* session = dynamic_cast<const filters::SessionFilterFactory*>(factory.get())) {
        sessions.push_back(
            {"route=\"" + route + "\",policy=\"" + session->policy().name + "\"", session->counters()});
      }
    }
  }
  std::string out;
  appendResponses(out, runtime);
  appendRateLimits(out, rate_limits);
  appendSessions(out, sessions);
  return out;
}

}  // namespace gatehouse::proxy
