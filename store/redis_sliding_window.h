// The sliding-window check in Redis, as plain commands pipelined in one round trip. For each counter of the
// check (one per distinct window), in one write:
//
//     INCRBY  gh:rl:{<key>}:sw:<W>:<i>    <cost>          count the request in the current window i
//     PEXPIRE gh:rl:{<key>}:sw:<W>:<i>    <(i+2)*W - now>  the counter matters until the next window ends
//     GET     gh:rl:{<key>}:sw:<W>:<i-1>                  the previous window's count
//
// then the verdict is store/sliding_window.h's math on those counts (the count before this request is the
// INCRBY's answer minus the cost), exactly as the memory store computes it. A rejected request takes its cost
// back (DECRBY, with the PEXPIRE again in case the key expired meanwhile), without waiting for the answer:
// as in the memory store, a rejected request is not counted.
//
// Why not a Lua script: Redis spends about 4 µs on an EVALSHA before its script does anything (measured here:
// the script cut down to TIME and a return), while INCRBY, PEXPIRE and GET cost about 1 µs each. The script
// was two thirds of Redis's CPU per rate-limited request, and Redis's CPU sits on the path of every one.
//
// What that gives up:
// - The check and the count are not one atomic step. Counting first and deciding after never admits more
//   than the atomic script did: each admitted request saw a count that includes itself and every request
//   counted before it. It may refuse a request the script would have admitted, while the cost of a
//   concurrently rejected request is not yet taken back (for one round trip).
// - Windows are cut on Gatehouse's estimate of Redis's clock (store/redis_clock.h: the local clock plus an
//   offset measured with TIME every 10 s), not on Redis's clock itself: instances agree within half a round
//   trip, and until a worker's first TIME answer it uses its own clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/rate_limit_keys.h"
#include "store/redis_client.h"
#include "store/redis_clock.h"
#include "store/store.h"

namespace gatehouse::store {

class RedisSlidingWindow {
 public:
  explicit RedisSlidingWindow(RedisClock clock);
  ~RedisSlidingWindow();
  RedisSlidingWindow(const RedisSlidingWindow&) = delete;
  RedisSlidingWindow& operator=(const RedisSlidingWindow&) = delete;

  // Checks and counts on `client`; `check` must be valid (invalidCheckReason) and of the sliding window.
  // `done` runs once, on the client's event loop. The callbacks hold the checks in flight, not this object:
  // it may go away while they are pending.
  void check(RedisClient& client, const RateLimitCheck& check, RateLimitCallback done);

  // The key of window `window_index` of a counter: gh:rl:{<key>}:sw:<window ms>:<window index>.
  static std::string counterKey(std::string_view base_key, Millis window, std::int64_t window_index);

  const RedisClock& clock() const { return clock_; }

 private:
  class InFlight;

  RedisClock clock_;
  std::shared_ptr<InFlight> in_flight_;
  CheckKeys previous_keys_;  // the GET keys of the check being sent; reused
};

// The answer to one check's pipeline: 3 replies per counter (INCRBY, PEXPIRE, GET) in the order the counters
// first appear in `limits` (limits of one window share a counter). A reply of another shape, or an error
// reply, is an Error result.
RateLimitResult evaluateWindowReplies(const RedisReply& replies, const WindowLimits& limits,
                                      std::uint32_t cost, std::int64_t now_ms);

}  // namespace gatehouse::store
