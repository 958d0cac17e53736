// A session-guarded route when its Redis goes away: `on_store_error: deny` answers 503 (at once when Redis is
// down, within store.timeout when it hangs), `allow` lets the request through without any identity.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/session_fixture.h"

namespace gatehouse::testing {
namespace {

using namespace std::chrono_literals;
using session::jsonError;

std::string routes() {
  return session::route("api", "/api/", "[{session: {policy: app}}]") +
         session::route("optional", "/optional", "[{session: {policy: app, require: false}}]");
}

std::chrono::milliseconds timed(const std::function<void()>& action) {
  const auto start = std::chrono::steady_clock::now();
  action();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

void expectStoreUnavailable(const Response& response) {
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_EQ(std::string(response[http::field::content_type]), "application/json");
  EXPECT_EQ(jsonError(response), "session store unavailable");
}

TEST(SessionStoreFailure, RedisDownWithDenyIs503Fast) {
  // A timeout long enough that an answer within it can only mean the failure was detected, not waited out.
  constexpr auto kStoreTimeout = 1000ms;
  session::SessionStack stack(routes(), session::expressPolicy("app", "    on_store_error: deny\n"),
                              "1000ms");
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  ASSERT_EQ(stack.get("/api/before", {{"Cookie", cookie}}).result_int(), 200);

  stack.redis.kill();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    Response response;
    const auto took = timed([&] { response = stack.get("/api/down", {{"Cookie", cookie}}); });
    expectStoreUnavailable(response);
    EXPECT_LT(took, kStoreTimeout) << "a Redis that is down must fail fast, not wait for the timeout";
  }
  EXPECT_EQ(session::appRequests(stack.upstream).size(), 1u);
}

TEST(SessionStoreFailure, RedisDownWithAllowPassesWithoutIdentity) {
  session::SessionStack stack(routes(), session::expressPolicy("app", "    on_store_error: allow\n"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("admin")");
  ASSERT_EQ(stack.get("/api/before", {{"Cookie", cookie}}).result_int(), 200);

  stack.redis.kill();
  // The client's own identity headers are still removed: failing open must not let them through.
  const auto response =
      stack.get("/api/down", {{"Cookie", cookie}, {"X-User", "mallory"}, {"X-User-Roles", "admin"}});
  EXPECT_EQ(response.result_int(), 200);
  const auto requests = session::appRequests(stack.upstream);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("x-user"), "alice");
  EXPECT_FALSE(requests[1].has("x-user")) << requests[1].header("x-user");
  EXPECT_FALSE(requests[1].has("x-user-roles")) << requests[1].header("x-user-roles");
}

TEST(SessionStoreFailure, RedisDownOnAnOptionalSessionPassesWithoutIdentityEvenWithDeny) {
  session::SessionStack stack(routes(), session::expressPolicy("app", "    on_store_error: deny\n"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  stack.redis.kill();
  EXPECT_EQ(stack.get("/optional/down", {{"Cookie", cookie}}).result_int(), 200);
  const auto requests = session::appRequests(stack.upstream);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].has("x-user"));
}

TEST(SessionStoreFailure, RedisPausedIs503WithinTheStoreTimeout) {
  constexpr auto kStoreTimeout = 200ms;
  session::SessionStack stack(routes(), session::expressPolicy("app", "    on_store_error: deny\n"), "200ms");
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  ASSERT_EQ(stack.get("/api/before", {{"Cookie", cookie}}).result_int(), 200);

  stack.redis.pause();  // connected but silent: only the timeout can decide
  Response response;
  const auto took = timed([&] { response = stack.get("/api/hung", {{"Cookie", cookie}}); });
  stack.redis.resume();
  expectStoreUnavailable(response);
  EXPECT_GE(took, kStoreTimeout - 20ms) << "decided before the timeout: Redis was not waited for";
  EXPECT_LT(took, kStoreTimeout + 800ms) << "the store timeout is 200 ms";
  EXPECT_EQ(session::appRequests(stack.upstream).size(), 1u);

  // Once Redis answers again, so does the session lookup (the late reply of the timed-out call is discarded).
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  unsigned status = 0;
  while (std::chrono::steady_clock::now() < deadline && status != 200) {
    status = stack.get("/api/resumed", {{"Cookie", cookie}}).result_int();
    if (status != 200) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 200u);
}

}  // namespace
}  // namespace gatehouse::testing
