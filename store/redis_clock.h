// Redis's clock as one worker sees it: its own clock plus an offset measured with TIME. The sliding window
// cuts its windows on this clock, so that Gatehouse instances whose clocks disagree (a host without NTP, a
// container started with a skewed clock) still count in the same windows, as they did when a Lua script read
// TIME.
//
// The offset is measured by sending TIME in the same write as a rate-limit check, at most once every
// kRefreshInterval (and kRetryInterval after a failed attempt): offset = redis_time - (sent + received) / 2,
// off by at most half a round trip. Until the first answer the local clock is used as it is. Each worker
// keeps its own, on its own event loop; nothing is shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "store/redis_client.h"

namespace gatehouse::store {

class RedisClock {
 public:
  using LocalClock = std::function<std::int64_t()>;  // epoch milliseconds
  static constexpr std::int64_t kRefreshIntervalMs = 10'000;
  static constexpr std::int64_t kRetryIntervalMs = 1'000;
  // Past this, the first measurement is logged: the host's clock is that far from Redis's.
  static constexpr std::int64_t kReportedOffsetMs = 1'000;

  // local empty: the system clock. follow_redis = false: the local clock is taken as it is (tests that set
  // the time themselves).
  explicit RedisClock(LocalClock local = {}, bool follow_redis = true);

  std::int64_t nowMs() const { return local_() + state_->offset_ms; }

  // Sends TIME on `client` when a measurement is due; call it just before the commands it should travel with.
  void refreshIfDue(RedisClient& client);

  // The offset applied (0 until the first measurement).
  std::int64_t offsetMs() const { return state_->offset_ms; }
  bool measured() const { return state_->measured; }

 private:
  struct State {
    std::int64_t offset_ms = 0;
    bool measured = false;
    bool in_flight = false;
    std::int64_t next_attempt_ms = 0;  // local clock
  };

  LocalClock local_;
  bool follow_redis_;
  // Shared with the TIME callback, which may outlive this object.
  std::shared_ptr<State> state_;
};

// Redis's TIME reply ({seconds, microseconds} as strings) in epoch milliseconds; nullopt for any other reply.
std::optional<std::int64_t> parseRedisTime(const RedisReply& reply);

}  // namespace gatehouse::store
