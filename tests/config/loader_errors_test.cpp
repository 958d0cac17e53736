// Every class of config error: reported (not thrown), with the key path, the 1-based line and column, and a
// message that says what was expected. Documents start on line 1 right after R"( so line numbers read off the
// literal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/config/test_support.h"

namespace gatehouse::config {
namespace {

using testing::errorAt;
using testing::errorsOf;
using ::testing::HasSubstr;
using testing::load;

// Asserts that the load failed with an error at `key` on `line` whose message contains `text`.
void expectError(const LoadResult& result, std::string_view key, int line, std::string_view text) {
  EXPECT_FALSE(result.config);
  const ConfigError* error = errorAt(result, key);
  ASSERT_NE(error, nullptr) << "no error at " << key << "; got:\n" << errorsOf(result);
  EXPECT_EQ(error->line, line) << error->toString();
  EXPECT_GT(error->column, 0) << error->toString();
  EXPECT_THAT(error->message, HasSubstr(std::string(text)));
}

TEST(LoaderErrorsTest, YamlSyntaxErrorIsOneErrorWithPosition) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
routes:
  - name: [unclosed
)");
  EXPECT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u) << errorsOf(result);
  EXPECT_GT(result.errors[0].line, 0);
  EXPECT_THAT(result.errors[0].message, HasSubstr("invalid YAML"));
}

TEST(LoaderErrorsTest, EmptyDocumentAndNonMapRoot) {
  EXPECT_THAT(load("").errors.at(0).message, HasSubstr("empty"));
  expectError(load("- a\n- b\n"), "", 1, "expected a map");
}

TEST(LoaderErrorsTest, UnknownKeysSuggestTheClosestName) {
  const auto result = load(R"(upstream:
  address: 127.0.0.1:3000
  conect_timeout: 1s
rouets: []
totally_unrelated: 1
)");
  expectError(result, "upstream.conect_timeout", 3, "did you mean \"connect_timeout\"");
  expectError(result, "rouets", 4, "did you mean \"routes\"");
  expectError(result, "totally_unrelated", 5, "unknown key");
  EXPECT_THAT(errorAt(result, "totally_unrelated")->message, ::testing::Not(HasSubstr("did you mean")));
}

TEST(LoaderErrorsTest, MisspeltRequiredKeyIsReportedOnce) {
  const auto result = load("upstream:\n  adress: 127.0.0.1:3000\n");
  ASSERT_EQ(result.errors.size(), 1u) << errorsOf(result);
  expectError(result, "upstream.adress", 2, "did you mean \"address\"");
}

TEST(LoaderErrorsTest, NoSuggestionWhenEveryLetterDiffers) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
rate_limits:
  r: {limits: [{requests: 1, window: 1s}]}
routes:
  - match: {prefix: /}
    filters: [{rate_limit: x}]
)");
  expectError(result, "routes[0].filters[0].rate_limit", 6, "unknown rate-limit policy \"x\" (defined: r)");
}

TEST(LoaderErrorsTest, DuplicateKeys) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
log: {level: info}
log: {level: debug}
)");
  expectError(result, "log", 3, "duplicate key");
}

TEST(LoaderErrorsTest, MissingUpstreamAddress) {
  expectError(load("listen: 127.0.0.1:8080\n"), "upstream", 1, "missing required key");
  expectError(load("upstream: {connect_timeout: 1s}\n"), "upstream.address", 1, "missing required key");
}

TEST(LoaderErrorsTest, WrongTypes) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000, max_idle: [1]}
limits: 5
trusted_proxies: 10.0.0.0/8
store: {tls: {verify: yes}}
sessions:
  s: {format: plain, rolling: 1}
log: {level: }
)");
  expectError(result, "upstream.max_idle", 1, "expected a whole number, found a list");
  expectError(result, "limits", 2, "expected a map");
  expectError(result, "trusted_proxies", 3, "expected a list");
  expectError(result, "store.tls.verify", 4, "expected true or false");
  expectError(result, "sessions.s.rolling", 6, "expected true or false");
  expectError(result, "log.level", 7, "found no value");
}

TEST(LoaderErrorsTest, BadDurationsAndSizes) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000, connect_timeout: 30}
limits:
  body_bytes: 10M
  header_timeout: 1.5s
  idle_timeout: 1d
  header_bytes: 0
)");
  expectError(result, "upstream.connect_timeout", 1, "no unit");
  expectError(result, "limits.body_bytes", 3, "unknown unit");
  expectError(result, "limits.header_timeout", 4, "fractions");
  expectError(result, "limits.idle_timeout", 5, "unknown unit");
  expectError(result, "limits.header_bytes", 6, "at least");
}

TEST(LoaderErrorsTest, BadAddressesAndPorts) {
  const auto result = load(R"(listen: localhost
admin: 127.0.0.1:70000
upstream: {address: "127.0.0.1:0"}
)");
  expectError(result, "listen", 1, "missing port");
  expectError(result, "admin", 2, "out of range");
  expectError(result, "upstream.address", 3, "out of range");
}

// What a listener cannot bind as written fails at load, so `--check` catches it too.
TEST(LoaderErrorsTest, ListenersMustBeBindableAsWritten) {
  const auto names = load(R"(listen: localhost:8080
admin: admin.internal:9901
upstream: {address: localhost:3000}
)");
  expectError(names, "listen", 1, "\"localhost\" is not an IP address");
  expectError(names, "listen", 1, "127.0.0.1:8080");  // says what to write instead
  expectError(names, "admin", 2, "\"admin.internal\" is not an IP address");
  EXPECT_EQ(errorAt(names, "upstream.address"), nullptr)
      << "an upstream host name is resolved when connecting";

  const auto unix_sockets = load(R"(listen: unix:/run/gatehouse.sock
admin: unix:/run/gatehouse-admin.sock
upstream: {address: unix:/run/app.sock}
)");
  expectError(unix_sockets, "listen", 1, "Unix sockets are not supported for listeners");
  expectError(unix_sockets, "admin", 2, "Unix sockets are not supported for listeners");
  EXPECT_EQ(errorAt(unix_sockets, "upstream.address"), nullptr) << errorsOf(unix_sockets);
}

TEST(LoaderErrorsTest, TheAdminListenerNeedsAPortOfItsOwn) {
  for (const auto* pair :
       {"listen: 127.0.0.1:8080\nadmin: 127.0.0.1:8080\n", "listen: 0.0.0.0:8080\nadmin: 127.0.0.1:8080\n",
        "listen: 127.0.0.1:8080\nadmin: 0.0.0.0:8080\n", "listen: \"[::]:8080\"\nadmin: 127.0.0.1:8080\n",
        "listen: \"[::1]:8080\"\nadmin: \"[::1]:8080\"\n"}) {
    const auto result = load(std::string(pair) + "upstream: {address: 127.0.0.1:3000}\n");
    expectError(result, "admin", 2, "takes the port of listen");
  }
  for (const auto* pair :
       {"listen: 127.0.0.1:8080\nadmin: 127.0.0.1:9901\n", "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n",
        "listen: 127.0.0.1:8080\nadmin: 127.0.0.2:8080\n", "listen: 0.0.0.0:8080\nadmin: \"[::1]:8080\"\n"}) {
    const auto result = load(std::string(pair) + "upstream: {address: 127.0.0.1:3000}\n");
    EXPECT_TRUE(result.config) << pair << errorsOf(result);
  }
}

// Past 292 years a timeout overflows the clock's nanoseconds (a 504 after a few ms, an instant 408): every
// duration is bounded to a year, with the key, the line and the range in the error.
TEST(LoaderErrorsTest, DurationsAreBoundedToAYear) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000, response_timeout: 2600000h}
limits:
  drain_timeout: 8761h
  header_timeout: 9223372036854775807ms
sessions:
  s: {format: plain, ttl: 100000000h, cache: 99999999999999999999h}
rate_limits:
  r: {limits: [{requests: 1, window: 8784h}]}
)");
  expectError(result, "upstream.response_timeout", 1,
              "\"2600000h\" is too large; allowed: 1ms to 8760h (365 days)");
  expectError(result, "limits.drain_timeout", 3, "\"8761h\" is too large; allowed: 0s to 8760h (365 days)");
  expectError(result, "limits.header_timeout", 4, "is too large; allowed: 1ms to 8760h");
  expectError(result, "sessions.s.ttl", 6, "\"100000000h\" is too large; allowed: 1s to 8760h");
  expectError(result, "sessions.s.cache", 6, "is too large (durations go up to 8760h)");
  expectError(result, "rate_limits.r.limits[0].window", 8, "\"8784h\" is too large; allowed: 1ms to 8760h");

  const auto longest = load(R"(upstream: {address: 127.0.0.1:3000, response_timeout: 8760h}
limits: {drain_timeout: 525600m, idle_timeout: 31536000s}
)");
  ASSERT_TRUE(longest.config) << errorsOf(longest);
  EXPECT_EQ(longest.config->upstream.response_timeout, 8760h);
  EXPECT_EQ(longest.config->limits.drain_timeout, 8760h);
}

TEST(LoaderErrorsTest, BadCidrs) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
trusted_proxies: [10.0.0.1/8, 10.0.0.0/33, nope]
rate_limits:
  r:
    limits: [{requests: 1, window: 1s}]
    allow: [1.2.3.4/16]
)");
  expectError(result, "trusted_proxies[0]", 2, "host bits");
  expectError(result, "trusted_proxies[1]", 2, "prefix length");
  expectError(result, "trusted_proxies[2]", 2, "not a valid CIDR");
  expectError(result, "rate_limits.r.allow[0]", 6, "host bits");
}

TEST(LoaderErrorsTest, UnknownEnumValuesListTheAllowedOnes) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
log: {level: verbose, access: jsn}
store: {type: redsi}
rate_limits:
  r: {limits: [{requests: 1, window: 1s}], algorithm: token_bucket, headers: [x-ratelimit, draft]}
)");
  expectError(result, "log.level", 2, "expected one of: trace, debug, info, warn, error, critical, off");
  expectError(result, "log.access", 2, "did you mean \"json\"");
  expectError(result, "store.type", 3, "expected one of: redis, memory");
  expectError(result, "rate_limits.r.algorithm", 5, "sliding_window, sliding_log");
  expectError(result, "rate_limits.r.headers[1]", 5, "x-ratelimit, ietf");
}

TEST(LoaderErrorsTest, BadRegexAndMatchShape) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
routes:
  - match: {regex: "([a-z"}
  - match: {methods: [GET]}
  - match: {prefix: /a, exact: /a}
  - match: {prefix: api}
  - name: no-match
)");
  expectError(result, "routes[0].match.regex", 3, "invalid regular expression");
  expectError(result, "routes[1].match", 4, "needs one of prefix, exact or regex");
  expectError(result, "routes[2].match", 5, "more than one");
  expectError(result, "routes[3].match.prefix", 6, "must start with '/'");
  expectError(result, "routes[4].match", 7, "missing required key");
}

TEST(LoaderErrorsTest, MethodsMustBeTokens) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
routes:
  - match: {prefix: /, methods: [GET, "GE T", "POST:"]}
)");
  expectError(result, "routes[0].match.methods[1]", 3, "not a valid HTTP method");
  expectError(result, "routes[0].match.methods[2]", 3, "not a valid HTTP method");
}

TEST(LoaderErrorsTest, UnknownPoliciesAndFilters) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
routes:
  - match: {prefix: /}
    filters:
      - session: {policy: ap}
      - rate_limit: per_clent
      - rate_limit: {policy: nope}
      - ratelimit: per_client
      - {session: {policy: app}, headers: {}}
sessions:
  app: {secrets: [k]}
rate_limits:
  per_client: {limits: [{requests: 1, window: 1s}]}
)");
  expectError(result, "routes[0].filters[0].session.policy", 5,
              "unknown session policy \"ap\"; did you mean \"app\"");
  expectError(result, "routes[0].filters[1].rate_limit", 6, "did you mean \"per_client\"");
  expectError(result, "routes[0].filters[2].rate_limit.policy", 7, "unknown rate-limit policy \"nope\"");
  expectError(result, "routes[0].filters[3].ratelimit", 8,
              "unknown filter \"ratelimit\"; did you mean \"rate_limit\"");
  expectError(result, "routes[0].filters[4]", 9, "one key");
}

TEST(LoaderErrorsTest, ZeroRequestsOrWindow) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
rate_limits:
  r:
    limits:
      - {requests: 0, window: 1s}
      - {requests: 5, window: 0s}
      - {window: 1s}
  empty: {limits: []}
)");
  expectError(result, "rate_limits.r.limits[0].requests", 5, "must be at least 1");
  expectError(result, "rate_limits.r.limits[1].window", 6, "at least 1ms");
  expectError(result, "rate_limits.r.limits[2].requests", 7, "missing required key");
  expectError(result, "rate_limits.empty.limits", 8, "at least one");
}

TEST(LoaderErrorsTest, BadRateLimitKeyParts) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
rate_limits:
  r: {key: [ip, "header:", cookie:a b, user, header: X-Key], limits: [{requests: 1, window: 1s}]}
  e: {key: [], limits: [{requests: 1, window: 1s}]}
)");
  expectError(result, "rate_limits.r.key[1]", 3, "unknown key part");
  expectError(result, "rate_limits.r.key[2]", 3, "unknown key part");
  expectError(result, "rate_limits.r.key[3]", 3, "unknown key part");
  expectError(result, "rate_limits.r.key[4]", 3, "no space after ':'");
  expectError(result, "rate_limits.e.key", 4, "at least one part");
}

TEST(LoaderErrorsTest, ExpressPolicyNeedsNonEmptySecrets) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
sessions:
  none: {cookie: a}
  listed_empty: {secrets: []}
  blank: {secrets: ["new", ""]}
  blank_from_env: {secrets: ["${SECRET}"]}
  plain: {format: plain}
)",
                           {{"SECRET", ""}});
  expectError(result, "sessions.none.secrets", 3, "at least one secret");
  expectError(result, "sessions.listed_empty.secrets", 4, "at least one secret");
  expectError(result, "sessions.blank.secrets[1]", 5, "must not be empty");
  expectError(result, "sessions.blank_from_env.secrets[0]", 6, "must not be empty");
  EXPECT_EQ(result.errors.size(), 4u) << errorsOf(result);  // the plain policy needs no secret
}

TEST(LoaderErrorsTest, BadSessionFields) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
sessions:
  s:
    format: plain
    cookie: "a;b"
    key: "sess:"
    identity: {user: user/name, roles: "/a~2"}
    headers: {user: "X User"}
    ttl: 0s
)");
  expectError(result, "sessions.s.cookie", 5, "not a valid cookie name");
  expectError(result, "sessions.s.key", 6, "{id}");
  expectError(result, "sessions.s.identity.user", 7, "JSON pointer");
  expectError(result, "sessions.s.identity.roles", 7, "JSON pointer");
  expectError(result, "sessions.s.headers.user", 8, "not a valid header name");
  expectError(result, "sessions.s.ttl", 9, "at least 1s");
}

// The session filter strips the client's copies of its identity headers and writes its own: on Content-Length
// that would let a forwarded body carry a second request to the app, on Host or Cookie it would take them
// away.
TEST(LoaderErrorsTest, IdentityHeadersMayNotBeFramingHostOrCookie) {
  for (const char* name : {"Content-Length", "transfer-encoding", "Connection", "TE", "Host", "cookie"}) {
    const auto result = load(std::string(R"(upstream: {address: 127.0.0.1:3000}
sessions:
  s:
    headers: {user: ")") + name +
                             R"("}
)");
    expectError(result, "sessions.s.headers.user", 4, "cannot carry the identity");
  }
  expectError(load(R"(upstream: {address: 127.0.0.1:3000}
sessions:
  s:
    headers: {roles: Upgrade}
)"),
              "sessions.s.headers.roles", 4, "cannot carry the identity");
  expectError(load(R"(upstream: {address: 127.0.0.1:3000}
sessions:
  s:
    headers: {user: X-Who, roles: x-who}
)"),
              "sessions.s.headers", 4, "the same header");
  const auto accepted = load(R"(upstream: {address: 127.0.0.1:3000}
sessions:
  s:
    format: plain
    headers: {user: X-Auth-Request-User, roles: X-Auth-Request-Groups}
)");
  EXPECT_TRUE(accepted.config) << errorsOf(accepted);
}

TEST(LoaderErrorsTest, InvalidStoreUrl) {
  expectError(load("upstream: {address: 127.0.0.1:3000}\nstore: {url: \"http://cache:6379\"}\n"), "store.url",
              2, "unknown scheme \"http\"");
  // The error names the scheme, never the password that follows it.
  const auto with_password =
      load("upstream: {address: 127.0.0.1:3000}\nstore: {url: \"http://user:s3cret@cache:6379\"}\n");
  ASSERT_FALSE(with_password.errors.empty());
  EXPECT_EQ(errorsOf(with_password).find("s3cret"), std::string::npos) << errorsOf(with_password);
  expectError(load("upstream: {address: 127.0.0.1:3000}\nstore: {url: \"redis://cache:99999/0\"}\n"),
              "store.url", 2, "out of range");
  expectError(load("upstream: {address: 127.0.0.1:3000}\nstore: {url: \"unix://redis.sock\"}\n"), "store.url",
              2, "unix:///");
}

TEST(LoaderErrorsTest, DuplicateRouteNames) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
routes:
  - name: api
    match: {prefix: /api}
  - name: api
    match: {prefix: /v2}
  - name: route-3
    match: {prefix: /x}
  - match: {prefix: /y}
)");
  expectError(result, "routes[1].name", 5, "duplicate route name \"api\" (already used by routes[0])");
  expectError(result, "routes[3].name", 9, "duplicate route name \"route-3\"");
}

TEST(LoaderErrorsTest, BadHeaderOperations) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
routes:
  - match: {prefix: /}
    filters:
      - headers: {request: {add: {"Bad Name": x}, set: {X-Ok: "a\r\nInjected: 1"}, remove: ["a:b"]}, respones: {}}
)");
  expectError(result, "routes[0].filters[0].headers.request.add.Bad Name", 5, "not a valid header name");
  expectError(result, "routes[0].filters[0].headers.request.set.X-Ok", 5, "CR, LF");
  expectError(result, "routes[0].filters[0].headers.request.remove[0]", 5, "not a valid header name");
  expectError(result, "routes[0].filters[0].headers.respones", 5, "did you mean \"response\"");
}

// Gatehouse frames each side of the relay itself; a headers filter that edits a framing field fails at load
// (and so under --check), not when the workers start.
TEST(LoaderErrorsTest, HeaderOperationsMayNotEditFramingFields) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
routes:
  - match: {prefix: /}
    filters:
      - headers:
          request: {set: {Content-Length: "5"}, remove: [Transfer-Encoding]}
          response: {add: {connection: close}}
)");
  expectError(result, "routes[0].filters[0].headers.request.set.Content-Length", 6, "config may not edit it");
  expectError(result, "routes[0].filters[0].headers.request.remove[0]", 6, "config may not edit it");
  expectError(result, "routes[0].filters[0].headers.response.add.connection", 7, "config may not edit it");
}

TEST(LoaderErrorsTest, MissingVariableNamesItAndItsKey) {
  const auto result = load(R"(upstream: {address: "${UPSTREAM_ADDR}"}
routes:
  - match: {prefix: "/${PREFIX}"}
)");
  expectError(result, "upstream.address", 1, "UPSTREAM_ADDR");
  expectError(result, "routes[0].match.prefix", 3, "PREFIX");
}

TEST(LoaderErrorsTest, BadWorkersAndNames) {
  const auto result = load(R"(upstream: {address: 127.0.0.1:3000}
workers: 0
sessions:
  "bad name": {format: plain}
routes:
  - {name: "a{b}", match: {prefix: /}}
)");
  expectError(result, "workers", 2, "\"auto\" or a number");
  expectError(result, "sessions.bad name", 4, "invalid name");
  expectError(result, "routes[0].name", 6, "invalid name");
}

TEST(LoaderErrorsTest, BusyPollNeedsAUnitAndABound) {
  expectError(load("upstream: {address: 127.0.0.1:3000}\nbusy_poll: 100\n"), "busy_poll", 2,
              "expected \"auto\", \"off\" or a time such as 50us or 1ms, found \"100\"");
  expectError(load("upstream: {address: 127.0.0.1:3000}\n\nbusy_poll: 20ms\n"), "busy_poll", 3,
              "expected \"auto\", \"off\" or at most 10ms, found \"20ms\"");
}

TEST(LoaderErrorsTest, CollectsEveryErrorInFileOrder) {
  const auto result = load(R"(upstream: {address: nope}
limits: {body_bytes: lots}
log: {level: loud}
routes:
  - match: {prefix: /}
    filters: [{session: {policy: missing}}]
)");
  EXPECT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 4u) << errorsOf(result);
  for (std::size_t i = 1; i < result.errors.size(); ++i) {
    EXPECT_LE(result.errors[i - 1].line, result.errors[i].line);
  }
  EXPECT_EQ(result.errors[3].key, "routes[0].filters[0].session.policy");
}

}  // namespace
}  // namespace gatehouse::config
