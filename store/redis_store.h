// The Redis store: sessions and rate-limit counters shared by every Gatehouse instance. One RedisStore per
// worker, on the worker's event loop, over that worker's RedisClient; not thread-safe, like the client.
//
// One round trip per call: a session lookup is GET (plus PEXPIRE in the same pipeline write for a rolling
// session); a sliding-window check is INCRBY, PEXPIRE and GET per window in one pipeline write, decided on
// Gatehouse's estimate of Redis's clock (store/redis_sliding_window.h, store/redis_clock.h); a sliding-log
// check is one EVALSHA of a script that evaluates and counts every limit atomically on Redis's clock
// (store/lua/sliding_log.lua). Client failures map to StoreStatus: Timeout and Unavailable as the client
// reports them, an error reply (or a reply of an unexpected shape) to Error.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/rate_limit_keys.h"
#include "store/redis_client.h"
#include "store/redis_sliding_window.h"
#include "store/store.h"

namespace gatehouse::store {

class RedisStore final : public Store {
 public:
  // The store takes over the client's lifetime: destroying the store stops the client (pending calls complete
  // with Unavailable). Callbacks never refer to the store, so it may go away while calls are in flight.
  // `clock` cuts the sliding windows: by default the system clock, kept in step with Redis's TIME.
  explicit RedisStore(std::shared_ptr<RedisClient> client, RedisClock clock = RedisClock());
  // Several connections; `clients` must not be empty.
  explicit RedisStore(std::vector<std::shared_ptr<RedisClient>> clients, RedisClock clock = RedisClock());
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  void lookupSession(const SessionLookup& lookup, SessionCallback done) override;
  void checkRateLimit(const RateLimitCheck& check, RateLimitCallback done) override;
  void ping(StatusCallback done) override;

  RedisClient& client(std::size_t index = 0) { return *clients_.at(index); }
  const RedisClock& clock() const { return sliding_window_.clock(); }
  std::size_t connections() const { return clients_.size(); }

 private:
  // The next connection in turn that is connected; the next in turn when none is (it fails fast).
  RedisClient& pick();

  std::vector<std::shared_ptr<RedisClient>> clients_;
  std::size_t next_ = 0;
  RedisSlidingWindow sliding_window_;
  // The keys of the check being sent, one after another: the command is formatted before checkRateLimit
  // returns, so one buffer serves every check and keeps its capacity.
  CheckKeys check_keys_;
};

// Reads the reply of the sliding-log script: {allowed, retry_after_ms, now_ms, then remaining and reset_after
// per limit}. `limits` supplies each LimitState::limit. A reply of another shape is an Error result.
RateLimitResult parseRateLimitReply(const RedisReply& reply, const WindowLimits& limits);

}  // namespace gatehouse::store
