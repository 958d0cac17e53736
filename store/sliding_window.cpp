#include "store/sliding_window.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace gatehouse::store {
namespace {

std::int64_t floorDiv(std::int64_t value, std::int64_t divisor) {
  const std::int64_t quotient = value / divisor;
  return (value % divisor != 0 && ((value < 0) != (divisor < 0))) ? quotient - 1 : quotient;
}

// One limit's counter seen from now: the quantities every answer is made of.
struct WindowView {
  const WindowCounter& counter;
  std::uint64_t limit;
  std::int64_t window_ms;
  std::int64_t now_ms;

  std::int64_t windowStart() const { return counter.window_index * window_ms; }
  std::uint64_t w() const { return static_cast<std::uint64_t>(window_ms); }
  std::uint64_t elapsed() const { return static_cast<std::uint64_t>(now_ms - windowStart()); }

  // estimate * W, exactly: previous * (W - elapsed) + current * W.
  std::uint64_t scaledEstimate() const {
    return counter.previous * (w() - elapsed()) + counter.current * w();
  }

  bool admits(std::uint64_t cost) const { return scaledEstimate() + cost * w() <= limit * w(); }

  std::uint64_t remaining() const {
    const std::uint64_t capacity = limit * w();
    const std::uint64_t used = scaledEstimate();
    return used >= capacity ? 0 : (capacity - used) / w();
  }

  std::int64_t resetAfter() const {
    if (counter.current > 0) return windowStart() + 2 * window_ms - now_ms;
    if (counter.previous > 0) return windowStart() + window_ms - now_ms;
    return 0;
  }

  // The earliest time >= now at which a request of `cost` is admitted, nothing else being counted meanwhile;
  // nullopt when never (cost > limit). The estimate decreases through this window, is continuous at the
  // rollover (previous * 0 + current == current * W / W), decreases through the next window and is zero after
  // it, so the answer is found by solving for the elapsed time in this window, else in the next one.
  std::optional<std::int64_t> admissionTime(std::uint64_t cost) const {
    if (cost > limit) return std::nullopt;
    // This window: previous * (W - e) <= (limit - current - cost) * W, i.e. W - e <= floor(room / previous).
    if (counter.current + cost <= limit) {
      if (counter.previous == 0) return now_ms;
      const std::uint64_t max_weight = (limit - counter.current - cost) * w() / counter.previous;
      if (max_weight >= w()) return now_ms;
      return std::max(now_ms, windowStart() + static_cast<std::int64_t>(w() - max_weight));
    }
    // The next window: current becomes previous and must decay until current * (W - e) <= (limit - cost) * W.
    // current > 0 here, since current + cost > limit >= cost.
    const std::int64_t next_start = windowStart() + window_ms;
    const std::uint64_t max_weight = (limit - cost) * w() / counter.current;
    if (max_weight >= w()) return next_start;
    return next_start + static_cast<std::int64_t>(w() - max_weight);
  }
};

}  // namespace

WindowCounter rollWindowCounter(const WindowCounter& counter, std::int64_t now_ms, std::int64_t window_ms) {
  const std::int64_t index = floorDiv(now_ms, window_ms);
  if (index == counter.window_index) return counter;
  if (index == counter.window_index + 1) return WindowCounter{index, 0, counter.current};
  // Further ahead, or behind (a clock that stepped back): nothing counted is known to belong to the windows
  // that matter now.
  return WindowCounter{index, 0, 0};
}

RateLimitResult evaluateSlidingWindow(std::span<WindowCounter* const> counters,
                                      std::span<const WindowLimit> limits, std::uint32_t cost,
                                      std::int64_t now_ms) {
  RateLimitResult result;
  result.now_ms = now_ms;
  result.limits.resize(limits.size());

  PerLimit<bool> admitted(limits.size());
  for (std::size_t i = 0; i < limits.size(); ++i) {
    *counters[i] = rollWindowCounter(*counters[i], now_ms, limits[i].window.count());
    admitted[i] = WindowView{*counters[i], limits[i].requests, limits[i].window.count(), now_ms}.admits(cost);
    result.allowed = result.allowed && admitted[i];
  }

  if (result.allowed) {
    for (std::size_t i = 0; i < limits.size(); ++i) {
      const bool seen_before = std::find(counters.begin(), counters.begin() + static_cast<std::ptrdiff_t>(i),
                                         counters[i]) != counters.begin() + static_cast<std::ptrdiff_t>(i);
      if (!seen_before) counters[i]->current += cost;
    }
  }

  std::int64_t admission_time = now_ms;
  bool never = false;
  std::int64_t longest_window = 0;
  for (std::size_t i = 0; i < limits.size(); ++i) {
    const WindowView view{*counters[i], limits[i].requests, limits[i].window.count(), now_ms};
    result.limits[i] =
        LimitState{limits[i].requests, admitted[i] ? view.remaining() : 0, Millis{view.resetAfter()}};
    longest_window = std::max(longest_window, view.window_ms);
    if (!result.allowed) {
      const std::optional<std::int64_t> at = view.admissionTime(cost);
      if (at) admission_time = std::max(admission_time, *at);
      never = never || !at;
    }
  }
  if (!result.allowed) result.retry_after = Millis{never ? longest_window : admission_time - now_ms};
  return result;
}

Millis slidingWindowTimeToLive(const WindowCounter& counter, std::int64_t now_ms, std::int64_t window_ms) {
  return Millis{std::max<std::int64_t>(0, (counter.window_index + 2) * window_ms - now_ms)};
}

}  // namespace gatehouse::store
