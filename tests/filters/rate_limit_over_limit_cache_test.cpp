#include "filters/over_limit_cache.h"

#include <memory>
#include <thread>

#include <gtest/gtest.h>

namespace gatehouse::filters {
namespace {

using namespace std::chrono_literals;

const SteadyTime kStart = SteadyTime{} + 1h;

store::RateLimitResult rejection(store::Millis retry_after) {
  store::RateLimitResult result;
  result.allowed = false;
  result.retry_after = retry_after;
  result.limits = {{100, 0, 40s}, {10, 0, retry_after}};
  result.now_ms = 1'700'000'000'000;
  return result;
}

TEST(OverLimitCacheTest, RemembersARejectionUntilItsRetryTime) {
  OverLimitCache cache;
  cache.remember("k", rejection(5s), kStart);

  const auto early = cache.find("k", kStart + 2s);
  ASSERT_TRUE(early.has_value());
  EXPECT_FALSE(early->allowed);

  EXPECT_FALSE(cache.find("other", kStart + 2s).has_value());
  EXPECT_FALSE(cache.find("k", kStart + 5s).has_value());
  EXPECT_EQ(cache.size(), 0u);  // the expired entry was dropped on lookup
}

TEST(OverLimitCacheTest, AgesTheRememberedAnswer) {
  OverLimitCache cache;
  cache.remember("k", rejection(5s), kStart);

  const auto aged = cache.find("k", kStart + 2'250ms);
  ASSERT_TRUE(aged.has_value());
  EXPECT_EQ(aged->retry_after, 2'750ms);
  EXPECT_EQ(aged->limits[0].reset_after, 37'750ms);
  EXPECT_EQ(aged->limits[1].reset_after, 2'750ms);
  EXPECT_EQ(aged->now_ms, 1'700'000'002'250);
}

TEST(OverLimitCacheTest, NothingToRememberWithoutARetryTime) {
  OverLimitCache cache;
  cache.remember("k", rejection(0ms), kStart);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find("k", kStart).has_value());
}

TEST(OverLimitCacheTest, RememberingAgainReplacesTheEntry) {
  OverLimitCache cache;
  cache.remember("k", rejection(1s), kStart);
  cache.remember("k", rejection(10s), kStart);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.find("k", kStart + 5s).has_value());
}

TEST(OverLimitCacheTest, WhenFullExpiredEntriesGoFirst) {
  OverLimitCache cache(2);
  cache.remember("short", rejection(1s), kStart);
  cache.remember("long", rejection(60s), kStart);
  cache.remember("new", rejection(30s), kStart + 2s);  // "short" has expired by now

  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.find("long", kStart + 3s).has_value());
  EXPECT_TRUE(cache.find("new", kStart + 3s).has_value());
}

TEST(OverLimitCacheTest, WhenFullOfLiveEntriesTheSoonestToExpireIsEvicted) {
  OverLimitCache cache(2);
  cache.remember("a", rejection(50s), kStart);
  cache.remember("b", rejection(20s), kStart);
  cache.remember("c", rejection(40s), kStart);

  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.find("a", kStart + 1s).has_value());
  EXPECT_FALSE(cache.find("b", kStart + 1s).has_value());
  EXPECT_TRUE(cache.find("c", kStart + 1s).has_value());
}

TEST(PerThreadOverLimitCacheTest, OneCachePerOwnerAndThread) {
  const PerThreadOverLimitCache first;
  const PerThreadOverLimitCache second;

  const auto mine = first.forThisThread();
  EXPECT_EQ(mine, first.forThisThread());
  EXPECT_NE(mine, second.forThisThread());

  std::shared_ptr<OverLimitCache> from_other_thread;
  std::thread([&] { from_other_thread = first.forThisThread(); }).join();
  EXPECT_NE(mine, from_other_thread);
}

TEST(PerThreadOverLimitCacheTest, ANewOwnerNeverInheritsADeadOwnersCache) {
  auto owner = std::make_unique<PerThreadOverLimitCache>();
  const auto old_cache = owner->forThisThread();
  old_cache->remember("k", rejection(60s), kStart);
  owner.reset();

  const PerThreadOverLimitCache replacement;
  const auto new_cache = replacement.forThisThread();
  EXPECT_NE(new_cache, old_cache);
  EXPECT_FALSE(new_cache->find("k", kStart).has_value());
  EXPECT_TRUE(old_cache->find("k", kStart).has_value());  // still valid for a filter that held it
}

}  // namespace
}  // namespace gatehouse::filters
