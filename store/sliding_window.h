// The sliding-window counter: the default rate-limit algorithm. O(1) state per limit (two counts), O(1) work.
//
// Time is cut into fixed windows of W ms aligned on the epoch; window i covers [i*W, (i+1)*W). A limit keeps
// the count of the current window and of the one before. At `now`, with elapsed = now - i*W, the number of
// requests "in the last W ms" is estimated by assuming the previous window's requests were spread evenly over
// it:
//
//     estimate = previous * (W - elapsed) / W + current
//
// A request of cost c is admitted only when estimate + c <= limit for every limit of the check, and only then
// counted (current += c) in every limit: a rejected request costs nothing, so a client that keeps hammering a
// closed limit is not locked out for longer than one that waits.
//
// Worst case: the estimate is an approximation that errs on the generous side when traffic is bunched at the
// end of a window. A client that sends `limit` requests in the last millisecond of window i-1 sees them
// weighted by (W - elapsed)/W in window i, so in the last millisecond of window i almost nothing of them is
// left and it may send almost `limit` more: close to 2 * limit within W ms (100/60 s: 100 requests at 59.999
// s, 99 more at 119.998 s). It cannot repeat that in window i+1 (its second burst then weighs in fully), and
// since no window ever counts more than `limit` and a W-long interval overlaps at most two windows, 2 * limit
// in W ms is the hard bound. For evenly spread traffic the estimate is exact. Use sliding_log when the bound
// must be exact.
//
// Everything here is integer arithmetic on "scaled" values (counts multiplied by W): exact, and the same in
// both stores, which run this code (the Redis store on the counts its commands return:
// store/redis_sliding_window.h).
#pragma once

#include <cstdint>
#include <span>

#include "store/store.h"

namespace gatehouse::store {

// The counts of one limit. Window indexes are floor(epoch_ms / W).
struct WindowCounter {
  std::int64_t window_index = 0;
  std::uint64_t current = 0;   // requests counted in window `window_index`
  std::uint64_t previous = 0;  // requests counted in window `window_index - 1`
};

// The same counts seen from the window that contains now_ms: unchanged in the same window, current becomes
// previous one window later, and both are zero after that.
WindowCounter rollWindowCounter(const WindowCounter& counter, std::int64_t now_ms, std::int64_t window_ms);

// Checks one request against every limit (counters[i] holds the counts of limits[i]; they are rolled to
// now_ms in place) and counts it in all of them when all admit. A counter that appears twice (two limits with
// one key) is counted once. Returns the verdict with, per limit:
//   remaining   = floor(limit - estimate) after this request; 0 for a limit that rejected it;
//   reset_after = the time until the limit's whole quota is free again when no further request is counted:
//   until
//                 `current` has decayed to nothing at the end of the next window ((i+2)*W - now), or when
//                 only `previous` is left, until the end of this window ((i+1)*W - now); 0 when both are
//                 zero.
// and, when rejected, retry_after = the earliest time from now at which a request of this cost is admitted by
// every limit (the estimate only falls as time passes, so this is the latest of the per-limit earliest
// times). A cost larger than a limit is never admitted; retry_after is then the longest window of the check.
// Preconditions (checked by the stores): limits is not empty and every window is > 0.
RateLimitResult evaluateSlidingWindow(std::span<WindowCounter* const> counters,
                                      std::span<const WindowLimit> limits, std::uint32_t cost,
                                      std::int64_t now_ms);

// How long the counter still matters: after (i+2)*W it rolls to zero, so a store may expire it then.
Millis slidingWindowTimeToLive(const WindowCounter& counter, std::int64_t now_ms, std::int64_t window_ms);

}  // namespace gatehouse::store
