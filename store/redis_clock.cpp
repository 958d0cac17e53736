#include "store/redis_clock.h"

#include <chrono>
#include <cstdlib>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>

#include "store/decimal_text.h"

namespace gatehouse::store {
namespace {

std::optional<std::int64_t> readInteger(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::String) return std::nullopt;
  const std::optional<std::int64_t> value = parseDecimal(reply.str);
  if (!value || *value < 0) return std::nullopt;
  return value;
}

std::int64_t systemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<std::int64_t> parseRedisTime(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::Array || reply.elements.size() != 2) return std::nullopt;
  const std::optional<std::int64_t> seconds = readInteger(reply.elements[0]);
  const std::optional<std::int64_t> micros = readInteger(reply.elements[1]);
  if (!seconds || !micros || *micros >= 1'000'000) return std::nullopt;
  return *seconds * 1000 + *micros / 1000;
}

RedisClock::RedisClock(LocalClock local, bool follow_redis)
    : local_(local ? std::move(local) : LocalClock(systemClockMs)),
      follow_redis_(follow_redis),
      state_(std::make_shared<State>()) {}

void RedisClock::refreshIfDue(RedisClient& client) {
  if (!follow_redis_ || state_->in_flight) return;
  const std::int64_t sent = local_();
  if (sent < state_->next_attempt_ms) return;
  state_->in_flight = true;
  state_->next_attempt_ms = sent + kRetryIntervalMs;  // until it answers
  client.command({"TIME"}, [state = state_, local = local_, sent](StoreStatus status,
                                                                  const RedisReply& reply) {
    state->in_flight = false;
    const std::optional<std::int64_t> redis_ms =
        status == StoreStatus::Ok ? parseRedisTime(reply) : std::optional<std::int64_t>{};
    if (!redis_ms) return;  // retried kRetryIntervalMs after the attempt
    const std::int64_t received = local();
    const std::int64_t offset = *redis_ms - (sent + received) / 2;
    if (!state->measured && std::abs(offset) > kReportedOffsetMs) {
      spdlog::warn(
          "this host's clock is {} ms {} Redis's: rate-limit windows follow Redis's clock (keep the hosts' "
          "clocks in step with NTP)",
          std::abs(offset), offset > 0 ? "behind" : "ahead of");
    }
    state->offset_ms = offset;
    state->measured = true;
    state->next_attempt_ms = received + kRefreshIntervalMs;
  });
}

}  // namespace gatehouse::store
