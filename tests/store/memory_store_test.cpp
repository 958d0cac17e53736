// The memory store on its own: TTLs and rolling touches on an injected clock, expiry of rate-limit keys, LRU
// eviction past max_keys, synchronous callbacks, and exact counting under concurrent workers.
#include "store/memory_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/rate_limit_keys.h"
#include "tests/store/store_test_harness.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;

class MemoryStoreTest : public ::testing::Test {
 protected:
  MemoryStore makeStore(std::size_t max_keys = 1000, std::size_t shards = 64) {
    return MemoryStore(MemoryStoreOptions{max_keys, shards, [this] { return now_ms_.load(); }});
  }

  static testing::StoredSession lookup(MemoryStore& store, const std::string& key, Millis touch = 0ms) {
    testing::StoredSession out;
    bool called = false;
    store.lookupSession(SessionLookup{key, touch}, [&](const SessionResult& result) {
      out = result;
      called = true;
    });
    EXPECT_TRUE(called) << "the memory store answers before the call returns";
    return out;
  }

  static RateLimitResult check(MemoryStore& store, const RateLimitCheck& request) {
    RateLimitResult out;
    bool called = false;
    store.checkRateLimit(request, [&](RateLimitResult result) {
      out = std::move(result);
      called = true;
    });
    EXPECT_TRUE(called) << "the memory store answers before the call returns";
    return out;
  }

  std::atomic<std::int64_t> now_ms_{1'700'000'000'000};
};

TEST_F(MemoryStoreTest, SessionsAreFoundUntilTheirTtlPasses) {
  MemoryStore store = makeStore();
  store.putSession("sess:a", R"({"user":{"username":"ada"}})", 1000ms);
  const testing::StoredSession found = lookup(store, "sess:a");
  EXPECT_EQ(found.status, StoreStatus::Ok);
  EXPECT_TRUE(found.found);
  EXPECT_EQ(found.value, R"({"user":{"username":"ada"}})");
  EXPECT_FALSE(lookup(store, "sess:missing").found);

  now_ms_ += 999;
  EXPECT_TRUE(lookup(store, "sess:a").found);
  EXPECT_EQ(store.pttl("sess:a"), 1);
  now_ms_ += 1;
  EXPECT_FALSE(lookup(store, "sess:a").found);
  EXPECT_EQ(store.pttl("sess:a"), -2);
  EXPECT_EQ(store.size(), 0u) << "the expired session was dropped";
}

TEST_F(MemoryStoreTest, RollingTouchResetsTheTtl) {
  MemoryStore store = makeStore();
  store.putSession("sess:r", "{}", 1000ms);
  now_ms_ += 900;
  EXPECT_TRUE(lookup(store, "sess:r", 5000ms).found);
  EXPECT_EQ(store.pttl("sess:r"), 5000);
  now_ms_ += 4000;
  EXPECT_TRUE(lookup(store, "sess:r").found) << "without the touch it would have expired at +1000";
  EXPECT_EQ(store.pttl("sess:r"), 1000) << "a lookup without touch leaves the TTL alone";
}

TEST_F(MemoryStoreTest, SessionWithoutTtlStaysUntilDeleted) {
  MemoryStore store = makeStore();
  store.putSession("sess:p", "v", 0ms);
  EXPECT_EQ(store.pttl("sess:p"), -1);
  now_ms_ += 365LL * 24 * 3600 * 1000;
  EXPECT_TRUE(lookup(store, "sess:p").found);
  EXPECT_TRUE(store.deleteKey("sess:p"));
  EXPECT_FALSE(store.deleteKey("sess:p"));
  EXPECT_FALSE(lookup(store, "sess:p").found);
}

TEST_F(MemoryStoreTest, KeysOfTheWrongKind) {
  MemoryStore store = makeStore();
  const RateLimitCheck request{"client", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1};
  ASSERT_TRUE(check(store, request).allowed);
  const std::string counter_key = rateLimitKey("client", RateLimitAlgorithm::SlidingWindow, 1s);
  EXPECT_EQ(lookup(store, counter_key).status, StoreStatus::Ok);  // no session there, as with Redis
  EXPECT_FALSE(lookup(store, counter_key).found);

  store.putSession(rateLimitKey("other", RateLimitAlgorithm::SlidingLog, 1s), "{}", 0ms);
  EXPECT_EQ(check(store, {"other", RateLimitAlgorithm::SlidingLog, {{5, 1s}}, 1}).status, StoreStatus::Error);
}

TEST_F(MemoryStoreTest, MalformedChecksAnswerError) {
  MemoryStore store = makeStore();
  EXPECT_EQ(check(store, {"k", RateLimitAlgorithm::SlidingWindow, {}, 1}).status, StoreStatus::Error);
  EXPECT_EQ(check(store, {"k", RateLimitAlgorithm::SlidingWindow, {{5, 0ms}}, 1}).status, StoreStatus::Error);
  EXPECT_EQ(check(store, {"k", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 0}).status, StoreStatus::Error);
  EXPECT_EQ(check(store, {"a{b}", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1}).status,
            StoreStatus::Error);
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(MemoryStoreTest, RateLimitKeysExpireWhenTheirCountsStopMattering) {
  MemoryStore store = makeStore();
  now_ms_ = 1'700'000'000'000;  // a whole number of seconds: window elapsed = 0
  const RateLimitCheck window_check{"ip", RateLimitAlgorithm::SlidingWindow, {{5, 1s}, {50, 10s}}, 1};
  ASSERT_TRUE(check(store, window_check).allowed);
  EXPECT_EQ(store.pttl(rateLimitKey("ip", RateLimitAlgorithm::SlidingWindow, 1s)), 2000);
  EXPECT_EQ(store.pttl(rateLimitKey("ip", RateLimitAlgorithm::SlidingWindow, 10s)), 20000);

  const RateLimitCheck log_check{"ip", RateLimitAlgorithm::SlidingLog, {{5, 1s}}, 1};
  ASSERT_TRUE(check(store, log_check).allowed);
  EXPECT_EQ(store.pttl(rateLimitKey("ip", RateLimitAlgorithm::SlidingLog, 1s)), 1000);
  EXPECT_EQ(store.size(), 3u);

  now_ms_ += 20'000;
  store.putSession("sess:any", "{}", 0ms);  // any operation drops what expired
  EXPECT_EQ(store.size(), 1u);
}

TEST_F(MemoryStoreTest, ARejectedCheckWritesNothing) {
  MemoryStore store = makeStore();
  EXPECT_FALSE(check(store, {"big", RateLimitAlgorithm::SlidingWindow, {{2, 1s}}, 3}).allowed);
  EXPECT_FALSE(check(store, {"big", RateLimitAlgorithm::SlidingLog, {{2, 1s}}, 3}).allowed);
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(MemoryStoreTest, EvictsTheLeastRecentlyUsedKeyPastMaxKeys) {
  MemoryStore store = makeStore(3, 1);
  store.putSession("s1", "1", 0ms);
  store.putSession("s2", "2", 0ms);
  store.putSession("s3", "3", 0ms);
  EXPECT_TRUE(lookup(store, "s1").found);  // s2 is now the least recently used
  store.putSession("s4", "4", 0ms);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(lookup(store, "s2").found);
  EXPECT_TRUE(lookup(store, "s1").found);
  EXPECT_TRUE(lookup(store, "s3").found);
  EXPECT_TRUE(lookup(store, "s4").found);
}

TEST_F(MemoryStoreTest, NeverHoldsMoreThanMaxKeysAcrossShards) {
  MemoryStore store = makeStore(100, 8);
  for (int i = 0; i < 1000; ++i) store.putSession("sess:" + std::to_string(i), "{}", 0ms);
  EXPECT_LE(store.size(), 100u);
  EXPECT_GE(store.size(), 50u) << "eviction is per shard, but it must not empty the store";
  EXPECT_TRUE(lookup(store, "sess:999").found) << "the newest key survives";
}

TEST_F(MemoryStoreTest, RetryAfterIsHonestOnTheInjectedClock) {
  MemoryStore store = makeStore();
  const RateLimitCheck request{"r", RateLimitAlgorithm::SlidingWindow, {{3, 1s}}, 1};
  now_ms_ = 1'700'000'000'400;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(check(store, request).allowed);
  const RateLimitResult rejected = check(store, request);
  ASSERT_FALSE(rejected.allowed);
  ASSERT_GT(rejected.retry_after, 0ms);
  now_ms_ += rejected.retry_after.count() - 1;
  EXPECT_FALSE(check(store, request).allowed);
  now_ms_ += 1;
  EXPECT_TRUE(check(store, request).allowed);
}

// Several worker threads hammer one key (and a key each) at once: exactly `limit` requests of the shared key
// are admitted, and each thread's own key admits exactly its limit too.
TEST_F(MemoryStoreTest, ConcurrentChecksAdmitExactlyTheLimit) {
  MemoryStore store = makeStore(10'000, 64);
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 2000;
  constexpr std::uint64_t kSharedLimit = 5000;
  constexpr std::uint64_t kOwnLimit = 700;
  std::atomic<int> shared_admitted{0};
  std::vector<int> own_admitted(kThreads, 0);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const RateLimitCheck shared{"shared", RateLimitAlgorithm::SlidingWindow, {{kSharedLimit, 60s}}, 1};
        const RateLimitCheck own{
            "own-" + std::to_string(t), RateLimitAlgorithm::SlidingLog, {{kOwnLimit, 60s}}, 1};
        for (int i = 0; i < kRequestsPerThread; ++i) {
          store.checkRateLimit(shared, [&](RateLimitResult result) {
            if (result.allowed) shared_admitted.fetch_add(1);
          });
          store.checkRateLimit(own, [&](RateLimitResult result) {
            if (result.allowed) ++own_admitted[static_cast<std::size_t>(t)];
          });
        }
      });
    }
  }
  EXPECT_EQ(shared_admitted.load(), static_cast<int>(kSharedLimit));
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(own_admitted[static_cast<std::size_t>(t)], static_cast<int>(kOwnLimit));
}

}  // namespace
}  // namespace gatehouse::store
