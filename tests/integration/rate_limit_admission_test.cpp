// What a client of a rate-limited route sees, with a real Redis behind Gatehouse: how many requests pass, the
// headers on passes and refusals, whether Retry-After can be trusted, shadow mode and the allow-list.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/rate_limit_fixture.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

using ratelimit::limitedRoute;
using ratelimit::parseInteger;
using ratelimit::redisStoreYaml;
using ratelimit::sendRequests;

std::string header(const Response& response, const std::string& name) {
  return std::string(response[name]);
}

std::int64_t integerHeader(const Response& response, const std::string& name) {
  const auto value = parseInteger(header(response, name));
  EXPECT_TRUE(value.has_value()) << name << ": '" << header(response, name) << "'";
  return value.value_or(-1);
}

// Both algorithms must count exactly when a burst fits in one window; the tests run for each.
class RateLimitAlgorithms : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& algorithm() const { return GetParam(); }
  bool isSlidingLog() const { return algorithm() == "sliding_log"; }
};

INSTANTIATE_TEST_SUITE_P(Algorithms, RateLimitAlgorithms, ::testing::Values("sliding_window", "sliding_log"),
                         [](const auto& param_info) { return param_info.param; });

TEST_P(RateLimitAlgorithms, ExactlyTheLimitPassesAndOnlyThoseReachTheUpstream) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policy =
      "rate_limits:\n  per_client:\n    key: [ip]\n    limits: [{requests: 10, window: 60s}]\n"
      "    algorithm: " +
      algorithm() + "\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "per_client"),
                                                 redisStoreYaml(redis) + policy));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));

  const auto tally = sendRequests(client, "/item/", 25);
  EXPECT_EQ(tally.ok, 10);
  EXPECT_EQ(tally.limited, 15);
  EXPECT_EQ(tally.other, 0);

  // The first ten passed, and the upstream saw exactly those: a refused request never reaches it.
  std::vector<std::string> first_ten;
  for (int i = 0; i < 10; ++i) first_ten.push_back("/item/" + std::to_string(i));
  EXPECT_EQ(tally.admitted_targets, first_ten);
  EXPECT_EQ(ratelimit::appTargets(upstream), tally.admitted_targets);
  EXPECT_TRUE(client.isOpen()) << "a 429 must not cost the client its connection";
}

TEST_P(RateLimitAlgorithms, PassesAndRefusalsCarryTheRateLimitHeaders) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policy =
      "rate_limits:\n  burst:\n    key: [ip]\n"
      "    limits: [{requests: 5, window: 60s}, {requests: 100, window: 1h}]\n"
      "    headers: [x-ratelimit, ietf]\n    algorithm: " +
      algorithm() + "\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "burst"),
                                                 redisStoreYaml(redis) + policy));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  // sliding_log frees capacity one window after the newest request; the sliding-window counter only when the
  // window after the current one ends (up to two windows).
  const std::int64_t max_reset_seconds = isSlidingLog() ? 61 : 121;
  const std::string policy_field = R"("burst";q=5;w=60, "burst-1h";q=100;w=3600)";

  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto before = ratelimit::epochSecondsNow();
    const auto response = client.get("/ok");
    ASSERT_EQ(response.result_int(), 200);
    // The 60 s limit is the one closest to exhaustion: it is the one reported.
    EXPECT_EQ(header(response, "X-RateLimit-Limit"), "5");
    EXPECT_EQ(integerHeader(response, "X-RateLimit-Remaining"), 4 - i);
    const auto reset = integerHeader(response, "X-RateLimit-Reset");
    EXPECT_GE(reset, before) << "epoch seconds, not a delay";
    EXPECT_LE(reset, before + max_reset_seconds + 1);
    EXPECT_EQ(header(response, "RateLimit-Policy"), policy_field);
    const std::string prefix = "\"burst\";r=" + std::to_string(4 - i) + ";t=";
    const auto ietf = header(response, "RateLimit");
    ASSERT_EQ(ietf.rfind(prefix, 0), 0u) << ietf;
    const auto t = parseInteger(ietf.substr(prefix.size()));
    ASSERT_TRUE(t.has_value()) << ietf;
    EXPECT_GE(*t, 1);
    EXPECT_LE(*t, max_reset_seconds);
  }

  const auto before = ratelimit::epochSecondsNow();
  const auto refused = client.get("/refused");
  ASSERT_EQ(refused.result_int(), 429);
  EXPECT_EQ(header(refused, "Content-Type"), "application/problem+json");
  const auto retry_after = integerHeader(refused, "Retry-After");
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, max_reset_seconds);
  EXPECT_EQ(header(refused, "X-RateLimit-Limit"), "5");
  EXPECT_EQ(header(refused, "X-RateLimit-Remaining"), "0");
  EXPECT_GE(integerHeader(refused, "X-RateLimit-Reset"), before);
  EXPECT_EQ(header(refused, "RateLimit-Policy"), policy_field);
  EXPECT_EQ(header(refused, "RateLimit").rfind("\"burst\";r=0;t=", 0), 0u) << header(refused, "RateLimit");

  const auto problem = boost::json::parse(refused.body()).as_object();
  EXPECT_EQ(problem.at("type").as_string(), "https://gatehouse.dev/problems#quota-exceeded");
  EXPECT_EQ(problem.at("status").as_int64(), 429);
  EXPECT_EQ(problem.at("policy").as_string(), "burst");
  EXPECT_EQ(problem.at("retry_after").as_int64(), retry_after) << "the body and Retry-After must agree";
  EXPECT_EQ(ratelimit::appRequestCount(upstream), 5u);
}

TEST_P(RateLimitAlgorithms, WaitingRetryAfterSecondsIsEnoughToPassAgain) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policy =
      "rate_limits:\n  short:\n    key: [ip]\n    limits: [{requests: 2, window: 1s}]\n"
      "    algorithm: " +
      algorithm() + "\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "short"),
                                                 redisStoreYaml(redis) + policy));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));

  // Three rounds: each spends the limit, is refused, waits what it was told and passes.
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int passed = 0;
    Response refused;
    for (int i = 0; i < 4 && refused.result_int() != 429; ++i) {
      auto response = client.get("/r");
      if (response.result_int() == 200) {
        ++passed;
      } else {
        refused = std::move(response);
      }
    }
    ASSERT_EQ(refused.result_int(), 429);
    if (round == 0) {
      EXPECT_EQ(passed, 2);
    }
    EXPECT_LE(passed, 2);
    const auto retry_after = integerHeader(refused, "Retry-After");
    // Honest also means not inflated: a 1 s window frees capacity within 1.5 s under either algorithm.
    ASSERT_GE(retry_after, 1);
    ASSERT_LE(retry_after, 2);
    EXPECT_EQ(client.get("/r").result_int(), 429) << "retrying at once is still refused";
    std::this_thread::sleep_for(std::chrono::seconds(retry_after));
    EXPECT_EQ(client.get("/r").result_int(), 200)
        << "refused again after waiting Retry-After: " << retry_after;
  }
}

TEST(RateLimitShadow, ShadowModeNeverRefusesButCountsAndReports) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policy =
      "rate_limits:\n  trial:\n    key: [ip]\n    limits: [{requests: 3, window: 60s}]\n    shadow: true\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(upstream.address(), limitedRoute("api", "/", "trial"),
                                                 redisStoreYaml(redis) + policy));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  const auto calls_before = ratelimit::commandCalls(redis, "incrby");

  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto response = client.get("/s");
    ASSERT_EQ(response.result_int(), 200);
    EXPECT_EQ(header(response, "X-RateLimit-Limit"), "3");
    EXPECT_EQ(integerHeader(response, "X-RateLimit-Remaining"), std::max(0, 2 - i));
    EXPECT_TRUE(response.find("Retry-After") == response.end());
  }
  EXPECT_EQ(ratelimit::appRequestCount(upstream), 10u);
  // Shadow mode never answers from the over-limit cache: every request was decided by Redis.
  EXPECT_EQ(ratelimit::commandCalls(redis, "incrby") - calls_before, 10u);
}

TEST(RateLimitAllowList, AllowListedClientsAreNeitherCountedNorLimited) {
  RedisServer redis;
  TestUpstream upstream;
  const std::string policies =
      "rate_limits:\n"
      "  trusted:\n    key: [ip]\n    limits: [{requests: 2, window: 60s}]\n    allow: [127.0.0.0/8]\n"
      "  strict:\n    key: [ip]\n    limits: [{requests: 2, window: 60s}]\n";
  ProxyInstance proxy(ratelimit::rateLimitConfig(
      upstream.address(),
      limitedRoute("trusted", "/trusted/", "trusted") + limitedRoute("strict", "/strict/", "strict"),
      redisStoreYaml(redis) + policies));
  HttpClient client(proxy.port());
  ASSERT_TRUE(ratelimit::awaitStoreDecisions(client));
  const auto calls_before = ratelimit::commandCalls(redis, "incrby");

  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const auto response = client.get("/trusted/" + std::to_string(i));
    ASSERT_EQ(response.result_int(), 200);
    for (const char* name : {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit",
                             "RateLimit-Policy", "Retry-After"}) {
      EXPECT_TRUE(response.find(name) == response.end()) << name << " on an allow-listed request";
    }
  }
  EXPECT_TRUE(ratelimit::policyKeys(redis, "trusted").empty()) << "an allow-listed client is not counted";
  EXPECT_EQ(ratelimit::commandCalls(redis, "incrby"), calls_before) << "nor is the store asked about it";

  // The same client on a policy without the allow-list is limited: the allow-list made the difference.
  const auto tally = sendRequests(client, "/strict/", 5);
  EXPECT_EQ(tally.ok, 2);
  EXPECT_EQ(tally.limited, 3);
  EXPECT_EQ(ratelimit::appRequestCount(upstream), 12u);
}

}  // namespace
}  // namespace gatehouse::testing
