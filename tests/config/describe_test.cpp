// describeEffectiveConfig: valid YAML the loader accepts again, with defaults filled in and secrets redacted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/config/test_support.h"

namespace gatehouse::config {
namespace {

using testing::errorsOf;
using testing::fakeEnvironment;
using ::testing::HasSubstr;
using testing::kMinimalConfig;
using testing::load;
using ::testing::Not;

const std::string kExamplePath = std::string(GATEHOUSE_CONFIG_TESTDATA) + "/config.example.yaml";

std::shared_ptr<const Config> reload(const std::string& description) {
  const auto result = load(description);
  EXPECT_TRUE(result.config) << errorsOf(result) << "\n--- description ---\n" << description;
  return result.config;
}

TEST(DescribeTest, ExampleRoundTripsToAFixpoint) {
  const auto original =
      loadConfigFile(kExamplePath, fakeEnvironment({{"SESSION_SECRET", "hunter2-session-key"}}));
  ASSERT_TRUE(original.config) << errorsOf(original);
  const std::string first = describeEffectiveConfig(*original.config);
  const auto reloaded = reload(first);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(describeEffectiveConfig(*reloaded), first);

  // Spot checks that the reloaded config is the same config, not merely the same text.
  const Config& a = *original.config;
  const Config& b = *reloaded;
  EXPECT_EQ(b.listen.port, a.listen.port);
  EXPECT_EQ(b.workers, a.workers);
  EXPECT_EQ(b.busy_poll, a.busy_poll);
  EXPECT_EQ(b.limits.body_bytes, a.limits.body_bytes);
  EXPECT_EQ(b.store.redis.host, a.store.redis.host);
  EXPECT_EQ(b.rate_limits.at("per_client").limits[0].window, a.rate_limits.at("per_client").limits[0].window);
  EXPECT_EQ(b.rate_limits.at("per_client").allow.size(), 1u);
  ASSERT_EQ(b.routes.size(), a.routes.size());
  for (std::size_t i = 0; i < a.routes.size(); ++i) {
    EXPECT_EQ(b.routes[i].name, a.routes[i].name);
    EXPECT_EQ(b.routes[i].match.path, a.routes[i].match.path);
    EXPECT_EQ(b.routes[i].filters.size(), a.routes[i].filters.size());
  }
}

TEST(DescribeTest, BusyPollRoundTrips) {
  const auto result = load(std::string(kMinimalConfig) + "busy_poll: 80us\n");
  ASSERT_TRUE(result.config) << errorsOf(result);
  const std::string description = describeEffectiveConfig(*result.config);
  EXPECT_THAT(description, HasSubstr("busy_poll: 80us"));
  const auto reloaded = reload(description);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->busy_poll, (BusyPoll{BusyPoll::Mode::Fixed, std::chrono::microseconds(80)}));

  for (const std::string mode : {"auto", "off"}) {
    const auto other = load(std::string(kMinimalConfig) + "busy_poll: " + mode + "\n");
    ASSERT_TRUE(other.config) << errorsOf(other);
    EXPECT_THAT(describeEffectiveConfig(*other.config), HasSubstr("busy_poll: " + mode + "\n"));
  }
}

TEST(DescribeTest, RedactsSessionSecretsAndStorePassword) {
  const auto result = load(std::string(kMinimalConfig) + R"(
store: {url: "redis://gate:pa55word@10.0.0.1:6379/1"}
sessions:
  app: {secrets: [first-secret-value, second-secret-value]}
)");
  ASSERT_TRUE(result.config) << errorsOf(result);
  const std::string description = describeEffectiveConfig(*result.config);
  EXPECT_THAT(description, Not(HasSubstr("first-secret-value")));
  EXPECT_THAT(description, Not(HasSubstr("second-secret-value")));
  EXPECT_THAT(description, Not(HasSubstr("pa55word")));
  EXPECT_THAT(description, HasSubstr("redis://gate:<redacted>@10.0.0.1:6379/1"));

  const auto reloaded = reload(description);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->sessions.at("app").secrets.size(), 2u);  // rotation stays visible
  EXPECT_EQ(reloaded->store.redis.user, "gate");
  EXPECT_EQ(reloaded->store.redis.db, 1);
}

TEST(DescribeTest, FillsInDefaults) {
  const auto result = load(kMinimalConfig);
  ASSERT_TRUE(result.config) << errorsOf(result);
  const std::string description = describeEffectiveConfig(*result.config);
  EXPECT_THAT(description, HasSubstr("listen: \"0.0.0.0:8080\""));
  EXPECT_THAT(description, HasSubstr("body_bytes: 10MiB"));
  EXPECT_THAT(description, HasSubstr("connect_timeout: 2s"));
  EXPECT_THAT(description, HasSubstr("memory_max_keys: 1000000"));
  EXPECT_THAT(description, Not(HasSubstr("admin:")));  // absent stays absent
}

TEST(DescribeTest, AwkwardStringsSurviveTheRoundTrip) {
  const auto result = load(std::string(kMinimalConfig) + R"(
sessions:
  s:
    format: plain
    login_url: "/login?x=$${HOME}&y=null"
rate_limits:
  r: {key: [ip], limits: [{requests: 1, window: 1500ms}], headers: []}
routes:
  - name: odd
    match: {regex: "^/(a|b)[0-9]*$", host: "Example.COM"}
    body_bytes: 1000
    filters:
      - headers: {response: {set: {X-Null: "null", X-Empty: "", X-Colon: "a: b # c", "null": v}}}
)");
  ASSERT_TRUE(result.config) << errorsOf(result);
  const auto reloaded = reload(describeEffectiveConfig(*result.config));
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->sessions.at("s").login_url, "/login?x=${HOME}&y=null");
  EXPECT_EQ(reloaded->rate_limits.at("r").limits[0].window, 1500ms);
  EXPECT_FALSE(reloaded->rate_limits.at("r").headers_x_ratelimit);
  const Route& route = reloaded->routes.at(0);
  EXPECT_EQ(route.match.path, "^/(a|b)[0-9]*$");
  EXPECT_EQ(route.match.host, "example.com");
  EXPECT_EQ(route.body_bytes, 1000u);
  const auto& set = std::get<HeadersFilterConfig>(route.filters.at(0)).response.set;
  ASSERT_EQ(set.size(), 4u);
  EXPECT_EQ(set[0].second, "null");
  EXPECT_EQ(set[1].second, "");
  EXPECT_EQ(set[2].second, "a: b # c");
  EXPECT_EQ(set[3].first, "null");
}

}  // namespace
}  // namespace gatehouse::config
