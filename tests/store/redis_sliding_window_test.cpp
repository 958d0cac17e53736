// The sliding window in Redis (store/redis_sliding_window.h) on a real redis-server, on a clock the test
// sets: the same verdicts, remaining, reset and retry times as the C++ math over random histories; one
// STRING counter per window that expires when it stops mattering; a rejected request's cost taken back; and
// replies of the wrong kind reported as errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "store/redis_sliding_window.h"
#include "store/redis_store.h"
#include "store/sliding_window.h"
#include "tests/store/random_histories.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_client.h"
#include "tests/support/run_until.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;
using gatehouse::testing::RedisServer;

constexpr std::int64_t kToday = 1'764'000'000'000;  // an epoch time in milliseconds, around 2025-11-24

class RedisSlidingWindowTest : public ::testing::Test {
 protected:
  RedisSlidingWindowTest()
      : store_(gatehouse::testing::connectedClient(io_, gatehouse::testing::optionsFor(server_)),
               RedisClock([this] { return now_ms_; }, /*follow_redis=*/false)) {}

  ~RedisSlidingWindowTest() override {
    store_.client().stop();
    gatehouse::testing::runFor(io_, 10ms);
  }

  RateLimitResult check(const RateLimitCheck& request) {
    RateLimitResult out;
    int calls = 0;
    store_.checkRateLimit(request, [&](RateLimitResult result) {
      out = std::move(result);
      ++calls;
    });
    EXPECT_TRUE(gatehouse::testing::runUntil(
        io_, [&] { return calls > 0; }, 5s));
    EXPECT_EQ(calls, 1);
    return out;
  }

  // Lets fire-and-forget commands (a rejection's DECRBY) reach Redis before the test reads it.
  void settle() {
    const gatehouse::testing::Outcome ping = gatehouse::testing::runCommand(io_, store_.client(), {"PING"});
    EXPECT_EQ(ping.status, StoreStatus::Ok);
  }

  std::string get(const std::string& key) { return server_.command({"GET", key}).str; }

  RedisServer server_;
  boost::asio::io_context io_;
  std::int64_t now_ms_ = kToday;
  RedisStore store_;
};

// Random histories (two limits with costs 1 to 3, or one limit with costs up to 6: above the limit at
// times, which is never admitted), steps of 0 to 150 ms across many window boundaries: Redis's answers and
// the C++ math's must be identical, step by step.
TEST_F(RedisSlidingWindowTest, RandomHistoriesGiveTheAnswersOfTheCppMath) {
  testing::compareRandomHistories<WindowCounter>(
      17, RateLimitAlgorithm::SlidingWindow, 1,
      [](auto pointers, const auto& limits, std::uint32_t cost, std::int64_t now) {
        return evaluateSlidingWindow(pointers, limits, cost, now);
      },
      [&](const RateLimitCheck& request, std::int64_t now) {
        now_ms_ = now;
        const RateLimitResult result = check(request);
        if (!result.allowed) settle();  // the cost taken back must be there before the next step reads
        return result;
      });
}

TEST_F(RedisSlidingWindowTest, EachWindowIsOneStringCounterThatExpiresWhenTheNextWindowEnds) {
  now_ms_ = std::int64_t{60'000} * 29'400'000 + 12'345;  // 12.345 s into a minute
  const std::int64_t index = now_ms_ / 60'000;
  const RateLimitResult first = check({"layout", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 3});
  ASSERT_TRUE(first.allowed);
  EXPECT_EQ(first.limits[0].remaining, 7u);
  EXPECT_EQ(first.now_ms, now_ms_) << "decided on the store's clock";

  const std::string key = RedisSlidingWindow::counterKey("layout", 60s, index);
  EXPECT_EQ(key, "gh:rl:{layout}:sw:60000:" + std::to_string(index));
  EXPECT_EQ(server_.command({"TYPE", key}).str, "string");
  EXPECT_EQ(get(key), "3");
  const std::int64_t pttl = server_.command({"PTTL", key}).integer;
  EXPECT_LE(pttl, 120'000 - 12'345);
  EXPECT_GT(pttl, 120'000 - 12'345 - 5'000) << "the end of the next window, counted from now";
  EXPECT_EQ(server_.command({"DBSIZE"}).integer, 1) << "reading the previous window creates nothing";

  now_ms_ += 1'000;
  ASSERT_TRUE(check({"layout", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 2}).allowed);
  EXPECT_EQ(get(key), "5");
}

TEST_F(RedisSlidingWindowTest, ThePreviousWindowsCountWeighsByTheTimeLeftOfIt) {
  now_ms_ =
      std::int64_t{60'000} * 29'400'000 + 15'000;  // a quarter into the window: the previous one weighs 3/4
  const std::int64_t index = now_ms_ / 60'000;
  server_.command({"SET", RedisSlidingWindow::counterKey("roll", 60s, index - 1), "8", "PX", "60000"});
  const RateLimitResult result = check({"roll", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 1});
  ASSERT_TRUE(result.allowed);
  EXPECT_EQ(result.limits[0].remaining, 3u) << "10 - (8 * 3/4 + 1)";
  EXPECT_EQ(result.limits[0].reset_after, 105'000ms) << "the end of the next window";

  const RateLimitResult refused = check({"roll", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 4});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limits[0].remaining, 0u);
  // Admitted once 8 * (60 - e) / 60 + 1 + 4 <= 10, i.e. at e = 22.5 s: 7.5 s from now.
  EXPECT_EQ(refused.retry_after, 7'500ms);
}

TEST_F(RedisSlidingWindowTest, ARejectedRequestTakesItsCostBack) {
  const RateLimitCheck request{"back", RateLimitAlgorithm::SlidingWindow, {{2, 60s}}, 1};
  const std::string key = RedisSlidingWindow::counterKey("back", 60s, now_ms_ / 60'000);
  ASSERT_TRUE(check(request).allowed);
  ASSERT_TRUE(check(request).allowed);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(check(request).allowed);
  settle();
  EXPECT_EQ(get(key), "2") << "only admitted requests stay counted";
  EXPECT_GT(server_.command({"PTTL", key}).integer, 0) << "and the counter keeps an expiry";

  // A request of a larger cost, rejected, takes back all of it; the quota then frees up as in the memory
  // store.
  now_ms_ += 60'000;
  EXPECT_FALSE(check({"back", RateLimitAlgorithm::SlidingWindow, {{2, 60s}}, 2}).allowed);
  settle();
  EXPECT_EQ(
      server_.command({"EXISTS", RedisSlidingWindow::counterKey("back", 60s, now_ms_ / 60'000)}).integer, 1);
  EXPECT_EQ(get(RedisSlidingWindow::counterKey("back", 60s, now_ms_ / 60'000)), "0");
}

TEST_F(RedisSlidingWindowTest, TwoLimitsOfOneWindowShareOneCounterAndCountARequestOnce) {
  const RateLimitCheck request{"twice", RateLimitAlgorithm::SlidingWindow, {{5, 60s}, {3, 60s}}, 1};
  WindowCounter expected;
  WindowCounter* const counters[] = {&expected, &expected};
  for (int i = 0; i < 4; ++i) {
    now_ms_ += 10;
    const RateLimitResult cpp = evaluateSlidingWindow(counters, request.limits, request.cost, now_ms_);
    testing::expectSameResult(check(request), cpp, "request " + std::to_string(i));
  }
  settle();
  EXPECT_EQ(expected.current, 3u) << "the fourth request was rejected by the limit of 3";
  EXPECT_EQ(get(RedisSlidingWindow::counterKey("twice", 60s, now_ms_ / 60'000)), "3");
  EXPECT_EQ(server_.command({"DBSIZE"}).integer, 1);
}

TEST_F(RedisSlidingWindowTest, ACounterKeyHoldingSomethingElseIsAnError) {
  const std::int64_t index = now_ms_ / 1'000;
  server_.command({"HSET", RedisSlidingWindow::counterKey("hash", 1s, index), "f", "v"});
  EXPECT_EQ(check({"hash", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1}).status, StoreStatus::Error);

  server_.command({"SET", RedisSlidingWindow::counterKey("text", 1s, index - 1), "many"});
  EXPECT_EQ(check({"text", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1}).status, StoreStatus::Error);
}

RedisReply integer(std::int64_t value) {
  return RedisReply{RedisReply::Type::Integer, value, {}, {}};
}

RedisReply text(std::string value) {
  return RedisReply{RedisReply::Type::String, 0, std::move(value), {}};
}

TEST(RedisSlidingWindowReplies, RepliesOfTheWrongShapeAreErrors) {
  const WindowLimits limits{{5, 1s}};
  RedisReply good{RedisReply::Type::Array, 0, {}, {integer(2), integer(1), text("3")}};
  const RateLimitResult parsed = evaluateWindowReplies(good, limits, 1, 10'500);
  ASSERT_EQ(parsed.status, StoreStatus::Ok);
  EXPECT_TRUE(parsed.allowed) << "3 of the previous window weigh half: 1.5 + 1 before this one + 1 <= 5";
  EXPECT_EQ(parsed.limits[0].remaining, 1u);

  RedisReply short_reply = good;
  short_reply.elements.pop_back();
  EXPECT_EQ(evaluateWindowReplies(short_reply, limits, 1, 10'500).status, StoreStatus::Error);

  RedisReply counted_as_text = good;
  counted_as_text.elements[0] = text("2");
  EXPECT_EQ(evaluateWindowReplies(counted_as_text, limits, 1, 10'500).status, StoreStatus::Error);

  RedisReply previous_not_a_number = good;
  previous_not_a_number.elements[2] = text("3x");
  EXPECT_EQ(evaluateWindowReplies(previous_not_a_number, limits, 1, 10'500).status, StoreStatus::Error);

  RedisReply failed_expiry = good;
  failed_expiry.elements[1] = RedisReply{RedisReply::Type::Error, 0, "ERR", {}};
  EXPECT_EQ(evaluateWindowReplies(failed_expiry, limits, 1, 10'500).status, StoreStatus::Error);

  RedisReply no_previous = good;
  no_previous.elements[2] = RedisReply{};
  const RateLimitResult fresh = evaluateWindowReplies(no_previous, limits, 1, 10'500);
  ASSERT_EQ(fresh.status, StoreStatus::Ok);
  EXPECT_EQ(fresh.limits[0].remaining, 3u);
}

}  // namespace
}  // namespace gatehouse::store
