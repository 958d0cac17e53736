// The sliding-window counter's math against an injected clock: admissions, the previous window's weight,
// window rollover, several limits at once, costs, and honest retry_after / reset_after values.
#include "store/sliding_window.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "tests/store/window_check.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;

using Check = testing::WindowCheck<WindowCounter, evaluateSlidingWindow>;

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;

TEST(SlidingWindow, AdmitsUpToTheLimitInAnEmptyWindowWithDecreasingRemaining) {
  Check check({{5, 1s}});
  for (std::uint64_t expected_remaining = 4;; --expected_remaining) {
    const RateLimitResult result = check.at(10 * kSecond + 200);
    ASSERT_TRUE(result.allowed);
    ASSERT_EQ(result.limits.size(), 1u);
    EXPECT_EQ(result.limits[0].limit, 5u);
    EXPECT_EQ(result.limits[0].remaining, expected_remaining);
    EXPECT_EQ(result.retry_after, 0ms);
    EXPECT_EQ(result.now_ms, 10 * kSecond + 200);
    if (expected_remaining == 0) break;
  }
  const RateLimitResult rejected = check.at(10 * kSecond + 200);
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.limits[0].remaining, 0u);
}

TEST(SlidingWindow, PreviousWindowWeighsByItsOverlapWithTheLastWindowLength) {
  Check check({{10, 1s}});
  EXPECT_EQ(check.burst(1 * kSecond, 10), 10);
  // Half-way through the next window, half of the previous window's 10 requests still count.
  EXPECT_EQ(check.burst(2 * kSecond + 500, 20), 5);
  // A quarter into the window after that: the previous window (5) weighs 3.75, so 6 more fit (3.75 + 6 <=
  // 10).
  EXPECT_EQ(check.burst(3 * kSecond + 250, 20), 6);
}

TEST(SlidingWindow, CountsRollOverAtTheWindowBoundaryAndVanishAfterTwoWindows) {
  Check check({{3, 1s}});
  EXPECT_EQ(check.burst(kSecond - 1, 3), 3);
  EXPECT_FALSE(check.wouldAdmit(kSecond - 1));
  // At the first millisecond of the next window the previous 3 weigh 3 * 999/1000: still full.
  EXPECT_FALSE(check.wouldAdmit(kSecond + 1));
  // A whole window later, nothing of them is left.
  EXPECT_EQ(check.burst(3 * kSecond, 5), 3);
  EXPECT_EQ(check.state(0).window_index, 3);
  EXPECT_EQ(check.state(0).previous, 0u);
}

TEST(SlidingWindow, RejectedRequestsAreNotCounted) {
  Check check({{2, 1s}});
  EXPECT_EQ(check.burst(500, 2), 2);
  EXPECT_EQ(check.burst(600, 50), 0);
  EXPECT_EQ(check.state(0).current, 2u);
  // A client that kept hammering is admitted as soon as one that waited would be.
  Check patient({{2, 1s}});
  EXPECT_EQ(patient.burst(500, 2), 2);
  for (std::int64_t t = 1000; t < 3000; t += 7) EXPECT_EQ(check.wouldAdmit(t), patient.wouldAdmit(t)) << t;
}

TEST(SlidingWindow, EveryLimitMustAdmitAndAnAdmittedRequestCountsInEveryLimit) {
  // The example policy: 100 per minute, at most 10 per second.
  Check check({{100, 60s}, {10, 1s}});
  const RateLimitResult first = check.at(0);
  EXPECT_EQ(first.limits[0].remaining, 99u);
  EXPECT_EQ(first.limits[1].remaining, 9u);

  EXPECT_EQ(check.burst(0, 20), 9);  // the per-second limit stops the burst
  const RateLimitResult rejected = check.at(0);
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.limits[0].remaining, 90u) << "the minute limit admits: its real remaining is reported";
  EXPECT_EQ(rejected.limits[1].remaining, 0u) << "the limit that rejected reports 0";
  EXPECT_EQ(check.state(0).current, 10u) << "the rejected requests did not count in the minute limit either";

  // Ten requests a second for the rest of the minute: the minute limit closes after 100 in all.
  int admitted = 10;
  for (std::int64_t second = 2; second < 60; second += 2) admitted += check.burst(second * kSecond, 10);
  EXPECT_EQ(admitted, 100);
  const RateLimitResult closed = check.at(59 * kSecond);
  EXPECT_FALSE(closed.allowed);
  EXPECT_EQ(closed.limits[0].remaining, 0u);
}

TEST(SlidingWindow, CostCountsAsThatManyRequests) {
  Check check({{10, 1s}});
  EXPECT_TRUE(check.at(100, 4).allowed);
  const RateLimitResult second = check.at(100, 4);
  EXPECT_TRUE(second.allowed);
  EXPECT_EQ(second.limits[0].remaining, 2u);
  EXPECT_FALSE(check.at(100, 4).allowed) << "8 + 4 > 10";
  const RateLimitResult fits = check.at(100, 2);
  EXPECT_TRUE(fits.allowed);
  EXPECT_EQ(fits.limits[0].remaining, 0u);
}

TEST(SlidingWindow, CostAboveTheLimitIsNeverAdmittedAndRetriesAfterTheLongestWindow) {
  Check check({{3, 1s}, {100, 60s}});
  const RateLimitResult result = check.at(0, 4);
  EXPECT_FALSE(result.allowed);
  EXPECT_EQ(result.retry_after, 60s);
  EXPECT_FALSE(check.wouldAdmit(10 * kMinute, 4));
}

TEST(SlidingWindow, ResetAfterIsTheTimeUntilTheWholeQuotaIsFreeAgain) {
  Check check({{10, 1s}});
  // Counted in window 2 at elapsed 300: it weighs in until the end of window 3.
  EXPECT_EQ(check.at(2 * kSecond + 300).limits[0].reset_after, 1700ms);
  // Seen from window 3 only the previous count is left: free at the end of window 3.
  Check only_previous = check;
  EXPECT_EQ(only_previous.at(3 * kSecond + 100, 100).limits[0].reset_after, 900ms);
  EXPECT_EQ(Check({{10, 1s}}).at(5 * kSecond, 100).limits[0].reset_after, 0ms)
      << "nothing counted, nothing to reset";
}

TEST(SlidingWindow, TimeToLiveEndsWhenTheCountsStopMattering) {
  WindowCounter counter{4, 3, 1};
  EXPECT_EQ(slidingWindowTimeToLive(counter, 4 * kSecond + 250, kSecond), 1750ms);
}

TEST(SlidingWindow, ALimitListedTwiceWithOneCounterCountsOnce) {
  const std::vector<WindowLimit> limits{{5, 1s}, {5, 1s}};
  WindowCounter shared;
  const std::vector<WindowCounter*> counters{&shared, &shared};
  EXPECT_TRUE(evaluateSlidingWindow(counters, limits, 1, 0).allowed);
  EXPECT_EQ(shared.current, 1u);
}

TEST(SlidingWindow, WorstCaseBurstAtTheEndOfTwoWindowsAdmitsJustUnderTwiceTheLimit) {
  // The documented worst case: 100 at 59.999 s and 99 more at 119.998 s, 199 within one minute; never 200.
  Check check({{100, 60s}});
  EXPECT_EQ(check.burst(kMinute - 1, 150), 100);
  EXPECT_EQ(check.burst(2 * kMinute - 2, 150), 99);
  // The second burst then weighs in fully: the third window opens nearly closed.
  EXPECT_EQ(check.burst(2 * kMinute, 150), 1);
}

// retry_after is honest: at now + retry_after the same request is admitted, one millisecond earlier it is
// not. Checked over many random histories with two limits and costs of 1 to 3.
TEST(SlidingWindow, RetryAfterIsTheExactEarliestAdmissionTime) {
  std::mt19937_64 random(20240601);
  int rejections = 0;
  for (int history = 0; history < 300; ++history) {
    Check check({{7, 1s}, {20, 5s}});
    std::int64_t now = std::uniform_int_distribution<std::int64_t>(0, 10 * kSecond)(random);
    for (int step = 0; step < 60; ++step) {
      now += std::uniform_int_distribution<std::int64_t>(0, 150)(random);
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
  EXPECT_GT(rejections, 1000) << "the histories must exercise rejections";
}

// The remaining count is what the headers promise: exactly that many more requests fit right now.
TEST(SlidingWindow, RemainingIsExactlyTheNumberOfFurtherRequestsThatFitNow) {
  std::mt19937_64 random(7);
  for (int history = 0; history < 200; ++history) {
    Check check({{9, 1s}, {25, 4s}});
    std::int64_t now = 0;
    for (int step = 0; step < 40; ++step) {
      now += std::uniform_int_distribution<std::int64_t>(0, 300)(random);
      const RateLimitResult result = check.at(now);
      if (!result.allowed) continue;
      const std::uint64_t remaining = std::min(result.limits[0].remaining, result.limits[1].remaining);
      Check probe = check;
      ASSERT_EQ(static_cast<std::uint64_t>(probe.burst(now, 100)), remaining) << "history " << history;
    }
  }
}

}  // namespace
}  // namespace gatehouse::store
