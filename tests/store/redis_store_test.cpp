// What only the Redis store has: key layout in Redis (hash tags, expiries, nothing else written), script
// loading, pipelining of a rolling lookup, several instances sharing counters, and failures mapped to
// StoreStatus fast.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "store/rate_limit_keys.h"
#include "store/sliding_window.h"
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
  ASSERT_EQ(keys.size(), 6u) << "one key per limit and algorithm, nothing else";

  std::set<std::int64_t> slots;
  for (const std::string& key : keys) {
    EXPECT_EQ(key.find("gh:rl:{10.0.0.7|/api}:"), 0u) << key;
    slots.insert(server.command({"CLUSTER", "KEYSLOT", key}).integer);
    EXPECT_GT(server.command({"PTTL", key}).integer, 0) << key;
  }
  EXPECT_EQ(slots.size(), 1u) << "a Redis Cluster would run the script on one slot";
  EXPECT_EQ(*slots.begin(), server.command({"CLUSTER", "KEYSLOT", "10.0.0.7|/api"}).integer);
}

// store/lua/sliding_window.lua's counter layout: a HASH whose one field v holds three little-endian doubles
// (w, c, p).
std::string packCounter(const WindowCounter& counter) {
  std::string bytes;
  for (const double value : {static_cast<double>(counter.window_index), static_cast<double>(counter.current),
                             static_cast<double>(counter.previous)}) {
    const auto bits = std::bit_cast<std::uint64_t>(value);
    for (int shift = 0; shift < 64; shift += 8) bytes.push_back(static_cast<char>((bits >> shift) & 0xff));
  }
  return bytes;
}

WindowCounter unpackCounter(const std::string& bytes) {
  EXPECT_EQ(bytes.size(), 24u) << "three doubles";
  double values[3] = {-1, -1, -1};
  for (std::size_t i = 0; i < 3 && bytes.size() == 24; ++i) {
    std::uint64_t bits = 0;
    for (std::size_t b = 0; b < 8; ++b)
      bits |= std::uint64_t{static_cast<unsigned char>(bytes[8 * i + b])} << (8 * b);
    values[i] = std::bit_cast<double>(bits);
  }
  return WindowCounter{static_cast<std::int64_t>(values[0]), static_cast<std::uint64_t>(values[1]),
                       static_cast<std::uint64_t>(values[2])};
}

// What the C++ math answers for one limit whose counter was `counter` before a check at now_ms; `counter`
// becomes what the script must have stored.
RateLimitResult evaluateOne(WindowCounter& counter, WindowLimit limit, std::uint32_t cost,
                            std::int64_t now_ms) {
  WindowCounter* const counters[] = {&counter};
  return evaluateSlidingWindow(counters, std::span<const WindowLimit>(&limit, 1), cost, now_ms);
}

void expectCounter(const WindowCounter& actual, const WindowCounter& expected) {
  EXPECT_EQ(actual.window_index, expected.window_index);
  EXPECT_EQ(actual.current, expected.current);
  EXPECT_EQ(actual.previous, expected.previous);
}

std::int64_t redisNowMs(const RedisServer& server) {
  const RedisReply time = server.command({"TIME"});
  return std::stoll(time.elements[0].str) * 1000 + std::stoll(time.elements[1].str) / 1000;
}

// The expiry a counter of window index w must carry at now_ms: the end of window w + 1, when it stops
// mattering.
void expectExpiresWithItsNextWindow(const RedisServer& server, const std::string& key,
                                    std::int64_t window_index, std::int64_t window_ms, std::int64_t now_ms) {
  const std::int64_t expected = (window_index + 2) * window_ms - now_ms;
  const std::int64_t pttl = server.command({"PTTL", key}).integer;
  // +1: TIME in the script, PEXPIRE's base time and this PTTL each read Redis's clock at their own moment,
  // rounded to milliseconds; CI once saw the TTL one millisecond over the one computed from TIME.
  EXPECT_LE(pttl, expected + 1) << key;
  EXPECT_GT(pttl, expected - 5000) << key << ": the test's own commands take far less than 5 s";
}

TEST(RedisStore, TheSlidingWindowStateIsOneHashFieldOfThreeDoublesExpiringAfterTheNextWindow) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  const RateLimitResult result = harness.check({"layout", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 3});
  ASSERT_TRUE(result.allowed);
  const std::string key = rateLimitKey("layout", RateLimitAlgorithm::SlidingWindow, 60s);
  EXPECT_EQ(server.command({"TYPE", key}).str, "hash");
  EXPECT_EQ(server.command({"HLEN", key}).integer, 1);
  const WindowCounter stored = unpackCounter(server.command({"HGET", key, "v"}).str);
  EXPECT_EQ(stored.window_index, result.now_ms / 60'000);
  EXPECT_EQ(stored.current, 3u);
  EXPECT_EQ(stored.previous, 0u);
  expectExpiresWithItsNextWindow(server, key, stored.window_index, 60'000, result.now_ms);

  // A second write, in the same window as a rule: the counter grows and its expiry stays the window's.
  const RateLimitResult second = harness.check({"layout", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 2});
  WindowCounter expected = stored;
  EXPECT_EQ(second.limits[0].remaining,
            evaluateOne(expected, {10, 60s}, 2, second.now_ms).limits[0].remaining);
  const WindowCounter after = unpackCounter(server.command({"HGET", key, "v"}).str);
  expectCounter(after, expected);
  expectExpiresWithItsNextWindow(server, key, after.window_index, 60'000, second.now_ms);
}

TEST(RedisStore, ACounterOfThePreviousWindowRollsOverAndTakesTheNewWindowsExpiry) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  const std::string key = rateLimitKey("roll", RateLimitAlgorithm::SlidingWindow, 60s);
  const WindowCounter seeded{redisNowMs(server) / 60'000 - 1, 6, 2};
  // An expiry far too long: the script must replace it, not keep it, when the window changes.
  server.command({"HSET", key, "v", packCounter(seeded)});
  server.command({"PEXPIRE", key, "3600000"});

  const RateLimitResult result = harness.check({"roll", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 1});
  WindowCounter expected = seeded;
  const RateLimitResult expected_result = evaluateOne(expected, {10, 60s}, 1, result.now_ms);
  ASSERT_TRUE(expected_result.allowed) << "6 of the previous window weigh at most 6";
  EXPECT_TRUE(result.allowed);
  EXPECT_EQ(result.limits[0].remaining, expected_result.limits[0].remaining);
  const WindowCounter stored = unpackCounter(server.command({"HGET", key, "v"}).str);
  expectCounter(stored, expected);
  EXPECT_EQ(stored.previous, expected.window_index == seeded.window_index + 1 ? 6u : 0u);
  expectExpiresWithItsNextWindow(server, key, stored.window_index, 60'000, result.now_ms);
}

// An older Gatehouse kept the counts in fields w, c and p of the same key: the new script does not read them
// (the counter starts afresh once, at the upgrade) but must not fail on such a key, and must give it its
// expiry.
TEST(RedisStore, AHashLeftByAnOlderGatehouseAnswersAndCountsAfresh) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  const std::string key = rateLimitKey("legacy", RateLimitAlgorithm::SlidingWindow, 60s);
  const std::int64_t window_index = redisNowMs(server) / 60'000;
  server.command({"HSET", key, "w", std::to_string(window_index), "c", "4", "p", "0"});
  server.command({"PEXPIRE", key, "3600000"});

  const RateLimitResult result = harness.check({"legacy", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 1});
  ASSERT_EQ(result.status, StoreStatus::Ok);
  EXPECT_EQ(result.limits[0].remaining, 9u);
  const WindowCounter stored = unpackCounter(server.command({"HGET", key, "v"}).str);
  expectCounter(stored, WindowCounter{result.now_ms / 60'000, 1, 0});
  expectExpiresWithItsNextWindow(server, key, stored.window_index, 60'000, result.now_ms);
}

// Two limits of one window have one key: the script counts a request once in it, as the C++ math does.
TEST(RedisStore, TwoLimitsOfOneWindowShareOneCounterAndCountARequestOnce) {
  RedisServer server;
  StoreHarness harness(Backend::Redis, &server);
  const RateLimitCheck request{"twice", RateLimitAlgorithm::SlidingWindow, {{5, 60s}, {3, 60s}}, 1};
  WindowCounter expected;
  WindowCounter* const counters[] = {&expected, &expected};
  for (int i = 0; i < 4; ++i) {
    const RateLimitResult result = harness.check(request);
    const RateLimitResult cpp = evaluateSlidingWindow(counters, request.limits, request.cost, result.now_ms);
    ASSERT_EQ(result.status, StoreStatus::Ok);
    EXPECT_EQ(result.allowed, cpp.allowed) << "request " << i;
    EXPECT_EQ(result.limits[0].remaining, cpp.limits[0].remaining) << "request " << i;
    EXPECT_EQ(result.limits[1].remaining, cpp.limits[1].remaining) << "request " << i;
  }
  EXPECT_EQ(expected.current, 3u) << "the fourth request was rejected by the limit of 3";
  const std::string key = rateLimitKey("twice", RateLimitAlgorithm::SlidingWindow, 60s);
  expectCounter(unpackCounter(server.command({"HGET", key, "v"}).str), expected);
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
  const RateLimitCheck request{"flush", RateLimitAlgorithm::SlidingWindow, {{10, 60s}}, 1};
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
