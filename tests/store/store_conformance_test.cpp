// One suite, two stores: the memory store and a RedisStore on a real redis-server must give the same answers
// to the same calls. Redis's clock cannot be faked, so time-dependent cases use windows of about a second and
// bounded waits; the exact millisecond behaviour is covered on a fake clock by the sliding_* and memory_store
// tests.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "store/rate_limit_keys.h"
#include "tests/store/store_test_harness.h"

namespace gatehouse::store::testing {
namespace {

using namespace std::chrono_literals;
using gatehouse::testing::RedisServer;

std::int64_t systemNowMs() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  // One redis-server for the whole suite (each test starts from FLUSHALL on a fresh connection).
  static void SetUpTestSuite() { server_ = std::make_unique<RedisServer>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override { harness_ = std::make_unique<StoreHarness>(GetParam(), server_.get()); }
  void TearDown() override { harness_.reset(); }

  StoreHarness& store() { return *harness_; }

  static std::unique_ptr<RedisServer> server_;
  std::unique_ptr<StoreHarness> harness_;
};

std::unique_ptr<RedisServer> StoreConformance::server_;

TEST_P(StoreConformance, SlidingWindowAdmitsExactlyTheLimitOfABurst) {
  const RateLimitCheck request{"burst", RateLimitAlgorithm::SlidingWindow, {{5, 60s}}, 1};
  for (std::uint64_t expected_remaining : {4u, 3u, 2u, 1u, 0u}) {
    const RateLimitResult result = store().check(request);
    ASSERT_EQ(result.status, StoreStatus::Ok);
    EXPECT_TRUE(result.allowed);
    ASSERT_EQ(result.limits.size(), 1u);
    EXPECT_EQ(result.limits[0].limit, 5u);
    EXPECT_EQ(result.limits[0].remaining, expected_remaining);
    // Counted in this window: the quota is whole again when the next window ends.
    EXPECT_GT(result.limits[0].reset_after, 60s);
    EXPECT_LE(result.limits[0].reset_after, 120s);
    EXPECT_NEAR(static_cast<double>(result.now_ms), static_cast<double>(systemNowMs()), 5000.0);
  }
  for (int i = 0; i < 3; ++i) {
    const RateLimitResult rejected = store().check(request);
    ASSERT_EQ(rejected.status, StoreStatus::Ok);
    EXPECT_FALSE(rejected.allowed);
    EXPECT_EQ(rejected.limits[0].remaining, 0u);
    EXPECT_GT(rejected.retry_after, 0ms);
    EXPECT_LE(rejected.retry_after, 120s);
  }
}

TEST_P(StoreConformance, SlidingLogIsExactAndItsRetryAfterIsHonest) {
  const RateLimitCheck request{"log", RateLimitAlgorithm::SlidingLog, {{3, 2000ms}}, 1};
  for (std::uint64_t expected_remaining : {2u, 1u, 0u}) {
    const RateLimitResult result = store().check(request);
    ASSERT_EQ(result.status, StoreStatus::Ok);
    EXPECT_TRUE(result.allowed);
    EXPECT_EQ(result.limits[0].remaining, expected_remaining);
    EXPECT_EQ(result.limits[0].reset_after, 2000ms) << "the newest request is the one just made";
  }
  const RateLimitResult rejected = store().check(request);
  ASSERT_FALSE(rejected.allowed);
  EXPECT_GT(rejected.retry_after, 1500ms) << "the first request was made a moment ago";
  EXPECT_LE(rejected.retry_after, 2000ms);

  store().wait(rejected.retry_after - 500ms);
  EXPECT_FALSE(store().check(request).allowed) << "still before retry_after";
  store().wait(600ms);
  EXPECT_TRUE(store().check(request).allowed) << "after retry_after";
}

TEST_P(StoreConformance, EveryLimitMustAdmitAndRejectedRequestsAreNotCounted) {
  const RateLimitCheck request{"multi", RateLimitAlgorithm::SlidingWindow, {{3, 2s}, {5, 60s}}, 1};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store().check(request).allowed);
  for (int i = 0; i < 5; ++i) {
    const RateLimitResult rejected = store().check(request);
    ASSERT_EQ(rejected.status, StoreStatus::Ok);
    EXPECT_FALSE(rejected.allowed);
    ASSERT_EQ(rejected.limits.size(), 2u);
    EXPECT_EQ(rejected.limits[0].remaining, 0u);
    EXPECT_EQ(rejected.limits[1].remaining, 2u) << "the rejected requests did not count in the minute limit";
    EXPECT_EQ(rejected.limits[1].limit, 5u);
  }
}

TEST_P(StoreConformance, CostCountsAsThatManyRequestsInBothAlgorithms) {
  for (RateLimitAlgorithm algorithm : {RateLimitAlgorithm::SlidingWindow, RateLimitAlgorithm::SlidingLog}) {
    const RateLimitCheck request{"cost", algorithm, {{5, 60s}}, 2};
    EXPECT_EQ(store().check(request).limits[0].remaining, 3u);
    EXPECT_EQ(store().check(request).limits[0].remaining, 1u);
    EXPECT_FALSE(store().check(request).allowed);
    const RateLimitCheck single{"cost", algorithm, {{5, 60s}}, 1};
    const RateLimitResult last = store().check(single);
    EXPECT_TRUE(last.allowed);
    EXPECT_EQ(last.limits[0].remaining, 0u);
  }
}

TEST_P(StoreConformance, CostAboveTheLimitIsRejectedAndCountsNothing) {
  for (RateLimitAlgorithm algorithm : {RateLimitAlgorithm::SlidingWindow, RateLimitAlgorithm::SlidingLog}) {
    const RateLimitResult result = store().check({"huge", algorithm, {{2, 1s}, {9, 30s}}, 3});
    ASSERT_EQ(result.status, StoreStatus::Ok);
    EXPECT_FALSE(result.allowed);
    EXPECT_EQ(result.retry_after, 30s);
    // Nothing of the rejected cost is left: the whole of the smaller limit is still there.
    const RateLimitResult after = store().check({"huge", algorithm, {{2, 1s}, {9, 30s}}, 2});
    EXPECT_TRUE(after.allowed);
    EXPECT_EQ(after.limits[0].remaining, 0u);
    EXPECT_EQ(after.limits[1].remaining, 7u);
    // One limit alone: its window is the retry_after.
    const RateLimitResult alone = store().check({"huge-alone", algorithm, {{2, 5s}}, 3});
    ASSERT_EQ(alone.status, StoreStatus::Ok);
    EXPECT_FALSE(alone.allowed);
    EXPECT_EQ(alone.retry_after, 5s);
    EXPECT_TRUE(store().check({"huge-alone", algorithm, {{2, 5s}}, 2}).allowed);
  }
}

TEST_P(StoreConformance, EveryKeyACheckWroteExpires) {
  for (RateLimitAlgorithm algorithm : {RateLimitAlgorithm::SlidingWindow, RateLimitAlgorithm::SlidingLog}) {
    ASSERT_TRUE(store().check({"ttl", algorithm, {{10, 1s}, {100, 60s}}, 1}).allowed);
    const std::int64_t short_ttl = store().limitPttl("ttl", algorithm, 1s);
    const std::int64_t long_ttl = store().limitPttl("ttl", algorithm, 60s);
    EXPECT_GT(short_ttl, 0);
    EXPECT_LE(short_ttl, 2000);
    EXPECT_GT(long_ttl, 1000);
    EXPECT_LE(long_ttl, 120'000);
  }
}

TEST_P(StoreConformance, SessionsAreFoundMissingOrExpired) {
  store().putSession("sess:alive", R"({"user":{"username":"ada","role":"admin"}})", 10s);
  store().putSession("sess:short", "{}", 400ms);

  const StoredSession alive = store().lookup("sess:alive");
  ASSERT_EQ(alive.status, StoreStatus::Ok);
  EXPECT_TRUE(alive.found);
  EXPECT_EQ(alive.value, R"({"user":{"username":"ada","role":"admin"}})");

  const StoredSession missing = store().lookup("sess:missing");
  EXPECT_EQ(missing.status, StoreStatus::Ok);
  EXPECT_FALSE(missing.found);
  EXPECT_TRUE(missing.value.empty());

  EXPECT_TRUE(store().lookup("sess:short").found);
  store().wait(600ms);
  const StoredSession expired = store().lookup("sess:short");
  EXPECT_EQ(expired.status, StoreStatus::Ok);
  EXPECT_FALSE(expired.found);
}

TEST_P(StoreConformance, RollingTouchResetsTheTtl) {
  store().putSession("sess:roll", "{}", 10s);
  EXPECT_TRUE(store().lookup("sess:roll", 60s).found);
  // A PING answered after the lookup proves the touch (sent before it) was applied.
  EXPECT_EQ(store().ping(), StoreStatus::Ok);
  EXPECT_GT(store().pttl("sess:roll"), 55'000);
  EXPECT_LE(store().pttl("sess:roll"), 60'000);

  EXPECT_TRUE(store().lookup("sess:roll").found);
  EXPECT_EQ(store().ping(), StoreStatus::Ok);
  EXPECT_GT(store().pttl("sess:roll"), 55'000) << "a lookup without touch leaves the TTL alone";

  EXPECT_FALSE(store().lookup("sess:none", 60s).found);
  EXPECT_EQ(store().ping(), StoreStatus::Ok);
  EXPECT_EQ(store().pttl("sess:none"), -2) << "touching a missing session creates nothing";
}

// A session lookup on a key of another kind finds no session (a cookie naming such a key is no login, and
// counting it as a store failure would let on_store_error: allow pass it); a rate-limit check on a session
// key is a store error.
TEST_P(StoreConformance, KeysOfTheWrongKind) {
  ASSERT_TRUE(store().check({"kind", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1}).allowed);
  const auto lookup = store().lookup(rateLimitKey("kind", RateLimitAlgorithm::SlidingWindow, 1s));
  EXPECT_EQ(lookup.status, StoreStatus::Ok);
  EXPECT_FALSE(lookup.found);

  store().putSession(rateLimitKey("kind", RateLimitAlgorithm::SlidingLog, 1s), "{}", 10s);
  EXPECT_EQ(store().check({"kind", RateLimitAlgorithm::SlidingLog, {{5, 1s}}, 1}).status, StoreStatus::Error);
}

TEST_P(StoreConformance, MalformedChecksAnswerError) {
  EXPECT_EQ(store().check({"k", RateLimitAlgorithm::SlidingWindow, {}, 1}).status, StoreStatus::Error);
  EXPECT_EQ(store().check({"k{x}", RateLimitAlgorithm::SlidingLog, {{5, 1s}}, 1}).status, StoreStatus::Error);
  // Either brace alone would end or open the hash tag early.
  EXPECT_EQ(store().check({"10.0.0.1}", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1}).status,
            StoreStatus::Error);
  EXPECT_EQ(store().check({"{10.0.0.1", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1}).status,
            StoreStatus::Error);
  EXPECT_EQ(store().check({"k", RateLimitAlgorithm::SlidingWindow, {{5, 0s}}, 1}).status, StoreStatus::Error);
}

TEST_P(StoreConformance, PingAnswersOk) {
  EXPECT_EQ(store().ping(), StoreStatus::Ok);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance, ::testing::Values(Backend::Memory, Backend::Redis),
                         backendName);

}  // namespace
}  // namespace gatehouse::store::testing
