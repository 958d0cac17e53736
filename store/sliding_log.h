// The sliding log: the exact rate-limit algorithm. Every admitted request is remembered with its time; a
// request of cost c is admitted when the requests of the last W ms, (now - W, now], plus c stay within the
// limit, for every limit of the check, and only then logged in every limit. Exact, at the price of memory
// proportional to the limit (here one entry per distinct millisecond, so a burst in one millisecond is one
// entry).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>

#include "store/store.h"

namespace gatehouse::store {

// The requests of one limit, oldest first.
class RequestLog {
 public:
  // Forgets the requests made at or before cutoff_ms: they have left the window (now - W, now].
  void forgetUpTo(std::int64_t cutoff_ms);
  // Logs `cost` requests at at_ms. A time before the newest entry (a clock that stepped back) is logged as
  // the newest time: the entry then leaves the window later, never earlier, than it should.
  void add(std::int64_t at_ms, std::uint64_t cost);

  std::uint64_t count() const { return count_; }
  bool empty() const { return entries_.empty(); }
  std::optional<std::int64_t> newest() const;
  // The time of the n-th oldest logged request, 1 <= n <= count().
  std::int64_t nthOldest(std::uint64_t n) const;

 private:
  struct Entry {
    std::int64_t at_ms;
    std::uint64_t requests;
  };
  std::deque<Entry> entries_;
  std::uint64_t count_ = 0;
};

// Checks one request against every limit (logs[i] holds the requests of limits[i]; entries that left the
// window are forgotten in place) and logs it in all of them when all admit. A log that appears twice is
// written once. Per limit:
//   remaining   = limit - requests in the window after this request; 0 for a limit that rejected it;
//   reset_after = until the newest logged request leaves the window (the whole quota is free again); 0 when
//   empty.
// When rejected, retry_after = the latest over the limits of the time when enough of the oldest requests have
// left the window for this cost to fit (a request made at t leaves it at t + W). A cost larger than a limit
// is never admitted; retry_after is then the longest window of the check. Preconditions (checked by the
// stores): limits is not empty and every window is > 0.
RateLimitResult evaluateSlidingLog(std::span<RequestLog* const> logs, std::span<const WindowLimit> limits,
                                   std::uint32_t cost, std::int64_t now_ms);

// How long the log still matters: until its newest request leaves the window.
Millis slidingLogTimeToLive(const RequestLog& log, std::int64_t now_ms, std::int64_t window_ms);

}  // namespace gatehouse::store
