// Loading valid documents: the shared example, the repo's config.yaml, and the defaults of config.h.
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/config/test_support.h"

namespace gatehouse::config {
namespace {

using ::testing::ElementsAre;
using testing::errorAt;
using testing::errorsOf;
using testing::fakeEnvironment;
using ::testing::HasSubstr;
using testing::kMinimalConfig;
using testing::load;

const std::string kExamplePath = std::string(GATEHOUSE_CONFIG_TESTDATA) + "/config.example.yaml";

TEST(LoaderTest, ExampleLoadsWithSessionSecretSet) {
  const auto result = loadConfigFile(kExamplePath, fakeEnvironment({{"SESSION_SECRET", "s3cret"}}));
  ASSERT_TRUE(result.config) << errorsOf(result);
  const Config& config = *result.config;

  EXPECT_EQ(config.listen.host, "0.0.0.0");
  EXPECT_EQ(config.listen.port, 8080);
  ASSERT_TRUE(config.admin);
  EXPECT_EQ(config.admin->port, 9901);
  EXPECT_GE(config.workers, 1);
  ASSERT_EQ(config.trusted_proxies.size(), 2u);
  EXPECT_EQ(config.trusted_proxies[1].toString(), "10.0.0.0/8");
  EXPECT_EQ(config.upstream.address.port, 3000);
  EXPECT_EQ(config.limits.header_bytes, 16u * 1024);
  EXPECT_EQ(config.limits.body_bytes, 10u << 20);
  EXPECT_EQ(config.store.type, StoreConfig::Type::Redis);
  EXPECT_EQ(config.store.redis.port, 6379);
  EXPECT_EQ(config.store.timeout, 50ms);

  const SessionPolicy& app = config.sessions.at("app");
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.cookie, "connect.sid");
  EXPECT_EQ(app.format, SessionFormat::Express);
  EXPECT_THAT(app.secrets, ElementsAre("s3cret"));
  EXPECT_EQ(app.key, "sess:{id}");
  EXPECT_EQ(app.user_pointer, "/user/username");
  EXPECT_EQ(app.roles_pointer, "/user/role");
  EXPECT_EQ(app.expires_pointer, "");
  EXPECT_EQ(app.user_header, "X-User");
  EXPECT_EQ(app.login_url, "/login?next={path}");

  const RateLimitPolicy& per_client = config.rate_limits.at("per_client");
  ASSERT_EQ(per_client.limits.size(), 2u);
  EXPECT_EQ(per_client.limits[0].requests, 100u);
  EXPECT_EQ(per_client.limits[0].window, 60s);
  EXPECT_EQ(per_client.limits[1].requests, 10u);
  EXPECT_EQ(per_client.limits[1].window, 1s);
  EXPECT_TRUE(per_client.headers_x_ratelimit);
  EXPECT_TRUE(per_client.headers_ietf);
  ASSERT_EQ(per_client.allow.size(), 1u);
  EXPECT_TRUE(per_client.allow[0].contains(boost::asio::ip::make_address("127.0.0.1")));
  const RateLimitPolicy& per_user = config.rate_limits.at("per_user");
  ASSERT_EQ(per_user.key.size(), 2u);
  EXPECT_EQ(per_user.key[0].kind, RateLimitKeyPart::Kind::SessionUser);
  EXPECT_EQ(per_user.key[1].kind, RateLimitKeyPart::Kind::Route);
  EXPECT_EQ(per_user.limits.at(0).window, 1min);

  ASSERT_EQ(config.routes.size(), 6u);
  EXPECT_EQ(config.routes[0].name, "health");
  EXPECT_EQ(config.routes[0].match.kind, RouteMatch::Kind::Exact);
  EXPECT_TRUE(config.routes[0].filters.empty());
  EXPECT_THAT(config.routes[2].match.methods, ElementsAre("GET", "POST"));
  const Route& api = config.routes[3];
  ASSERT_EQ(api.filters.size(), 3u);
  const auto& session = std::get<SessionFilterConfig>(api.filters[0]);
  EXPECT_EQ(session.policy, "app");
  EXPECT_TRUE(session.require);
  EXPECT_EQ(session.on_missing, SessionFilterConfig::OnMissing::Unauthorized);
  EXPECT_EQ(std::get<RateLimitFilterConfig>(api.filters[1]).policy, "per_user");
  const auto& headers = std::get<HeadersFilterConfig>(api.filters[2]);
  EXPECT_THAT(headers.request.remove, ElementsAre("X-Debug"));
  ASSERT_EQ(headers.response.set.size(), 1u);
  EXPECT_EQ(headers.response.set[0], (std::pair<std::string, std::string>{"Cache-Control", "no-store"}));
  EXPECT_THAT(headers.response.remove, ElementsAre("Server"));
  const auto& admin_session = std::get<SessionFilterConfig>(config.routes[4].filters[0]);
  EXPECT_THAT(admin_session.roles, ElementsAre("admin"));
  EXPECT_EQ(admin_session.on_missing, SessionFilterConfig::OnMissing::Redirect);
  EXPECT_FALSE(std::get<SessionFilterConfig>(config.routes[5].filters[0]).require);
}

TEST(LoaderTest, ExampleWithoutSessionSecretNamesTheVariable) {
  const auto result = loadConfigFile(kExamplePath, fakeEnvironment({}));
  EXPECT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u) << errorsOf(result);
  const ConfigError& error = result.errors[0];
  EXPECT_EQ(error.key, "sessions.app.secrets[0]");
  EXPECT_EQ(error.line, 42);
  EXPECT_EQ(error.column, 15);
  EXPECT_THAT(error.message, HasSubstr("SESSION_SECRET"));
  EXPECT_THAT(formatErrors(result), HasSubstr("config.example.yaml:42:15: sessions.app.secrets[0]: "));
}

TEST(LoaderTest, EnvironmentOverridesExampleDefaults) {
  const auto result = loadConfigFile(
      kExamplePath,
      fakeEnvironment(
          {{"SESSION_SECRET", "x"}, {"PORT", "9000"}, {"STORE", "memory"}, {"RATE_LIMIT_WINDOW", "30"}}));
  ASSERT_TRUE(result.config) << errorsOf(result);
  EXPECT_EQ(result.config->listen.port, 9000);
  EXPECT_EQ(result.config->store.type, StoreConfig::Type::Memory);
  EXPECT_EQ(result.config->rate_limits.at("per_client").limits[0].window, 30s);
}

TEST(LoaderTest, RepositoryConfigLoads) {
  const std::string path = GATEHOUSE_REPO_CONFIG;
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not written yet";
  const auto result = loadConfigFile(path, fakeEnvironment({{"SESSION_SECRET", "test-secret"}}));
  ASSERT_TRUE(result.config) << errorsOf(result);
  EXPECT_FALSE(result.config->routes.empty());
  // What `gatehouse --check` prints for it must load too.
  const std::string description = describeEffectiveConfig(*result.config);
  const auto reloaded = load(description);
  ASSERT_TRUE(reloaded.config) << errorsOf(reloaded) << description;
  EXPECT_EQ(describeEffectiveConfig(*reloaded.config), description);
}

TEST(LoaderTest, BusyPollIsAutoOffOrAFixedTime) {
  const auto mode = [](const std::string& value) {
    const auto result = load(std::string(kMinimalConfig) + "busy_poll: " + value + "\n");
    EXPECT_TRUE(result.config) << errorsOf(result);
    return result.config ? result.config->busy_poll : BusyPoll{};
  };
  EXPECT_EQ(mode("auto"), (BusyPoll{BusyPoll::Mode::Adaptive, kAdaptiveBusyPollMax}));
  EXPECT_EQ(mode("off").mode, BusyPoll::Mode::Off);
  EXPECT_EQ(mode("0us").mode, BusyPoll::Mode::Off);
  EXPECT_EQ(mode("2ms"), (BusyPoll{BusyPoll::Mode::Fixed, std::chrono::microseconds(2000)}));
  EXPECT_EQ(mode("${UNSET_BUSY_POLL:-auto}").mode, BusyPoll::Mode::Adaptive);  // after substitution
  EXPECT_EQ(mode("${UNSET_BUSY_POLL:-off}").mode, BusyPoll::Mode::Off);
}

TEST(LoaderTest, MissingFileIsAnError) {
  const auto result = loadConfigFile("/nonexistent/gatehouse.yaml", fakeEnvironment({}));
  EXPECT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].message, HasSubstr("cannot open"));
  EXPECT_EQ(result.source_name, "/nonexistent/gatehouse.yaml");
}

TEST(LoaderTest, MinimalDocumentGetsEveryDefault) {
  const auto result = load(kMinimalConfig);
  ASSERT_TRUE(result.config) << errorsOf(result);
  const Config& config = *result.config;
  const Config defaults;
  EXPECT_EQ(config.listen.host, "0.0.0.0");
  EXPECT_EQ(config.listen.port, 8080);
  EXPECT_FALSE(config.admin);
  EXPECT_EQ(config.workers, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
  EXPECT_EQ(config.busy_poll, (BusyPoll{BusyPoll::Mode::Adaptive, kAdaptiveBusyPollMax}));
  EXPECT_TRUE(config.trusted_proxies.empty());
  EXPECT_EQ(config.upstream.connect_timeout, defaults.upstream.connect_timeout);
  EXPECT_EQ(config.upstream.max_idle, defaults.upstream.max_idle);
  EXPECT_EQ(config.limits.body_bytes, defaults.limits.body_bytes);
  EXPECT_EQ(config.limits.max_connections, defaults.limits.max_connections);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.access, LogConfig::Access::Json);
  EXPECT_EQ(config.store.type, StoreConfig::Type::Memory);
  EXPECT_EQ(config.store.url, defaults.store.url);
  EXPECT_EQ(config.store.redis.host, "127.0.0.1");
  EXPECT_EQ(config.store.memory_max_keys, defaults.store.memory_max_keys);
  EXPECT_TRUE(config.sessions.empty());
  EXPECT_TRUE(config.routes.empty());
}

TEST(LoaderTest, PolicyDefaultsMatchConfigHeader) {
  const auto result = load(std::string(kMinimalConfig) + R"(
sessions:
  s: {secrets: [k]}
rate_limits:
  r: {limits: [{requests: 1, window: 1s}]}
)");
  ASSERT_TRUE(result.config) << errorsOf(result);
  const SessionPolicy& session = result.config->sessions.at("s");
  const SessionPolicy session_defaults;
  EXPECT_EQ(session.cookie, session_defaults.cookie);
  EXPECT_EQ(session.format, SessionFormat::Express);
  EXPECT_EQ(session.ttl, session_defaults.ttl);
  EXPECT_EQ(session.touch_every, session_defaults.touch_every);
  EXPECT_EQ(session.on_store_error, SessionStoreErrorPolicy::Deny);
  const RateLimitPolicy& rate = result.config->rate_limits.at("r");
  ASSERT_EQ(rate.key.size(), 1u);
  EXPECT_EQ(rate.key[0].kind, RateLimitKeyPart::Kind::Ip);
  EXPECT_EQ(rate.algorithm, RateLimitAlgorithm::SlidingWindow);
  EXPECT_EQ(rate.on_store_error, RateLimitStoreErrorPolicy::Allow);
  EXPECT_TRUE(rate.headers_x_ratelimit);
  EXPECT_FALSE(rate.headers_ietf);
}

TEST(LoaderTest, EveryFieldIsSettable) {
  const auto result = load(R"(
listen: "[::1]:0"
admin: "[::1]:9901"
workers: 3
busy_poll: 80us
upstream: {address: unix:/run/app.sock, connect_timeout: 1s, response_timeout: 5s, max_idle: 0, idle_timeout: 2m}
limits: {header_bytes: 8KiB, body_bytes: 1MB, uri_bytes: 2048, header_timeout: 5s, idle_timeout: 30s,
         drain_timeout: 0s, max_connections: 50}
log: {level: debug, access: text}
store:
  type: redis
  url: rediss://gate:pw@redis.internal:6380/4
  timeout: 20ms
  connections: 2
  tls: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, verify: false}
  memory_max_keys: 500
sessions:
  s:
    cookie: sid
    format: plain
    key: "session:{id}"
    identity: {user: /name, roles: /roles, expires: /exp}
    headers: {user: X-Name, roles: X-Groups}
    rolling: true
    touch_every: 30s
    ttl: 2h
    cache: 500ms
    on_store_error: allow
    login_url: https://sso.example/login?to={path}
rate_limits:
  r:
    key: [ip, header:X-Api-Key, cookie:sid, session.user, route, method]
    limits: [{requests: 5, window: 250ms}]
    algorithm: sliding_log
    on_store_error: local
    shadow: true
    headers: [ietf]
    allow: ["::1", 192.168.0.0/16]
routes:
  - match: {regex: "^/items/[0-9]+$", methods: [get], host: API.Example.com}
    body_bytes: 1KiB
    filters:
      - rate_limit: {policy: r}
      - headers: {request: {add: {X-A: "1"}, set: {X-B: "2"}, remove: [X-C]}}
      - session: {policy: s, require: false, roles: [a, b], on_missing: redirect}
)");
  ASSERT_TRUE(result.config) << errorsOf(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.listen.host, "::1");
  EXPECT_EQ(c.listen.port, 0);
  EXPECT_EQ(c.admin->host, "::1");
  EXPECT_EQ(c.admin->port, 9901);
  EXPECT_EQ(c.workers, 3);
  EXPECT_EQ(c.busy_poll, (BusyPoll{BusyPoll::Mode::Fixed, std::chrono::microseconds(80)}));
  EXPECT_EQ(c.upstream.address.path, "/run/app.sock");
  EXPECT_EQ(c.upstream.connect_timeout, 1s);
  EXPECT_EQ(c.upstream.response_timeout, 5s);
  EXPECT_EQ(c.upstream.max_idle, 0u);
  EXPECT_EQ(c.upstream.idle_timeout, 2min);
  EXPECT_EQ(c.limits.header_bytes, 8192u);
  EXPECT_EQ(c.limits.body_bytes, 1'000'000u);
  EXPECT_EQ(c.limits.uri_bytes, 2048u);
  EXPECT_EQ(c.limits.header_timeout, 5s);
  EXPECT_EQ(c.limits.idle_timeout, 30s);
  EXPECT_EQ(c.limits.drain_timeout, 0s);
  EXPECT_EQ(c.limits.max_connections, 50u);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.access, LogConfig::Access::Text);
  EXPECT_EQ(c.store.type, StoreConfig::Type::Redis);
  EXPECT_EQ(c.store.url, "rediss://gate:pw@redis.internal:6380/4");
  EXPECT_TRUE(c.store.redis.tls);
  EXPECT_EQ(c.store.redis.user, "gate");
  EXPECT_EQ(c.store.redis.password, "pw");
  EXPECT_EQ(c.store.redis.db, 4);
  EXPECT_EQ(c.store.timeout, 20ms);
  EXPECT_EQ(c.store.connections, 2);
  EXPECT_EQ(c.store.tls.ca_file, "/ca.pem");
  EXPECT_EQ(c.store.tls.cert_file, "/c.pem");
  EXPECT_EQ(c.store.tls.key_file, "/k.pem");
  EXPECT_FALSE(c.store.tls.verify);
  EXPECT_EQ(c.store.memory_max_keys, 500u);

  const SessionPolicy& s = c.sessions.at("s");
  EXPECT_EQ(s.cookie, "sid");
  EXPECT_EQ(s.format, SessionFormat::Plain);
  EXPECT_TRUE(s.secrets.empty());
  EXPECT_EQ(s.key, "session:{id}");
  EXPECT_EQ(s.user_pointer, "/name");
  EXPECT_EQ(s.roles_pointer, "/roles");
  EXPECT_EQ(s.expires_pointer, "/exp");
  EXPECT_EQ(s.user_header, "X-Name");
  EXPECT_EQ(s.roles_header, "X-Groups");
  EXPECT_TRUE(s.rolling);
  EXPECT_EQ(s.touch_every, 30s);
  EXPECT_EQ(s.ttl, 2h);
  EXPECT_EQ(s.cache, 500ms);
  EXPECT_EQ(s.on_store_error, SessionStoreErrorPolicy::Allow);
  EXPECT_EQ(s.login_url, "https://sso.example/login?to={path}");

  const RateLimitPolicy& r = c.rate_limits.at("r");
  ASSERT_EQ(r.key.size(), 6u);
  EXPECT_EQ(r.key[1].kind, RateLimitKeyPart::Kind::Header);
  EXPECT_EQ(r.key[1].name, "X-Api-Key");
  EXPECT_EQ(r.key[2].kind, RateLimitKeyPart::Kind::Cookie);
  EXPECT_EQ(r.key[2].name, "sid");
  EXPECT_EQ(r.key[5].kind, RateLimitKeyPart::Kind::Method);
  EXPECT_EQ(r.limits.at(0).window, 250ms);
  EXPECT_EQ(r.algorithm, RateLimitAlgorithm::SlidingLog);
  EXPECT_EQ(r.on_store_error, RateLimitStoreErrorPolicy::Local);
  EXPECT_TRUE(r.shadow);
  EXPECT_FALSE(r.headers_x_ratelimit);
  EXPECT_TRUE(r.headers_ietf);
  ASSERT_EQ(r.allow.size(), 2u);
  EXPECT_EQ(r.allow[0].toString(), "::1/128");

  ASSERT_EQ(c.routes.size(), 1u);
  const Route& route = c.routes[0];
  EXPECT_EQ(route.name, "route-0");
  EXPECT_EQ(route.match.kind, RouteMatch::Kind::Regex);
  ASSERT_TRUE(route.match.regex);
  EXPECT_TRUE(std::regex_match("/items/42", *route.match.regex));
  EXPECT_FALSE(std::regex_match("/items/x", *route.match.regex));
  EXPECT_THAT(route.match.methods, ElementsAre("GET"));
  EXPECT_EQ(route.match.host, "api.example.com");
  EXPECT_EQ(route.body_bytes, 1024u);
  ASSERT_EQ(route.filters.size(), 3u);
  EXPECT_EQ(std::get<RateLimitFilterConfig>(route.filters[0]).policy, "r");
  const auto& headers = std::get<HeadersFilterConfig>(route.filters[1]);
  EXPECT_EQ(headers.request.add.at(0), (std::pair<std::string, std::string>{"X-A", "1"}));
  EXPECT_EQ(headers.request.set.at(0), (std::pair<std::string, std::string>{"X-B", "2"}));
  EXPECT_THAT(headers.request.remove, ElementsAre("X-C"));
  const auto& session = std::get<SessionFilterConfig>(route.filters[2]);
  EXPECT_FALSE(session.require);
  EXPECT_THAT(session.roles, ElementsAre("a", "b"));
  EXPECT_EQ(session.on_missing, SessionFilterConfig::OnMissing::Redirect);
}

TEST(LoaderTest, EmptyAdminMeansNoAdminListener) {
  const auto off = load(std::string(kMinimalConfig) + "admin: ${ADMIN:-}\n");
  ASSERT_TRUE(off.config) << errorsOf(off);
  EXPECT_FALSE(off.config->admin);
  const auto on = load(std::string(kMinimalConfig) + "admin: ${ADMIN:-}\n", {{"ADMIN", "127.0.0.1:9901"}});
  ASSERT_TRUE(on.config) << errorsOf(on);
  ASSERT_TRUE(on.config->admin);
  EXPECT_EQ(on.config->admin->port, 9901);
}

TEST(LoaderTest, WorkersAutoUsesTheCoreCount) {
  const auto result = load(std::string(kMinimalConfig) + "workers: ${WORKERS:-auto}\n");
  ASSERT_TRUE(result.config) << errorsOf(result);
  EXPECT_EQ(result.config->workers, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

TEST(LoaderTest, SubstitutionHappensBeforeTypeConversion) {
  const auto result = load(std::string(kMinimalConfig) +
                               "limits: {body_bytes: \"${BODY}\", header_timeout: \"${T:-7}s\"}\n"
                               "log: {level: \"${LEVEL:-}warn\"}\n",
                           {{"BODY", "2MiB"}});
  ASSERT_TRUE(result.config) << errorsOf(result);
  EXPECT_EQ(result.config->limits.body_bytes, 2u << 20);
  EXPECT_EQ(result.config->limits.header_timeout, 7s);
  EXPECT_EQ(result.config->log.level, "warn");
}

TEST(LoaderTest, LiteralDollarBraceSurvives) {
  const auto result = load(std::string(kMinimalConfig) + R"(
sessions:
  s: {format: plain, login_url: "/login?v=$${NOT_A_VAR}"}
)");
  ASSERT_TRUE(result.config) << errorsOf(result);
  EXPECT_EQ(result.config->sessions.at("s").login_url, "/login?v=${NOT_A_VAR}");
}

TEST(LoaderTest, EmptyListsAndMissingOptionalSections) {
  const auto result = load(std::string(kMinimalConfig) + R"(
trusted_proxies: []
sessions:
rate_limits: {}
routes:
  - {name: a, match: {prefix: /}, filters: []}
  - {name: b, match: {prefix: /b}}
)");
  ASSERT_TRUE(result.config) << errorsOf(result);
  EXPECT_EQ(result.config->routes.size(), 2u);
  EXPECT_TRUE(result.config->routes[1].filters.empty());
  EXPECT_FALSE(result.config->routes[1].body_bytes);
}

TEST(LoaderTest, ErrorToStringOmitsMissingParts) {
  EXPECT_EQ((ConfigError{"routes[2].match", 12, 5, "bad"}).toString(), "12:5: routes[2].match: bad");
  EXPECT_EQ((ConfigError{"", 3, 1, "bad"}).toString(), "3:1: bad");
  EXPECT_EQ((ConfigError{"", 0, 0, "bad"}).toString(), "bad");
  EXPECT_EQ(formatError("config.yaml", ConfigError{"upstream", 2, 3, "bad"}),
            "config.yaml:2:3: upstream: bad");
  EXPECT_EQ(formatError("config.yaml", ConfigError{"upstream", 0, 0, "bad"}), "config.yaml: upstream: bad");
}

}  // namespace
}  // namespace gatehouse::config
