// Logging out deletes the session's key; how soon Gatehouse stops admitting the cookie is the policy's
// `cache`: at once without a cache, within the cache's lifetime with one.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/session_fixture.h"

namespace gatehouse::testing {
namespace {

using session::jsonError;

std::string apiRoute() {
  return session::route("api", "/api/", "[{session: {policy: app}}]");
}

TEST(SessionRevocation, LogoutWithoutCacheIsRefusedOnTheNextRequest) {
  session::SessionStack stack(apiRoute(), session::expressPolicy("app", "    cache: 0s\n"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  ASSERT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 200);
  ASSERT_EQ(stack.get("/api/b", {{"Cookie", cookie}}).result_int(), 200);

  ASSERT_EQ(stack.redis.command({"DEL", stack.last_session_key}).integer,
            1);  // what express-session's logout does
  const auto response = stack.get("/api/c", {{"Cookie", cookie}});
  EXPECT_EQ(response.result_int(), 401);
  EXPECT_EQ(jsonError(response), "unauthenticated");
  EXPECT_EQ(session::appRequests(stack.upstream).size(), 2u);
}

TEST(SessionRevocation, LogoutWithOneSecondCacheIsRefusedWithinAboutASecond) {
  session::SessionStack stack(apiRoute(), session::expressPolicy("app", "    cache: 1s\n"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  const auto gets_before = session::commandCalls(stack.redis, "get");
  ASSERT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 200);  // looked up, then cached
  const auto cached_at = std::chrono::steady_clock::now();
  ASSERT_EQ(stack.redis.command({"DEL", stack.last_session_key}).integer, 1);

  // Poll until the logout shows; the cache must not hide it for longer than its lifetime (plus slack for a
  // loaded machine).
  const auto deadline = cached_at + std::chrono::seconds(3);
  int served_from_cache = 0;
  unsigned status = 0;
  std::chrono::milliseconds lag{0};
  while (std::chrono::steady_clock::now() < deadline) {
    const auto sent_at = std::chrono::steady_clock::now();
    status = stack.get("/api/poll", {{"Cookie", cookie}}).result_int();
    if (status != 200) {
      lag = std::chrono::duration_cast<std::chrono::milliseconds>(sent_at - cached_at);
      break;
    }
    ++served_from_cache;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 401u) << "the deleted session was still admitted after 3 s";
  EXPECT_LE(lag, std::chrono::milliseconds(1500))
      << "cache: 1s kept a logged-out session for " << lag.count() << " ms";
  // The cache was in effect: requests right after the logout were still admitted, without asking Redis.
  EXPECT_GT(served_from_cache, 0);
  EXPECT_EQ(session::commandCalls(stack.redis, "get"), gets_before + 2)
      << "one lookup before the logout, one after the cache entry aged out; the admitted polls were cached";
}

}  // namespace
}  // namespace gatehouse::testing
