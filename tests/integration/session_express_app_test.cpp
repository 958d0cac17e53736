// End to end against the application Gatehouse is meant to stand in front of: a real express-session +
// connect-redis app (node tests/peers/express-app/server.js) sharing one Redis with Gatehouse. A user logs in
// through Gatehouse, the app's own cookie then opens /whoami (and the app sees the identity Gatehouse
// injected), and after logging out through Gatehouse the same cookie is refused by Gatehouse itself.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include <boost/json/parse.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/session_express_app.h"
#include "tests/integration/session_fixture.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

using session::jsonError;

// /login is public; /whoami and /logout need a session. The identity pointers are where server.js keeps the
// user: req.session.user = {username, role}.
const std::string kRoutes = session::route("login", "/login", "[]") +
                            session::route("whoami", "/whoami", "[{session: {policy: app}}]") +
                            session::route("logout", "/logout", "[{session: {policy: app}}]");

// The cookie pair ("connect.sid=...") of a Set-Cookie field value.
std::string cookiePair(std::string_view set_cookie) {
  return std::string(set_cookie.substr(0, set_cookie.find(';')));
}

class SessionExpressApp : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::optional<std::string> node = session::findOnPath("node");
    if (!node) {
      GTEST_SKIP() << "node is not installed: this end-to-end test runs the real express-session app "
                      "(tests/peers/express-app) and needs Node.js >= 18 on PATH";
    }
    const std::string install_error = session::ensureExpressAppInstalled();
    ASSERT_TRUE(install_error.empty()) << install_error;
    redis_ = std::make_unique<RedisServer>();
    app_ = std::make_unique<session::ExpressApp>(*node, redis_->url(), std::string(session::kSecret));
    proxy_ = std::make_unique<ProxyInstance>(session::sessionConfig(
        app_->address(), kRoutes, session::expressPolicy("app"), session::redisStoreYaml(*redis_)));
    client_ = std::make_unique<HttpClient>(proxy_->port());
    ASSERT_TRUE(session::awaitSessionStore(*client_, *redis_)) << "Gatehouse never got an answer from Redis";
  }

  // Stopped in reverse order of start: the client, Gatehouse, the app (by PID), Redis (by PID).
  void TearDown() override {
    client_.reset();
    proxy_.reset();
    app_.reset();
    redis_.reset();
  }

  Response post(const std::string& target, const std::string& json, const std::string& cookie = "") {
    Request request{http::verb::post, target, 11};
    request.set(http::field::content_type, "application/json");
    if (!cookie.empty()) request.set(http::field::cookie, cookie);
    request.body() = json;
    return client_->send(std::move(request));
  }

  Response whoami(const std::string& cookie) {
    return client_->get("/whoami", {{"Cookie", cookie}, {"X-User", "mallory"}, {"X-User-Roles", "root"}});
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<session::ExpressApp> app_;
  std::unique_ptr<ProxyInstance> proxy_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(SessionExpressApp, LoginWhoamiLogoutThroughGatehouse) {
  // Log in through Gatehouse: the app creates the session in Redis and sets its signed cookie.
  const auto login = post("/login", R"({"username":"alice","role":"admin"})");
  ASSERT_EQ(login.result_int(), 200) << login.body() << "\n" << app_->output();
  const std::string set_cookie(login[http::field::set_cookie]);
  ASSERT_TRUE(set_cookie.starts_with("connect.sid=s%3A")) << set_cookie;
  const std::string cookie = cookiePair(set_cookie);
  const std::string session_id(boost::json::parse(login.body()).at("sessionId").as_string());
  const std::string key = "sess:" + session_id;
  EXPECT_EQ(redis_->command({"EXISTS", key}).integer, 1) << "connect-redis did not store " << key;
  // The test's own signing (cookie-signature's algorithm) agrees with express-session's, byte for byte.
  EXPECT_EQ(cookie, session::expressCookie(session_id));

  // The app's cookie opens a route Gatehouse guards, and the app sees who the user is — from Gatehouse, not
  // from the headers the client forged.
  const auto me = whoami(cookie);
  ASSERT_EQ(me.result_int(), 200) << me.body();
  const auto seen = boost::json::parse(me.body()).as_object();
  const auto& headers = seen.at("headers").as_object();
  EXPECT_EQ(headers.at("x-user"), "alice");
  EXPECT_EQ(headers.at("x-user-roles"), "admin");
  EXPECT_EQ(seen.at("session").as_object().at("username"), "alice") << "the app read the same session";

  // Without the cookie Gatehouse refuses before the app is asked.
  const auto anonymous = client_->get("/whoami");
  EXPECT_EQ(anonymous.result_int(), 401);
  EXPECT_EQ(jsonError(anonymous), "unauthenticated");

  // Log out through Gatehouse: the app destroys the session (its key is deleted).
  const auto logout = post("/logout", "{}", cookie);
  ASSERT_EQ(logout.result_int(), 200) << logout.body();
  EXPECT_EQ(redis_->command({"EXISTS", key}).integer, 0) << "express-session did not delete " << key;

  // The old cookie is still well signed, but its session is gone: Gatehouse answers 401 itself.
  const auto after = whoami(cookie);
  EXPECT_EQ(after.result_int(), 401);
  EXPECT_EQ(std::string(after[http::field::content_type]), "application/json");
  EXPECT_EQ(jsonError(after), "unauthenticated");
}

TEST_F(SessionExpressApp, ForgedCookieNeverReachesTheApp) {
  const auto login = post("/login", R"({"username":"bob","role":"user"})");
  ASSERT_EQ(login.result_int(), 200) << login.body();
  const std::string session_id(boost::json::parse(login.body()).at("sessionId").as_string());

  // The right session id signed with another secret: the app would refuse it too, but Gatehouse answers.
  const auto forged = whoami(session::expressCookie(session_id, "another-secret"));
  EXPECT_EQ(forged.result_int(), 401);
  EXPECT_EQ(jsonError(forged), "unauthenticated");
  // The real cookie still works: the refusal was about the signature.
  EXPECT_EQ(whoami(session::expressCookie(session_id)).result_int(), 200);
}

}  // namespace
}  // namespace gatehouse::testing
