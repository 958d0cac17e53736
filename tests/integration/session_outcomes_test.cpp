// Every answer of the session filter, over real HTTP against a real Redis: what the client gets, what the
// upstream app receives, and (for forged cookies) that Redis was never asked.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/session_fixture.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

using session::commandCalls;
using session::expressCookie;
using session::jsonError;
using session::newSessionId;

using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kRoutes =
    session::route("api", "/api/", "[{session: {policy: app}}]") +
    session::route("admin", "/admin", "[{session: {policy: app, roles: [admin], on_missing: redirect}}]") +
    session::route("optional", "/optional", "[{session: {policy: app, require: false}}]") +
    session::route("seed", "/seed", "[{session: {policy: seed}}]") + session::route("open", "/", "[]");

// `app`: express-session's signed cookie. `seed`: the seed app's own sessions, a plain id in the `sid`
// cookie and a flat JSON value with its own expiry.
const std::string kPolicies = session::expressPolicy("app") +
                              "  seed:\n    cookie: sid\n    format: plain\n    key: \"session:{id}\"\n"
                              "    identity: {user: /username, roles: /role, expires: /expiresAt}\n";

class SessionOutcomes : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<session::SessionStack>(kRoutes, kPolicies);
    ASSERT_TRUE(stack_->awaitStore()) << "Gatehouse never got an answer from Redis";
  }

  Response get(const std::string& target, Headers headers = {}) {
    return stack_->get(target, std::move(headers));
  }
  std::string signIn(const std::string& username, const std::string& role_json) {
    return stack_->signIn(username, role_json);
  }
  std::vector<ReceivedRequest> appRequests() const { return session::appRequests(stack_->upstream); }
  const RedisServer& redis() const { return stack_->redis; }

  // A seed-app session under "session:<id>"; returns the Cookie value that carries it.
  std::string seedPlainSession(const std::string& json) {
    const std::string id = newSessionId();
    session::seedSession(redis(), "session:" + id, json);
    return "sid=" + id;
  }

  void expectUnauthenticated(const Response& response) {
    EXPECT_EQ(response.result_int(), 401);
    EXPECT_EQ(std::string(response[http::field::content_type]), "application/json");
    EXPECT_EQ(jsonError(response), "unauthenticated");
    // The id the response carries in X-Request-ID, for the client to quote back.
    const auto body = boost::json::parse(response.body());
    const auto* id = body.as_object().if_contains("request_id");
    ASSERT_NE(id, nullptr) << response.body();
    EXPECT_EQ(std::string(id->as_string()), std::string(response["X-Request-ID"])) << response.body();
    EXPECT_FALSE(id->as_string().empty());
  }

  std::unique_ptr<session::SessionStack> stack_;
};

TEST_F(SessionOutcomes, ValidExpressCookieIsForwardedWithTheIdentity) {
  const auto response = get("/api/orders?page=2", {{"Cookie", signIn("alice", R"(["admin","ops"])")}});
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(get("/api/profile", {{"Cookie", signIn("bob", R"("user")")}}).result_int(), 200);

  const auto requests = appRequests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/api/orders?page=2");
  EXPECT_EQ(requests[0].header("x-user"), "alice");
  EXPECT_EQ(requests[0].header("x-user-roles"), "admin,ops");
  EXPECT_EQ(requests[1].header("x-user"), "bob");
  EXPECT_EQ(requests[1].header("x-user-roles"), "user");
}

TEST_F(SessionOutcomes, ClientSentIdentityHeadersAreRemovedOnEveryRoute) {
  const Headers forged{
      {"X-User", "mallory"}, {"x_user", "mallory"}, {"X-USER-ROLES", "admin"}, {"x_user_roles", "admin"}};
  auto with = [&](Headers headers, const std::string& cookie) {
    if (!cookie.empty()) headers.emplace_back("Cookie", cookie);
    return headers;
  };
  // A route without any session filter, a route where the session is optional and absent, and a route where
  // a valid session sets the headers itself.
  ASSERT_EQ(get("/open/page", forged).result_int(), 200);
  ASSERT_EQ(get("/optional/page", forged).result_int(), 200);
  ASSERT_EQ(get("/api/page", with(forged, signIn("alice", R"("user")"))).result_int(), 200);

  const auto requests = appRequests();
  ASSERT_EQ(requests.size(), 3u);
  for (std::size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(requests[i].target);
    for (const char* name : {"x-user", "x_user", "x-user-roles", "x_user_roles"}) {
      EXPECT_FALSE(requests[i].has(name)) << name << ": " << requests[i].header(name);
    }
  }
  EXPECT_EQ(requests[2].header("x-user"), "alice")
      << "the forged value must not be kept next to the real one";
  EXPECT_EQ(requests[2].header("x-user-roles"), "user");
  EXPECT_FALSE(requests[2].has("x_user"));
  EXPECT_FALSE(requests[2].has("x_user_roles"));
}

TEST_F(SessionOutcomes, MissingCookieIs401Json) {
  expectUnauthenticated(get("/api/orders"));
  expectUnauthenticated(get("/api/orders", {{"Cookie", "theme=dark; lang=en"}}));
  EXPECT_TRUE(appRequests().empty());
}

TEST_F(SessionOutcomes, BadSignatureIs401AndRedisIsNeverAsked) {
  // The session exists: a filter that skipped the signature check would find it and admit the request.
  const std::string id = newSessionId();
  session::seedSession(redis(), "sess:" + id, session::expressSessionJson("alice", R"("admin")"));
  const std::string other_id = newSessionId();
  const std::string forged[] = {
      expressCookie(id, "not-the-secret"),
      "connect.sid=" +
          session::encodeUriComponent("s:" + id + "." + session::cookieSignature(other_id, session::kSecret)),
      "connect.sid=" + session::encodeUriComponent("s:" + id),  // unsigned
      "connect.sid=" + id,                                      // no "s:" prefix
      expressCookie(id) + "; " + expressCookie(id),             // sent twice: refused, never guessed
  };

  const auto gets_before = commandCalls(redis(), "get");
  for (const auto& cookie : forged) {
    SCOPED_TRACE(cookie);
    expectUnauthenticated(get("/api/orders", {{"Cookie", cookie}}));
  }
  EXPECT_EQ(commandCalls(redis(), "get"), gets_before) << "a forged cookie reached Redis";
  EXPECT_TRUE(appRequests().empty());

  // The measurement can see a lookup: the well-signed cookie costs exactly one GET.
  EXPECT_EQ(get("/api/orders", {{"Cookie", expressCookie(id)}}).result_int(), 200);
  EXPECT_EQ(commandCalls(redis(), "get"), gets_before + 1);
}

TEST_F(SessionOutcomes, UnknownSessionIs401) {
  // Well signed, but no such key in Redis (never created, expired, or logged out).
  expectUnauthenticated(get("/api/orders", {{"Cookie", expressCookie(newSessionId())}}));
  EXPECT_TRUE(appRequests().empty());
}

TEST_F(SessionOutcomes, RedirectPolicySendsBrowsersToTheLoginUrlWithTheOriginalPath) {
  const Headers browser{{"Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}};
  const auto response = get("/admin/reports?year=2024", browser);
  EXPECT_EQ(response.result_int(), 302);
  EXPECT_EQ(std::string(response[http::field::location]), "/login?next=%2Fadmin%2Freports%3Fyear%3D2024");

  // A forged cookie is answered like a missing one.
  Headers forged = browser;
  forged.emplace_back("Cookie", expressCookie(newSessionId(), "not-the-secret"));
  const auto forged_response = get("/admin", forged);
  EXPECT_EQ(forged_response.result_int(), 302);
  EXPECT_EQ(std::string(forged_response[http::field::location]), "/login?next=%2Fadmin");
  EXPECT_TRUE(appRequests().empty());
}

TEST_F(SessionOutcomes, JsonClientsGet401InsteadOfARedirect) {
  expectUnauthenticated(get("/admin/reports", {{"Accept", "application/json"}}));
  // No Accept at all: a script, not a browser; a redirect to an HTML login page would not help it either.
  expectUnauthenticated(get("/admin/reports"));
  EXPECT_TRUE(appRequests().empty());
}

TEST_F(SessionOutcomes, ValidSessionWithoutTheRequiredRoleIs403) {
  const Headers browser{{"Accept", "text/html"}};
  auto with_cookie = [&](const std::string& cookie) {
    Headers headers = browser;
    headers.emplace_back("Cookie", cookie);
    return headers;
  };
  const auto refused = get("/admin/panel", with_cookie(signIn("bob", R"("user")")));
  EXPECT_EQ(refused.result_int(), 403) << "authenticated: no login redirect, a refusal";
  EXPECT_EQ(jsonError(refused), "forbidden");
  EXPECT_TRUE(appRequests().empty());

  EXPECT_EQ(get("/admin/panel", with_cookie(signIn("alice", R"("admin")"))).result_int(), 200);
  EXPECT_EQ(get("/admin/panel", with_cookie(signIn("carol", R"(["ops","admin"])"))).result_int(), 200);
  const auto requests = appRequests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("x-user"), "alice");
  EXPECT_EQ(requests[1].header("x-user-roles"), "ops,admin");
}

TEST_F(SessionOutcomes, OptionalSessionPassesWithoutIdentityAndAddsItWhenValid) {
  EXPECT_EQ(get("/optional/a").result_int(), 200);
  EXPECT_EQ(get("/optional/b", {{"Cookie", expressCookie(newSessionId(), "not-the-secret")}}).result_int(),
            200);
  EXPECT_EQ(get("/optional/c", {{"Cookie", expressCookie(newSessionId())}}).result_int(), 200);
  EXPECT_EQ(get("/optional/d", {{"Cookie", signIn("dave", R"("user")")}}).result_int(), 200);

  const auto requests = appRequests();
  ASSERT_EQ(requests.size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(requests[i].target);
    EXPECT_FALSE(requests[i].has("x-user"));
    EXPECT_FALSE(requests[i].has("x-user-roles"));
  }
  EXPECT_EQ(requests[3].header("x-user"), "dave");
}

TEST_F(SessionOutcomes, PlainSeedSessionIsForwardedWithTheIdentity) {
  const std::string json = R"({"username":"erin","role":"editor","expiresAt":)" +
                           std::to_string(session::epochMillisNow() + 60'000) + "}";
  EXPECT_EQ(get("/seed/dashboard", {{"Cookie", seedPlainSession(json)}}).result_int(), 200);
  const auto requests = appRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("x-user"), "erin");
  EXPECT_EQ(requests[0].header("x-user-roles"), "editor");
}

TEST_F(SessionOutcomes, ACookieNamingAKeyOfAnotherTypeIs401NotAStoreError) {
  // Redis answers WRONGTYPE for a hash: no session lives there. Counted as a store failure it would be a 503
  // here, and would pass the request under on_store_error: allow.
  const std::string id = newSessionId();
  session::checkOk(redis().command({"HSET", "session:" + id, "username", "mallory"}), "HSET");
  expectUnauthenticated(get("/seed/dashboard", {{"Cookie", "sid=" + id}}));
  EXPECT_TRUE(appRequests().empty());
}

TEST_F(SessionOutcomes, PlainSeedSessionPastItsStoredExpiryIs401WhileTheKeyStillExists) {
  // Every key below lives for an hour in Redis: only the stored expiresAt can refuse them.
  const std::string past_ms = std::to_string(session::epochMillisNow() - 1'000);
  expectUnauthenticated(get(
      "/seed/a",
      {{"Cookie", seedPlainSession(R"({"username":"erin","role":"editor","expiresAt":)" + past_ms + "}")}}));
  expectUnauthenticated(get(
      "/seed/b",
      {{"Cookie",
        seedPlainSession(R"({"username":"erin","role":"editor","expiresAt":"2020-01-01T00:00:00.000Z"})")}}));
  EXPECT_TRUE(appRequests().empty());

  // The same ISO-8601 form in the future is accepted: the field was read, not merely failed to parse.
  EXPECT_EQ(
      get("/seed/c",
          {{"Cookie",
            seedPlainSession(R"({"username":"erin","role":"editor","expiresAt":"2999-01-01T00:00:00Z"})")}})
          .result_int(),
      200);
  EXPECT_EQ(appRequests().size(), 1u);
}

TEST_F(SessionOutcomes, PlainCookieThatIsNoValidIdIs401WithoutAskingRedis) {
  const auto gets_before = commandCalls(redis(), "get");
  expectUnauthenticated(get("/seed/a", {{"Cookie", "sid=..%2F..%2Fsess%3Aother"}}));
  expectUnauthenticated(get("/seed/a", {{"Cookie", "sid=a%20b"}}));
  EXPECT_EQ(commandCalls(redis(), "get"), gets_before);
}

}  // namespace
}  // namespace gatehouse::testing
