// A rate-limited route when its Redis goes away: each `on_store_error` policy decides as documented (allow →
// pass without headers, deny → 503, local → limited in process), and once Redis is back the shared counters
// are used again within about two seconds (the client reconnects with a backoff capped at one second).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/rate_limit_fixture.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

using ratelimit::limitedRoute;
using ratelimit::redisStoreYaml;
using ratelimit::sendRequests;

std::string policyYaml(const std::string& on_store_error, int requests) {
  return "rate_limits:\n  guarded:\n    key: [ip]\n    limits: [{requests: " + std::to_string(requests) +
         ", window: 60s}]\n    on_store_error: " + on_store_error + "\n";
}

bool hasRateLimitHeaders(const Response& response) {
  return response.find("X-RateLimit-Limit") != response.end();
}

// Sends a request every 50 ms until one is decided by Redis again (its key shows up there and the answer
// carries rate-limit headers), for at most `limit`. Returns how long that took, or nullopt.
std::optional<std::chrono::milliseconds> timeUntilRedisDecides(HttpClient& client, const RedisServer& redis,
                                                               std::chrono::milliseconds limit) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto response = client.get("/recovering");
    if (response.result_int() == 200 && hasRateLimitHeaders(response) &&
        !ratelimit::policyKeys(redis, "guarded").empty()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    }
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

TEST(RateLimitStoreFailure, AllowLetsEveryRequestThroughWithoutHeaders) {
  RedisServer redis;
  TestUpstream upstream;
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "guarded"),
                                                 redisStoreYaml(redis) + policyYaml("allow", 3)));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  ASSERT_TRUE(hasRateLimitHeaders(client.get("/before")));

  redis.kill();
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto response = client.get("/down/" + std::to_string(i));
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_FALSE(hasRateLimitHeaders(response)) << "nothing was counted: no headers to report";
  }
  // Past the limit of 3, yet all passed: failing open is the point of `allow`.
  EXPECT_EQ(ratelimit::appRequestCount(upstream), 7u);
}

TEST(RateLimitStoreFailure, DenyAnswers503AndKeepsTheRequestFromTheUpstream) {
  RedisServer redis;
  TestUpstream upstream;
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "guarded"),
                                                 redisStoreYaml(redis) + policyYaml("deny", 100)));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  ASSERT_EQ(client.get("/before").result_int(), 200);

  redis.kill();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto response = client.get("/down");
    ASSERT_EQ(response.result_int(), 503);
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_EQ(boost::json::parse(response.body()).at("error").as_string(), "rate limit store unavailable");
  }
  EXPECT_EQ(ratelimit::appRequestCount(upstream), 1u);
}

TEST(RateLimitStoreFailure, DenyAnswersWithinTheStoreTimeoutWhenRedisHangs) {
  RedisServer redis;
  TestUpstream upstream;
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "guarded"),
                                                 redisStoreYaml(redis, "100ms") + policyYaml("deny", 100)));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  ASSERT_EQ(client.get("/before").result_int(), 200);

  redis.pause();  // connected but silent: only the timeout can decide
  const auto start = std::chrono::steady_clock::now();
  const auto response = client.get("/hung");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_GE(took, 90ms) << "decided before the timeout: Redis was not asked";
  EXPECT_LT(took, 1500ms) << "the store timeout is 100 ms";

  redis.resume();
  // The late reply of the timed-out call is discarded; later calls are answered normally again.
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  unsigned status = 0;
  while (std::chrono::steady_clock::now() < deadline && status != 200) {
    status = client.get("/resumed").result_int();
    if (status != 200) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 200u);
}

TEST(RateLimitStoreFailure, LocalLimitsInProcessWhileRedisIsDown) {
  RedisServer redis;
  TestUpstream upstream;
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "guarded"),
                                                 redisStoreYaml(redis) + policyYaml("local", 3)));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  ASSERT_EQ(client.get("/before").result_int(), 200);  // counted in Redis, not in process

  redis.kill();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto response = client.get("/local/" + std::to_string(i));
    ASSERT_EQ(response.result_int(), 200);
    // The in-process store counted it, and says so.
    EXPECT_EQ(response["X-RateLimit-Limit"], "3");
    EXPECT_EQ(response["X-RateLimit-Remaining"], std::to_string(2 - i));
  }
  const auto tally = sendRequests(client, "/over/", 5);
  EXPECT_EQ(tally.ok, 0);
  EXPECT_EQ(tally.limited, 5);
  EXPECT_EQ(ratelimit::appRequestCount(upstream), 4u);
}

// After an outage, whatever the policy did meanwhile, the next requests are counted in Redis again. The
// restarted Redis is empty: its scripts must be loaded again, its keys appear anew.
class RateLimitRecovery : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Policies, RateLimitRecovery, ::testing::Values("allow", "deny", "local"),
                         [](const auto& param_info) { return param_info.param; });

TEST_P(RateLimitRecovery, RedisCountersAreUsedAgainSoonAfterRedisReturns) {
  RedisServer redis;
  TestUpstream upstream;
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "guarded"),
                                                 redisStoreYaml(redis) + policyYaml(GetParam(), 100)));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  ASSERT_EQ(client.get("/before").result_int(), 200);
  ASSERT_FALSE(ratelimit::policyKeys(redis, "guarded").empty());

  redis.kill();
  const unsigned expected_during_outage = GetParam() == "deny" ? 503 : 200;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.get("/down").result_int(), expected_during_outage);

  redis.restart();
  ASSERT_TRUE(ratelimit::redisKeys(redis).empty()) << "a restarted Redis starts empty";
  const auto recovered = timeUntilRedisDecides(client, redis, 4s);
  ASSERT_TRUE(recovered.has_value()) << "Redis was not used again within 4 s of its return";
  EXPECT_LE(*recovered, 2500ms) << "reconnect backoff is capped at 1 s";
  EXPECT_GE(ratelimit::commandCalls(redis, "incrby"), 1u);
}

}  // namespace
}  // namespace gatehouse::testing
