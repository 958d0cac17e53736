// The sliding window follows Redis's clock, not the host's (store/redis_clock.h): a host whose clock is an
// hour off counts in the windows every other instance counts in once its first TIME has answered; TIME goes
// out at most once per refresh interval; a store told to keep its own clock never asks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>

#include "store/redis_clock.h"
#include "store/redis_sliding_window.h"
#include "store/redis_store.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_client.h"
#include "tests/support/run_until.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;
using gatehouse::testing::RedisServer;

constexpr std::int64_t kHourMs = 3'600'000;

std::int64_t systemMs() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t redisMs(const RedisServer& server) {
  const std::optional<std::int64_t> now = parseRedisTime(server.command({"TIME"}));
  EXPECT_TRUE(now.has_value());
  return now.value_or(0);
}

// How many TIME commands Redis ran, from INFO commandstats.
std::int64_t timeCalls(const RedisServer& server) {
  const std::string info = server.command({"INFO", "commandstats"}).str;
  const std::string marker = "cmdstat_time:calls=";
  const auto at = info.find(marker);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + marker.size()));
}

class RedisClockTest : public ::testing::Test {
 protected:
  std::unique_ptr<RedisStore> storeWith(RedisClock clock) {
    return std::make_unique<RedisStore>(
        gatehouse::testing::connectedClient(io_, gatehouse::testing::optionsFor(server_)), std::move(clock));
  }

  RateLimitResult check(RedisStore& store, const RateLimitCheck& request) {
    RateLimitResult out;
    bool done = false;
    store.checkRateLimit(request, [&](RateLimitResult result) {
      out = std::move(result);
      done = true;
    });
    EXPECT_TRUE(gatehouse::testing::runUntil(
        io_, [&] { return done; }, 5s));
    return out;
  }

  void stop(RedisStore& store) {
    store.client().stop();
    gatehouse::testing::runFor(io_, 10ms);
  }

  RedisServer server_;
  boost::asio::io_context io_;
};

TEST_F(RedisClockTest, AHostAnHourBehindCountsInRedissWindowsOnceTimeHasAnswered) {
  auto store = storeWith(RedisClock([] { return systemMs() - kHourMs; }, true));
  const RateLimitCheck request{"skewed", RateLimitAlgorithm::SlidingWindow, {{100, 60s}}, 1};

  const RateLimitResult first = check(*store, request);  // sends TIME ahead of its own commands
  ASSERT_EQ(first.status, StoreStatus::Ok);
  ASSERT_TRUE(store->clock().measured()) << "TIME left in the same write as the check, so it answered first";
  EXPECT_NEAR(static_cast<double>(store->clock().offsetMs()), static_cast<double>(kHourMs), 1000.0);

  const RateLimitResult second = check(*store, request);
  ASSERT_EQ(second.status, StoreStatus::Ok);
  const std::int64_t redis_now = redisMs(server_);
  EXPECT_NEAR(static_cast<double>(second.now_ms), static_cast<double>(redis_now), 1000.0)
      << "decided on Redis's clock, not the host's";
  // Counted in the window Redis's clock is in (the test's commands take far less than the minute it spans).
  const std::string key = RedisSlidingWindow::counterKey("skewed", 60s, second.now_ms / 60'000);
  EXPECT_EQ(second.now_ms / 60'000, redis_now / 60'000);
  EXPECT_EQ(server_.command({"GET", key}).str, "1");
  stop(*store);
}

TEST_F(RedisClockTest, TimeIsAskedAtMostOncePerRefreshInterval) {
  std::int64_t local_ms = systemMs();
  auto store = storeWith(RedisClock([&] { return local_ms; }, true));
  const RateLimitCheck request{"paced", RateLimitAlgorithm::SlidingWindow, {{1000, 1s}}, 1};
  const std::int64_t before = timeCalls(server_);

  ASSERT_EQ(check(*store, request).status, StoreStatus::Ok);
  EXPECT_EQ(timeCalls(server_) - before, 1);
  local_ms += RedisClock::kRefreshIntervalMs / 2;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(check(*store, request).status, StoreStatus::Ok);
  EXPECT_EQ(timeCalls(server_) - before, 1) << "within the interval, no second TIME";
  local_ms += RedisClock::kRefreshIntervalMs;
  ASSERT_EQ(check(*store, request).status, StoreStatus::Ok);
  EXPECT_EQ(timeCalls(server_) - before, 2) << "past it, one more";
  stop(*store);
}

TEST_F(RedisClockTest, AStoreThatKeepsItsOwnClockNeverAsks) {
  auto store = storeWith(RedisClock([] { return systemMs() - kHourMs; }, false));
  const std::int64_t before = timeCalls(server_);
  const RateLimitResult result = check(*store, {"own", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 1});
  ASSERT_EQ(result.status, StoreStatus::Ok);
  EXPECT_EQ(timeCalls(server_), before);
  EXPECT_FALSE(store->clock().measured());
  EXPECT_NEAR(static_cast<double>(result.now_ms), static_cast<double>(systemMs() - kHourMs), 1000.0);
  stop(*store);
}

RedisReply text(std::string value) {
  return RedisReply{RedisReply::Type::String, 0, std::move(value), {}};
}

TEST(RedisTime, OnlyTwoDecimalNumbersAreATime) {
  EXPECT_EQ(parseRedisTime(RedisReply{RedisReply::Type::Array, 0, {}, {text("1764000000"), text("123999")}}),
            std::optional<std::int64_t>(1'764'000'000'123));
  EXPECT_FALSE(parseRedisTime(RedisReply{RedisReply::Type::Array, 0, {}, {text("1764000000")}}));
  EXPECT_FALSE(parseRedisTime(RedisReply{RedisReply::Type::Array, 0, {}, {text("17x"), text("0")}}));
  EXPECT_FALSE(parseRedisTime(RedisReply{RedisReply::Type::Array, 0, {}, {text("1"), text("1000000")}}));
  EXPECT_FALSE(parseRedisTime(RedisReply{RedisReply::Type::Error, 0, "ERR", {}}));
}

}  // namespace
}  // namespace gatehouse::store
