// What rate limiting leaves in, and asks of, Redis: a client hammering past its limit costs Redis nothing
// (the over-limit cache), every key carries its check's hash tag and an expiry so nothing grows without
// bound, and the memory store answers a scenario exactly as Redis does.
#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/rate_limit_fixture.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

using ratelimit::limitedRoute;
using ratelimit::redisStoreYaml;
using ratelimit::sendRequests;

TEST(RateLimitRedisState, ALimitedClientKeepsTryingWithoutCostingRedisACall) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policy =
      "rate_limits:\n  per_key:\n    key: [header:X-Api-Key]\n    limits: [{requests: 3, window: 60s}]\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "per_key"),
                                                 redisStoreYaml(redis) + policy));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  const std::vector<std::pair<std::string, std::string>> hammer = {{"X-Api-Key", "hammer"}};

  const auto calls_before = ratelimit::commandCalls(redis, "incrby");

  const auto spend = sendRequests(client, "/a/", 4, 0, hammer);
  ASSERT_EQ(spend.ok, 3);
  ASSERT_EQ(spend.limited, 1);
  const auto calls_when_limited = ratelimit::commandCalls(redis, "incrby");
  EXPECT_EQ(calls_when_limited - calls_before, 4u) << "each request up to the first refusal asks Redis once";

  const auto hammering = sendRequests(client, "/b/", 50, 0, hammer);
  EXPECT_EQ(hammering.limited, 50);
  EXPECT_EQ(ratelimit::commandCalls(redis, "incrby"), calls_when_limited)
      << "refusals after the first must come from the over-limit cache";
  EXPECT_EQ(ratelimit::appRequestCount(upstream), 3u);
  // What Redis holds for the key: the three admitted requests; the refused one took its count back.
  std::int64_t counted = 0;
  for (const auto& key : ratelimit::policyKeys(redis, "per_key"))
    counted += std::stoll(redis.command({"GET", key}).str);
  EXPECT_EQ(counted, 3);

  // The cache holds the refused key only: another client is still asked about, and admitted.
  EXPECT_EQ(client.get("/c", {{"X-Api-Key", "calm"}}).result_int(), 200);
  EXPECT_EQ(ratelimit::commandCalls(redis, "incrby"), calls_when_limited + 1);
}

TEST(RateLimitRedisState, EveryKeyCarriesItsHashTagAndAnExpiry) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policies =
      "rate_limits:\n"
      "  window_counter:\n    key: [header:X-Api-Key, route]\n"
      "    limits: [{requests: 5, window: 10s}, {requests: 50, window: 1m}]\n"
      "    algorithm: sliding_window\n"
      "  exact_log:\n    key: [header:X-Api-Key, route]\n"
      "    limits: [{requests: 5, window: 10s}, {requests: 50, window: 1m}]\n"
      "    algorithm: sliding_log\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(),
                                                 limitedRoute("counted", "/counted/", "window_counter") +
                                                     limitedRoute("logged", "/logged/", "exact_log"),
                                                 redisStoreYaml(redis) + policies));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  const std::vector<std::string> api_keys = {"alpha", "beta", "gamma"};
  for (const auto& api_key : api_keys) {
    sendRequests(client, "/counted/", 7, 0, {{"X-Api-Key", api_key}});
    sendRequests(client, "/logged/", 7, 0, {{"X-Api-Key", api_key}});
  }

  // gh:rl:{<base key>}:sw:<window ms>:<window index> (one counter per window) and gh:rl:{<base
  // key>}:sl:<window ms>, the base key naming the policy; nothing inside the tag but it.
  const std::regex shape(R"(gh:rl:\{([^{}]+)\}:(sw|sl):(10000|60000)(?::([0-9]+))?)");
  auto keys = ratelimit::policyKeys(redis, "window_counter");
  const auto log_keys = ratelimit::policyKeys(redis, "exact_log");
  keys.insert(keys.end(), log_keys.begin(), log_keys.end());
  // Three clients × two policies × two limits (a burst that crossed a window boundary left two counters).
  EXPECT_EQ(ratelimit::limitNames(keys).size(), 12u);
  const std::int64_t now_ms = ratelimit::redisTimeMs(redis);
  // And nothing but rate-limit keys (the warm-up policy's among them).
  EXPECT_EQ(ratelimit::redisKeys(redis, "gh:rl:*").size(), ratelimit::redisKeys(redis).size());
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    std::smatch parts;
    ASSERT_TRUE(std::regex_match(key, parts, shape));
    const std::string tag = parts[1];
    const std::string policy = parts[2] == "sw" ? "window_counter" : "exact_log";
    EXPECT_EQ(tag.rfind(policy + ":", 0), 0u) << "the tag starts with the policy name";
    const auto window_ms = std::stoll(parts[3]);
    if (parts[2] == "sw") {
      ASSERT_TRUE(parts[4].matched) << "a window counter names its window";
      const std::int64_t index = std::stoll(parts[4]);
      EXPECT_LE(index, now_ms / window_ms);
      EXPECT_GE(index, now_ms / window_ms - 1) << "the current window or the one before";
    } else {
      EXPECT_FALSE(parts[4].matched);
    }
    const auto pttl = ratelimit::redisPttl(redis, key);
    EXPECT_GT(pttl, 0) << "every key expires";
    EXPECT_LE(pttl, 2 * window_ms) << "no key outlives the time its counts matter";
  }
}

TEST(RateLimitRedisState, KeysOfManyClientsExpireOnceTheirWindowsPass) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policies =
      "rate_limits:\n"
      "  counter:\n    key: [header:X-Client]\n    limits: [{requests: 2, window: 2s}]\n"
      "  log:\n    key: [header:X-Client]\n    limits: [{requests: 2, window: 2s}]\n"
      "    algorithm: sliding_log\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(
      upstream.address(),
      limitedRoute("counted", "/counted/", "counter") + limitedRoute("logged", "/logged/", "log"),
      redisStoreYaml(redis) + policies));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  constexpr int kClients = 40;
  for (int i = 0; i < kClients; ++i) {
    const std::pair<std::string, std::string> id{"X-Client", "client-" + std::to_string(i)};
    sendRequests(client, "/counted/", 3, 0, {id});
    sendRequests(client, "/logged/", 3, 0, {id});
  }
  EXPECT_EQ(ratelimit::limitNames(ratelimit::policyKeys(redis, "counter")).size(),
            static_cast<std::size_t>(kClients));
  EXPECT_EQ(ratelimit::policyKeys(redis, "log").size(), static_cast<std::size_t>(kClients));

  // The longest expiry is two windows (the sliding-window counter); Redis expires lazily and by sampling,
  // hence the bounded wait rather than one fixed sleep. The windows are long enough for the requests above to
  // finish inside one of them on a slow (sanitized, loaded) build.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::size_t left = 0;
  do {
    std::this_thread::sleep_for(200ms);
    left = static_cast<std::size_t>(redis.command({"DBSIZE"}).integer);
  } while (left > 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(left, 0u) << "rate-limit keys must not outlive their windows";
}

// One scenario, run against a store: several clients bursting past their limit on two routes (one policy per
// algorithm), recorded as the status and X-RateLimit-Remaining of every answer.
std::vector<std::string> runScenario(const std::string& store_yaml) {
  TestUpstream upstream;
  const std::string policies =
      "rate_limits:\n"
      "  counter:\n    key: [header:X-Client]\n    limits: [{requests: 4, window: 1m}, {requests: 6, window: "
      "1h}]\n"
      "  log:\n    key: [header:X-Client]\n    limits: [{requests: 4, window: 1m}, {requests: 6, window: "
      "1h}]\n"
      "    algorithm: sliding_log\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(
      upstream.address(),
      limitedRoute("counted", "/counted/", "counter") + limitedRoute("logged", "/logged/", "log"),
      store_yaml + policies));
  HttpClient client(proxy.port());
  if (!ratelimit::awaitStoreDecisions(client)) throw std::runtime_error("the store never answered");
  std::vector<std::string> trace;
  for (int round = 0; round < 3; ++round) {
    for (const std::string id : {"a", "b", "c"}) {
      for (const std::string route : {"/counted/", "/logged/"}) {
        const auto response = client.get(route + id, {{"X-Client", id}});
        trace.push_back(id + route + std::to_string(response.result_int()) +
                        " remaining=" + std::string(response["X-RateLimit-Remaining"]));
      }
    }
    // Two more for client a only: it runs out first.
    for (int i = 0; i < 2; ++i) {
      const auto response = client.get("/counted/a", {{"X-Client", "a"}});
      trace.push_back("a-extra " + std::to_string(response.result_int()) +
                      " remaining=" + std::string(response["X-RateLimit-Remaining"]));
    }
  }
  trace.push_back("upstream saw " + std::to_string(ratelimit::appRequestCount(upstream)));
  return trace;
}

TEST(RateLimitRedisState, TheMemoryStoreAdmitsExactlyWhatRedisAdmits) {
  RedisServer redis;
  const auto with_redis = runScenario(redisStoreYaml(redis));
  const auto in_memory = runScenario(ratelimit::memoryStoreYaml());
  EXPECT_EQ(in_memory, with_redis);

  // And both got it right: client a spent its 4 per minute on /counted/ within the first round and a half.
  int a_counted_admitted = 0;
  for (const auto& line : with_redis) {
    if ((line.rfind("a/counted/200", 0) == 0) || (line.rfind("a-extra 200", 0) == 0)) ++a_counted_admitted;
  }
  EXPECT_EQ(a_counted_admitted, 4);
  EXPECT_EQ(with_redis.back(), "upstream saw " + std::to_string(4 + 3 + 3 * 2 * 2));
}

}  // namespace
}  // namespace gatehouse::testing
