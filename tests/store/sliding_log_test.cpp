// The sliding log's exact counting against an injected clock.
#include "store/sliding_log.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "tests/store/window_check.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;

using Check = testing::WindowCheck<RequestLog, evaluateSlidingLog>;

TEST(SlidingLog, CountsExactlyTheRequestsOfTheLastWindow) {
  Check check({{3, 1s}});
  EXPECT_TRUE(check.at(0).allowed);
  EXPECT_TRUE(check.at(100).allowed);
  const RateLimitResult third = check.at(200);
  EXPECT_TRUE(third.allowed);
  EXPECT_EQ(third.limits[0].remaining, 0u);

  const RateLimitResult rejected = check.at(300);
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.retry_after, 700ms)
      << "the request made at 0 leaves the window (t - 1000, t] at t = 1000";
  EXPECT_FALSE(check.wouldAdmit(999));
  EXPECT_TRUE(check.at(1000).allowed);
  EXPECT_FALSE(check.wouldAdmit(1099));
  EXPECT_TRUE(check.wouldAdmit(1100));
}

TEST(SlidingLog, NoBurstAcrossAWindowBoundary) {
  // Unlike fixed or two-window counters, a burst at the end of one window and one at the start of the next
  // are seen together.
  Check check({{100, 60s}});
  EXPECT_EQ(check.burst(59'999, 150), 100);
  EXPECT_EQ(check.burst(60'000, 150), 0);
  EXPECT_EQ(check.burst(119'998, 150), 0);
  EXPECT_EQ(check.burst(119'999, 150), 100);
}

TEST(SlidingLog, RejectedRequestsAreNotLogged) {
  Check check({{2, 1s}});
  EXPECT_EQ(check.burst(10, 2), 2);
  EXPECT_EQ(check.burst(20, 30), 0);
  EXPECT_EQ(check.state(0).count(), 2u);
  EXPECT_TRUE(check.wouldAdmit(1010));
}

TEST(SlidingLog, EveryLimitMustAdmitAndCostCountsAsThatManyRequests) {
  Check check({{10, 1s}, {4, 100ms}});
  const RateLimitResult first = check.at(0, 3);
  ASSERT_TRUE(first.allowed);
  EXPECT_EQ(first.limits[0].remaining, 7u);
  EXPECT_EQ(first.limits[1].remaining, 1u);
  const RateLimitResult rejected = check.at(50, 2);
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.limits[0].remaining, 7u);
  EXPECT_EQ(rejected.limits[1].remaining, 0u);
  EXPECT_EQ(rejected.retry_after, 50ms) << "the three requests made at 0 leave the 100 ms window at 100";
  EXPECT_EQ(check.burst(100, 5, 2), 2) << "then 2 x 2 fill the 100 ms limit again";
  EXPECT_EQ(check.state(0).count(), 7u);
}

TEST(SlidingLog, CostAboveTheLimitIsNeverAdmitted) {
  Check check({{2, 1s}, {50, 10s}});
  const RateLimitResult result = check.at(0, 3);
  EXPECT_FALSE(result.allowed);
  EXPECT_EQ(result.retry_after, 10s);
}

TEST(SlidingLog, ResetAfterLastsUntilTheNewestRequestLeavesTheWindow) {
  Check check({{5, 1s}});
  EXPECT_EQ(check.at(100).limits[0].reset_after, 1000ms);
  EXPECT_EQ(check.at(400).limits[0].reset_after, 1000ms);
  EXPECT_EQ(check.at(900, 10).limits[0].reset_after, 500ms)
      << "rejected: the newest logged request is at 400";
  EXPECT_EQ(slidingLogTimeToLive(check.state(0), 900, 1000), 500ms);
  EXPECT_EQ(Check({{5, 1s}}).at(0, 10).limits[0].reset_after, 0ms);
}

TEST(SlidingLog, RequestLogKeepsOneEntryPerMillisecondAndForgetsByTime) {
  RequestLog log;
  log.add(10, 2);
  log.add(10, 3);
  log.add(20, 1);
  log.add(15, 1);  // a clock that stepped back: logged at the newest time
  EXPECT_EQ(log.count(), 7u);
  EXPECT_EQ(log.nthOldest(5), 10);
  EXPECT_EQ(log.nthOldest(6), 20);
  log.forgetUpTo(10);
  EXPECT_EQ(log.count(), 2u);
  EXPECT_EQ(log.newest(), 20);
  log.forgetUpTo(20);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(log.newest(), std::nullopt);
}

TEST(SlidingLog, RetryAfterIsTheExactEarliestAdmissionTime) {
  std::mt19937_64 random(99);
  int rejections = 0;
  for (int history = 0; history < 300; ++history) {
    Check check({{6, 1s}, {15, 3s}});
    std::int64_t now = std::uniform_int_distribution<std::int64_t>(0, 5000)(random);
    for (int step = 0; step < 60; ++step) {
      now += std::uniform_int_distribution<std::int64_t>(0, 120)(random);
      const auto cost = static_cast<std::uint32_t>(std::uniform_int_distribution<int>(1, 3)(random));
      Check before = check;
      const RateLimitResult result = check.at(now, cost);
      if (result.allowed) continue;
      ++rejections;
      const std::int64_t admitted_at = now + result.retry_after.count();
      ASSERT_GT(result.retry_after, 0ms);
      ASSERT_TRUE(before.wouldAdmit(admitted_at, cost)) << "history " << history << " step " << step;
      ASSERT_FALSE(before.wouldAdmit(admitted_at - 1, cost)) << "history " << history << " step " << step;
    }
  }
  EXPECT_GT(rejections, 1000);
}

}  // namespace
}  // namespace gatehouse::store
