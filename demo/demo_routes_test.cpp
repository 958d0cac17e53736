#include "demo/demo_routes.h"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "demo/session_id.h"

namespace gatehouse::demo {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

// Records what the routes ask of the store; `available = false` makes every call fail like an unreachable
// Redis.
class FakeSessions : public SessionBackend {
 public:
  std::optional<std::string> create(std::string_view value_json) override {
    if (!available) return std::nullopt;
    created.emplace_back(value_json);
    return std::string(kId);
  }
  bool remove(std::string_view id) override {
    removed.emplace_back(id);
    return available;
  }

  static constexpr std::string_view kId = "0123456789abcdef0123456789abcdef";
  bool available = true;
  std::vector<std::string> created;
  std::vector<std::string> removed;
};

Request makeRequest(http::verb method, std::string target) {
  Request request{method, target, 11};
  request.set(http::field::host, "app.test");
  request.prepare_payload();
  return request;
}

json::value bodyOf(const Response& response) {
  return json::parse(response.body());
}

TEST(DemoRoutes, RootAnswersJsonWithContentLengthAndKeepAlive) {
  const Response response = handleRequest(makeRequest(http::verb::get, "/"), nullptr);
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(bodyOf(response), json::parse(R"({"app":"demo","path":"/"})"));
}

TEST(DemoRoutes, ConnectionCloseRequestGetsConnectionCloseResponse) {
  Request request = makeRequest(http::verb::get, "/bench");
  request.keep_alive(false);
  const Response response = handleRequest(request, nullptr);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(bodyOf(response), json::parse(R"({"ok":true})"));
}

TEST(DemoRoutes, Http10RequestIsAnsweredInHttp10) {
  Request request = makeRequest(http::verb::get, "/");
  request.version(10);
  const Response response = handleRequest(request, nullptr);
  EXPECT_EQ(response.version(), 10);
  EXPECT_FALSE(response.keep_alive());
}

TEST(DemoRoutes, HeadKeepsContentLengthAndDropsBody) {
  const Response get = handleRequest(makeRequest(http::verb::get, "/public/logo"), nullptr);
  const Response head = handleRequest(makeRequest(http::verb::head, "/public/logo"), nullptr);
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
}

TEST(DemoRoutes, WhoamiReportsIdentityHeadersAndNullForMissingOnes) {
  Request request = makeRequest(http::verb::get, "/api/whoami");
  request.set("X-User", "alice");
  request.set("X-User-Roles", "admin");
  request.set("X-Forwarded-For", "203.0.113.7");
  const Response response = handleRequest(request, nullptr);
  EXPECT_EQ(bodyOf(response),
            json::parse(R"({"x-user":"alice","x-user-roles":"admin","x-forwarded-for":"203.0.113.7",)"
                        R"("x-request-id":null})"));
}

TEST(DemoRoutes, PublicPathsAnswerJson) {
  const Response response = handleRequest(makeRequest(http::verb::get, "/public/a/b?x=1"), nullptr);
  EXPECT_EQ(bodyOf(response), json::parse(R"({"public":true,"path":"/public/a/b"})"));
}

TEST(DemoRoutes, LoginStoresSeedStyleSessionAndSetsCookie) {
  FakeSessions sessions;
  const Response response =
      handleRequest(makeRequest(http::verb::post, "/login?user=alice%40example.com&role=admin"), &sessions);
  ASSERT_EQ(response.result(), http::status::ok);
  ASSERT_EQ(sessions.created.size(), 1u);
  EXPECT_EQ(json::parse(sessions.created[0]),
            json::parse(R"({"username":"alice@example.com","role":"admin","name":"alice@example.com"})"));
  EXPECT_EQ(response[http::field::set_cookie],
            "sid=" + std::string(FakeSessions::kId) + "; HttpOnly; Path=/");
  EXPECT_EQ(bodyOf(response).at("user"), "alice@example.com");
}

TEST(DemoRoutes, LoginRoleDefaultsToUser) {
  FakeSessions sessions;
  handleRequest(makeRequest(http::verb::post, "/login?user=bob"), &sessions);
  ASSERT_EQ(sessions.created.size(), 1u);
  EXPECT_EQ(json::parse(sessions.created[0]).at("role"), "user");
}

TEST(DemoRoutes, LoginRejectsMissingOrUnsafeNames) {
  FakeSessions sessions;
  for (const char* target : {"/login", "/login?user=", "/login?user=a%22b", "/login?user=alice&role=a%0d%0ab",
                             "/login?user=alice&role=has+space"}) {
    const Response response = handleRequest(makeRequest(http::verb::post, target), &sessions);
    EXPECT_EQ(response.result(), http::status::bad_request) << target;
    EXPECT_FALSE(response.count(http::field::set_cookie)) << target;
  }
  EXPECT_TRUE(sessions.created.empty());
}

TEST(DemoRoutes, LoginWithoutStoreOrWithFailingStoreIs503WithoutCookie) {
  const Response no_store = handleRequest(makeRequest(http::verb::post, "/login?user=alice"), nullptr);
  EXPECT_EQ(no_store.result(), http::status::service_unavailable);
  EXPECT_FALSE(no_store.count(http::field::set_cookie));

  FakeSessions down;
  down.available = false;
  const Response failing = handleRequest(makeRequest(http::verb::post, "/login?user=alice"), &down);
  EXPECT_EQ(failing.result(), http::status::service_unavailable);
  EXPECT_FALSE(failing.count(http::field::set_cookie));
}

TEST(DemoRoutes, GetLoginExplainsHowToLogInAndEchoesNext) {
  const Response response = handleRequest(makeRequest(http::verb::get, "/login?next=%2Fadmin"), nullptr);
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(bodyOf(response).at("next"), "/admin");
}

TEST(DemoRoutes, LogoutDeletesTheCookieSessionAndClearsTheCookie) {
  FakeSessions sessions;
  Request request = makeRequest(http::verb::post, "/logout");
  request.set(http::field::cookie, "theme=dark; sid=" + std::string(FakeSessions::kId) + "; lang=en");
  const Response response = handleRequest(request, &sessions);
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(sessions.removed, std::vector<std::string>{std::string(FakeSessions::kId)});
  EXPECT_EQ(response[http::field::set_cookie], "sid=; Max-Age=0; HttpOnly; Path=/");
}

TEST(DemoRoutes, LogoutNeverBuildsAKeyFromAMalformedSid) {
  FakeSessions sessions;
  Request request = makeRequest(http::verb::post, "/logout");
  request.set(http::field::cookie, "sid=*");
  EXPECT_EQ(handleRequest(request, &sessions).result(), http::status::ok);
  EXPECT_TRUE(sessions.removed.empty());
}

TEST(DemoRoutes, LogoutWithFailingStoreIs503) {
  FakeSessions sessions;
  sessions.available = false;
  Request request = makeRequest(http::verb::post, "/logout");
  request.set(http::field::cookie, "sid=" + std::string(FakeSessions::kId));
  EXPECT_EQ(handleRequest(request, &sessions).result(), http::status::service_unavailable);
}

TEST(DemoRoutes, AnythingElseIsEchoedWithJoinedRepeatedHeaders) {
  Request request = makeRequest(http::verb::put, "/things/7?verbose=1");
  request.insert("X-Tag", "a");
  request.insert("X-Tag", "b");
  request.body() = "hello";
  request.prepare_payload();
  const Response response = handleRequest(request, nullptr);
  EXPECT_EQ(response.result(), http::status::ok);
  const json::value body = bodyOf(response);
  EXPECT_EQ(body.at("method"), "PUT");
  EXPECT_EQ(body.at("path"), "/things/7");
  EXPECT_EQ(body.at("query"), "verbose=1");
  EXPECT_EQ(body.at("headers").at("x-tag"), "a, b");
  EXPECT_EQ(body.at("headers").at("host"), "app.test");
  EXPECT_EQ(body.at("body_bytes"), 5);
}

TEST(SessionId, Is32LowercaseHexAndFresh) {
  const std::string first = newSessionId();
  const std::string second = newSessionId();
  EXPECT_TRUE(isSessionId(first)) << first;
  EXPECT_TRUE(isSessionId(second)) << second;
  EXPECT_NE(first, second);
  EXPECT_FALSE(isSessionId("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(isSessionId("0123456789abcdef"));
}

}  // namespace
}  // namespace gatehouse::demo
