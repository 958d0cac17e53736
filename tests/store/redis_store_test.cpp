// What only the Redis store has: key layout in Redis (hash tags, expiries, nothing else written), script
// loading, pipelining of a rolling lookup, several instances sharing counters, and failures mapped to
// StoreStatus fast. The sliding window's own layout and math: redis_sliding_window_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "store/rate_limit_keys.h"
#include "tests/store/store_test_harness.h"

namespace gatehouse::store::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using gatehouse::testing::RedisServer;

std::vector<std::string> keysMatching(const RedisServer& server, const std::string& pattern) {
  std::vector<std::string> keys;
  for (const RedisReply& key : server.command({"KEYS", pattern}).elements) keys.push_back(key.str);
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST(RedisStore, KeysOfACheckShareOneHashSlotAndAllExpire) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  for (RateLimitAlgorithm algorithm : {RateLimitAlgorithm::SlidingWindow, RateLimitAlgorithm::SlidingLog}) {
    ASSERT_TRUE(harness.check({"10.0.0.7|/api", algorithm, {{10, 1s}, {100, 60s}, {1000, 1h}}, 1}).allowed);
  }
  const std::vector<std::string> keys = keysMatching(server, "*");
  ASSERT_EQ(keys.size(), 6u)
      << "one key per limit and algorithm (the sliding window's of this window), nothing else";

  std::set<std::int64_t> slots;
  for (const std::string& key : keys) {
    EXPECT_EQ(key.find("gh:rl:{10.0.0.7|/api}:"), 0u) << key;
    slots.insert(server.command({"CLUSTER", "KEYSLOT", key}).integer);
    EXPECT_GT(server.command({"PTTL", key}).integer, 0) << key;
  }
  EXPECT_EQ(slots.size(), 1u) << "a Redis Cluster would answer the whole check from one slot";
  EXPECT_EQ(*slots.begin(), server.command({"CLUSTER", "KEYSLOT", "10.0.0.7|/api"}).integer);
}

TEST(RedisStore, TheSlidingLogKeepsOneUniqueMemberPerRequest) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  const RateLimitCheck request{"zset", RateLimitAlgorithm::SlidingLog, {{50, 60s}}, 4};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(harness.check(request).allowed);  // several within one millisecond
  EXPECT_EQ(server.command({"ZCARD", rateLimitKey("zset", RateLimitAlgorithm::SlidingLog, 60s)}).integer, 20);
}

TEST(RedisStore, AScriptFlushIsInvisibleToCallers) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  const RateLimitCheck request{"flush", RateLimitAlgorithm::SlidingLog, {{10, 60s}}, 1};
  ASSERT_EQ(harness.check(request).limits[0].remaining, 9u);
  const std::uint64_t loads_before = harness.redis().client().stats().script_loads;
  server.command({"SCRIPT", "FLUSH"});
  const RateLimitResult after = harness.check(request);
  EXPECT_EQ(after.status, StoreStatus::Ok);
  EXPECT_EQ(after.limits[0].remaining, 8u);
  EXPECT_EQ(harness.redis().client().stats().script_loads, loads_before + 1)
      << "NOSCRIPT was met and handled";
}

TEST(RedisStore, ARollingLookupSendsGetAndPexpireInOneWrite) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  server.command({"SET", "sess:w", "{}", "PX", "10000"});
  const RedisClientStats before = harness.redis().client().stats();
  EXPECT_TRUE(harness.lookup("sess:w", 30s).found);
  const RedisClientStats after = harness.redis().client().stats();
  EXPECT_EQ(after.commands - before.commands, 2u);
  EXPECT_EQ(after.writes - before.writes, 1u);
}

TEST(RedisStore, InstancesSharingARedisShareTheCounters) {
  RedisServer server;
  StoreHarness first(Backend::Redis, &server);
  boost::asio::io_context io;
  RedisStore second(gatehouse::testing::connectedClient(io, gatehouse::testing::optionsFor(server)));
  const RateLimitCheck request{"shared", RateLimitAlgorithm::SlidingWindow, {{5, 60s}}, 1};

  int admitted = 0;
  for (int i = 0; i < 4; ++i) {
    admitted += first.check(request).allowed ? 1 : 0;
    bool done = false;
    second.checkRateLimit(request, [&](RateLimitResult result) {
      admitted += result.allowed ? 1 : 0;
      done = true;
    });
    ASSERT_TRUE(gatehouse::testing::runUntil(
        io, [&] { return done; }, 5s));
  }
  EXPECT_EQ(admitted, 5);
}

TEST(RedisStore, RedisDownFailsFastWithUnavailable) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions options = gatehouse::testing::optionsFor(server);
  options.command_timeout =
      2s;  // long: a fast answer must come from knowing Redis is down, not from a timeout
  RedisStore store(gatehouse::testing::connectedClient(io, options));
  server.kill();

  const auto started = Clock::now();
  int answers = 0;
  StoreStatus session_status = StoreStatus::Ok;
  StoreStatus check_status = StoreStatus::Ok;
  StoreStatus ping_status = StoreStatus::Ok;
  store.lookupSession({"sess:x", 0ms}, [&](const SessionResult& result) {
    session_status = result.status;
    ++answers;
  });
  store.checkRateLimit({"down", RateLimitAlgorithm::SlidingWindow, {{5, 1s}}, 1},
                       [&](RateLimitResult result) {
                         check_status = result.status;
                         ++answers;
                       });
  store.ping([&](StoreStatus status) {
    ping_status = status;
    ++answers;
  });
  ASSERT_TRUE(gatehouse::testing::runUntil(
      io, [&] { return answers == 3; }, 5s));
  EXPECT_LT(Clock::now() - started, 500ms);
  EXPECT_EQ(session_status, StoreStatus::Unavailable);
  EXPECT_EQ(check_status, StoreStatus::Unavailable);
  EXPECT_EQ(ping_status, StoreStatus::Unavailable);
}

TEST(RedisStore, AHungRedisAnswersTimeoutWithinTheStoreTimeout) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions options = gatehouse::testing::optionsFor(server);
  options.command_timeout = 100ms;
  RedisStore store(gatehouse::testing::connectedClient(io, options));
  server.pause();

  const auto started = Clock::now();
  StoreStatus status = StoreStatus::Ok;
  bool done = false;
  store.checkRateLimit({"hung", RateLimitAlgorithm::SlidingLog, {{5, 1s}}, 1}, [&](RateLimitResult result) {
    status = result.status;
    done = true;
  });
  ASSERT_TRUE(gatehouse::testing::runUntil(
      io, [&] { return done; }, 5s));
  const auto took = Clock::now() - started;
  server.resume();
  EXPECT_EQ(status, StoreStatus::Timeout);
  EXPECT_GE(took, 90ms);
  EXPECT_LT(took, 600ms);
}

TEST(RedisStore, MalformedScriptRepliesAreErrors) {
  RedisReply short_reply;
  short_reply.type = RedisReply::Type::Array;
  short_reply.elements.resize(4, RedisReply{RedisReply::Type::Integer, 1, {}, {}});
  EXPECT_EQ(parseRateLimitReply(short_reply, {{5, 1s}}).status, StoreStatus::Error)
      << "one limit needs 5 items";

  RedisReply text = short_reply;
  text.elements.push_back(RedisReply{RedisReply::Type::String, 0, "x", {}});
  EXPECT_EQ(parseRateLimitReply(text, {{5, 1s}}).status, StoreStatus::Error);

  RedisReply good = short_reply;
  good.elements.push_back(RedisReply{RedisReply::Type::Integer, 750, {}, {}});
  const RateLimitResult parsed = parseRateLimitReply(good, {{5, 1s}});
  EXPECT_EQ(parsed.status, StoreStatus::Ok);
  EXPECT_TRUE(parsed.allowed);
  ASSERT_EQ(parsed.limits.size(), 1u);
  EXPECT_EQ(parsed.limits[0].limit, 5u);
  EXPECT_EQ(parsed.limits[0].remaining, 1u);
  EXPECT_EQ(parsed.limits[0].reset_after, 750ms);
}

}  // namespace
}  // namespace gatehouse::store::testing
