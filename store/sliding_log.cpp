#include "store/sliding_log.h"

#include <algorithm>
#include <vector>

namespace gatehouse::store {

void RequestLog::forgetUpTo(std::int64_t cutoff_ms) {
  while (!entries_.empty() && entries_.front().at_ms <= cutoff_ms) {
    count_ -= entries_.front().requests;
    entries_.pop_front();
  }
}

void RequestLog::add(std::int64_t at_ms, std::uint64_t cost) {
  if (cost == 0) return;
  count_ += cost;
  if (!entries_.empty() && entries_.back().at_ms >= at_ms) {
    entries_.back().requests += cost;
    return;
  }
  entries_.push_back(Entry{at_ms, cost});
}

std::optional<std::int64_t> RequestLog::newest() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().at_ms;
}

std::int64_t RequestLog::nthOldest(std::uint64_t n) const {
  std::uint64_t seen = 0;
  for (const Entry& entry : entries_) {
    seen += entry.requests;
    if (seen >= n) return entry.at_ms;
  }
  return entries_.empty() ? 0 : entries_.back().at_ms;
}

RateLimitResult evaluateSlidingLog(std::span<RequestLog* const> logs, std::span<const WindowLimit> limits,
                                   std::uint32_t cost, std::int64_t now_ms) {
  RateLimitResult result;
  result.now_ms = now_ms;
  result.limits.resize(limits.size());

  PerLimit<bool> admitted(limits.size());
  for (std::size_t i = 0; i < limits.size(); ++i) {
    logs[i]->forgetUpTo(now_ms - limits[i].window.count());
    admitted[i] = logs[i]->count() + cost <= limits[i].requests;
    result.allowed = result.allowed && admitted[i];
  }

  if (result.allowed) {
    for (std::size_t i = 0; i < limits.size(); ++i) {
      const auto first = logs.begin();
      const auto here = first + static_cast<std::ptrdiff_t>(i);
      if (std::find(first, here, logs[i]) == here) logs[i]->add(now_ms, cost);
    }
  }

  std::int64_t admission_time = now_ms;
  bool never = false;
  std::int64_t longest_window = 0;
  for (std::size_t i = 0; i < limits.size(); ++i) {
    const RequestLog& log = *logs[i];
    const std::int64_t window_ms = limits[i].window.count();
    const std::uint64_t limit = limits[i].requests;
    const std::uint64_t remaining = admitted[i] && log.count() < limit ? limit - log.count() : 0;
    result.limits[i] = LimitState{limit, remaining, slidingLogTimeToLive(log, now_ms, window_ms)};
    longest_window = std::max(longest_window, window_ms);
    if (result.allowed || admitted[i]) continue;
    if (cost > limit) {
      never = true;
      continue;
    }
    // The oldest (count + cost - limit) requests must leave the window; the last of them leaves at its time +
    // W.
    const std::uint64_t must_leave = log.count() + cost - limit;
    admission_time = std::max(admission_time, log.nthOldest(must_leave) + window_ms);
  }
  if (!result.allowed) result.retry_after = Millis{never ? longest_window : admission_time - now_ms};
  return result;
}

Millis slidingLogTimeToLive(const RequestLog& log, std::int64_t now_ms, std::int64_t window_ms) {
  const std::optional<std::int64_t> newest = log.newest();
  if (!newest) return Millis{0};
  return Millis{std::max<std::int64_t>(0, *newest + window_ms - now_ms)};
}

}  // namespace gatehouse::store
