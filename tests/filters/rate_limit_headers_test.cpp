#include "filters/rate_limit_headers.h"

#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace gatehouse::filters {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::Pair;

constexpr std::int64_t kNowMs = 1'700'000'000'500;  // half past a second, to expose rounding

config::RateLimitPolicy policyWith(std::vector<config::WindowLimit> limits, bool x_ratelimit = true,
                                   bool ietf = true) {
  config::RateLimitPolicy policy;
  policy.name = "per_client";
  policy.limits = std::move(limits);
  policy.headers_x_ratelimit = x_ratelimit;
  policy.headers_ietf = ietf;
  return policy;
}

store::RateLimitResult resultWith(std::vector<store::LimitState> states, bool allowed = true) {
  store::RateLimitResult result;
  result.allowed = allowed;
  result.limits.assign(states.begin(), states.end());
  result.now_ms = kNowMs;
  return result;
}

TEST(ClosestToExhaustionTest, PicksFewestRemaining) {
  const std::vector<config::WindowLimit> limits{{100, 60s}, {10, 1s}};
  EXPECT_EQ(closestToExhaustion(std::vector<store::LimitState>{{100, 3, 1000ms}, {10, 7, 200ms}}, limits),
            0u);
  EXPECT_EQ(closestToExhaustion(std::vector<store::LimitState>{{100, 42, 1000ms}, {10, 7, 200ms}}, limits),
            1u);
}

TEST(ClosestToExhaustionTest, TieGoesToTheShortestWindow) {
  const std::vector<config::WindowLimit> limits{{100, 60s}, {10, 1s}, {50, 10s}};
  EXPECT_EQ(
      closestToExhaustion(std::vector<store::LimitState>{{100, 0, 40s}, {10, 0, 1s}, {50, 0, 5s}}, limits),
      1u);
}

TEST(RetryAfterSecondsTest, RoundsUpAndIsAtLeastOne) {
  EXPECT_EQ(retryAfterSeconds(0ms), 1);
  EXPECT_EQ(retryAfterSeconds(-5ms), 1);
  EXPECT_EQ(retryAfterSeconds(1ms), 1);
  EXPECT_EQ(retryAfterSeconds(1000ms), 1);
  EXPECT_EQ(retryAfterSeconds(1001ms), 2);
  EXPECT_EQ(retryAfterSeconds(59'999ms), 60);
}

TEST(RateLimitHeaderFormatterTest, XRateLimitReportsTheClosestLimitWithResetInEpochSecondsRoundedUp) {
  const RateLimitHeaderFormatter formatter(policyWith({{100, 60s}, {10, 1s}}, true, false));
  // 1'700'000'000'500 + 1'200 = 1'700'000'001'700 ms → 1'700'000'002 s.
  EXPECT_THAT(formatter.fields(resultWith({{100, 42, 30'000ms}, {10, 3, 1'200ms}})),
              ElementsAre(Pair("X-RateLimit-Limit", "10"), Pair("X-RateLimit-Remaining", "3"),
                          Pair("X-RateLimit-Reset", "1700000002")));
}

TEST(RateLimitHeaderFormatterTest, ResetOnAWholeSecondIsNotRoundedFurther) {
  const RateLimitHeaderFormatter formatter(policyWith({{100, 60s}}, true, false));
  auto result = resultWith({{100, 99, 1'500ms}});  // 1'700'000'000'500 + 1'500 = 1'700'000'002'000
  EXPECT_THAT(formatter.fields(result),
              ElementsAre(Pair("X-RateLimit-Limit", "100"), Pair("X-RateLimit-Remaining", "99"),
                          Pair("X-RateLimit-Reset", "1700000002")));
}

TEST(RateLimitHeaderFormatterTest, ConfiguredLimitStandsInWhenTheStoreDoesNotEchoIt) {
  const RateLimitHeaderFormatter formatter(policyWith({{100, 60s}}, true, false));
  const auto fields = formatter.fields(resultWith({{0, 5, 1s}}));
  ASSERT_FALSE(fields.empty());
  EXPECT_EQ(fields.front(), (std::pair<std::string_view, std::string>("X-RateLimit-Limit", "100")));
}

TEST(RateLimitHeaderFormatterTest, IetfFieldsWithOneLimit) {
  const RateLimitHeaderFormatter formatter(policyWith({{100, 60s}}, false, true));
  EXPECT_EQ(formatter.policyFieldValue(), "\"per_client\";q=100;w=60");
  EXPECT_THAT(formatter.fields(resultWith({{100, 42, 16'200ms}})),
              ElementsAre(Pair("RateLimit-Policy", "\"per_client\";q=100;w=60"),
                          Pair("RateLimit", "\"per_client\";r=42;t=17")));
}

TEST(RateLimitHeaderFormatterTest, IetfFieldsWithTwoLimitsNameEachItemAndReportTheClosest) {
  const RateLimitHeaderFormatter formatter(policyWith({{100, 60s}, {10, 1s}}, false, true));
  EXPECT_THAT(formatter.itemNames(), ElementsAre("per_client", "per_client-1s"));
  EXPECT_THAT(formatter.fields(resultWith({{100, 42, 30'000ms}, {10, 3, 400ms}})),
              ElementsAre(Pair("RateLimit-Policy", "\"per_client\";q=100;w=60, \"per_client-1s\";q=10;w=1"),
                          Pair("RateLimit", "\"per_client-1s\";r=3;t=1")));
}

TEST(RateLimitHeaderFormatterTest, ItemNamesStayDistinctAndWindowsAreWholeSeconds) {
  const RateLimitHeaderFormatter formatter(policyWith({{1000, 1h}, {100, 5min}, {5, 500ms}, {6, 500ms}}));
  EXPECT_THAT(formatter.itemNames(),
              ElementsAre("per_client", "per_client-5m", "per_client-500ms", "per_client-500ms-3"));
  EXPECT_EQ(formatter.policyFieldValue(),
            "\"per_client\";q=1000;w=3600, \"per_client-5m\";q=100;w=300, \"per_client-500ms\";q=5;w=1, "
            "\"per_client-500ms-3\";q=6;w=1");
}

TEST(RateLimitHeaderFormatterTest, PolicyNamesAreEscapedAsStructuredFieldStrings) {
  auto policy = policyWith({{1, 1s}}, false, true);
  policy.name = "a\"b\\c";
  EXPECT_EQ(RateLimitHeaderFormatter(policy).policyFieldValue(), R"("a\"b\\c";q=1;w=1)");
}

TEST(RateLimitHeaderFormatterTest, NoFieldsWhenDisabledOrWhenTheStoreSaidNothingUsable) {
  EXPECT_TRUE(RateLimitHeaderFormatter(policyWith({{100, 60s}}, false, false))
                  .fields(resultWith({{100, 1, 1s}}))
                  .empty());
  const RateLimitHeaderFormatter formatter(policyWith({{100, 60s}, {10, 1s}}));
  EXPECT_TRUE(formatter.fields(resultWith({{100, 1, 1s}})).empty());
  EXPECT_TRUE(formatter.fields(resultWith({})).empty());
}

TEST(QuotaExceededBodyTest, IsAProblemDocument) {
  const auto body = boost::json::parse(quotaExceededBody("per_client", 17)).as_object();
  EXPECT_EQ(body.at("type").as_string(), "https://gatehouse.dev/problems#quota-exceeded");
  EXPECT_EQ(body.at("title").as_string(), "Too Many Requests");
  EXPECT_EQ(body.at("status").as_int64(), 429);
  EXPECT_EQ(body.at("policy").as_string(), "per_client");
  EXPECT_EQ(body.at("retry_after").as_int64(), 17);
  EXPECT_FALSE(body.at("detail").as_string().empty());
}

TEST(StoreUnavailableBodyTest, IsTheDocumentedJson) {
  EXPECT_EQ(boost::json::parse(storeUnavailableBody()),
            boost::json::parse(R"({"error":"rate limit store unavailable"})"));
}

HeaderFields trio(std::string limit, std::string remaining, std::string reset) {
  return {{"X-RateLimit-Limit", std::move(limit)},
          {"X-RateLimit-Remaining", std::move(remaining)},
          {"X-RateLimit-Reset", std::move(reset)}};
}

TEST(AddRateLimitFieldsTest, SetsFieldsOnAPlainResponse) {
  ResponseHeader response;
  addRateLimitFields(response, trio("100", "42", "1700000002"));
  EXPECT_EQ(response["X-RateLimit-Limit"], "100");
  EXPECT_EQ(response["X-RateLimit-Remaining"], "42");
  EXPECT_EQ(response["X-RateLimit-Reset"], "1700000002");
}

TEST(AddRateLimitFieldsTest, AnExistingTrioWithFewerRemainingIsKept) {
  ResponseHeader response;
  addRateLimitFields(response, trio("10", "0", "1700000005"));  // e.g. a 429 made by a later filter
  addRateLimitFields(response, trio("100", "42", "1700000002"));
  EXPECT_EQ(response["X-RateLimit-Limit"], "10");
  EXPECT_EQ(response["X-RateLimit-Remaining"], "0");
  EXPECT_EQ(response["X-RateLimit-Reset"], "1700000005");
  EXPECT_EQ(std::distance(response.equal_range("X-RateLimit-Limit").first,
                          response.equal_range("X-RateLimit-Limit").second),
            1);
}

TEST(AddRateLimitFieldsTest, AnExistingTrioWithMoreRemainingIsReplaced) {
  ResponseHeader response;
  addRateLimitFields(response, trio("100", "42", "1700000002"));
  addRateLimitFields(response, trio("10", "3", "1700000001"));
  EXPECT_EQ(response["X-RateLimit-Limit"], "10");
  EXPECT_EQ(response["X-RateLimit-Remaining"], "3");
  EXPECT_EQ(response["X-RateLimit-Reset"], "1700000001");
}

TEST(AddRateLimitFieldsTest, IetfFieldsOfSeveralPoliciesAreAllSent) {
  ResponseHeader response;
  addRateLimitFields(response, {{"RateLimit-Policy", "\"a\";q=1;w=1"}, {"RateLimit", "\"a\";r=0;t=1"}});
  addRateLimitFields(response, {{"RateLimit-Policy", "\"b\";q=2;w=1"}, {"RateLimit", "\"b\";r=1;t=1"}});
  std::vector<std::string> values;
  for (auto [it, end] = response.equal_range("RateLimit"); it != end; ++it) values.emplace_back(it->value());
  EXPECT_THAT(values, ElementsAre("\"a\";r=0;t=1", "\"b\";r=1;t=1"));
}

}  // namespace
}  // namespace gatehouse::filters
