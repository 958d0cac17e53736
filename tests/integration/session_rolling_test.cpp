// Rolling sessions: a request on a session refreshes its key's TTL to the policy's `ttl` (as
// express-session's `rolling: true` does), at most once per `touch_every`; without `rolling` the TTL is left
// alone.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/session_fixture.h"

namespace gatehouse::testing {
namespace {

using namespace std::chrono_literals;
using session::commandCalls;
using session::pttl;

constexpr std::int64_t kShortTtlMs = 5'000;
constexpr std::int64_t kPolicyTtlMs = 3'600'000;

std::string apiRoute() {
  return session::route("api", "/api/", "[{session: {policy: app}}]");
}

TEST(SessionRolling, RequestRefreshesTheKeyTtl) {
  session::SessionStack stack(
      apiRoute(), session::expressPolicy("app", "    rolling: true\n    ttl: 1h\n    touch_every: 60s\n"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")", std::chrono::milliseconds(kShortTtlMs));
  const std::string key = stack.last_session_key;
  ASSERT_LE(pttl(stack.redis, key), kShortTtlMs);

  ASSERT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 200);
  // The PEXPIRE left in the same write as the GET, so Redis ran it before it answered the lookup.
  const auto refreshed = pttl(stack.redis, key);
  EXPECT_GT(refreshed, kPolicyTtlMs - 60'000) << "PTTL " << refreshed << " ms: the TTL was not refreshed";
  EXPECT_LE(refreshed, kPolicyTtlMs);
}

TEST(SessionRolling, RefreshesAtMostOncePerTouchEvery) {
  session::SessionStack stack(
      apiRoute(), session::expressPolicy("app", "    rolling: true\n    ttl: 1h\n    touch_every: 2s\n"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")", std::chrono::milliseconds(kShortTtlMs));
  const std::string key = stack.last_session_key;

  const auto pexpires_before = commandCalls(stack.redis, "pexpire");
  const auto first_at = std::chrono::steady_clock::now();
  ASSERT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 200);
  EXPECT_GT(pttl(stack.redis, key), kShortTtlMs) << "the first request did not refresh the TTL";

  // Shorten the TTL again (one PEXPIRE of the test's own), then use the session within touch_every.
  ASSERT_EQ(stack.redis.command({"PEXPIRE", key, std::to_string(kShortTtlMs)}).integer, 1);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(stack.get("/api/b", {{"Cookie", cookie}}).result_int(), 200);
  ASSERT_LT(std::chrono::steady_clock::now() - first_at, 2s) << "too slow to stay within touch_every";
  EXPECT_LE(pttl(stack.redis, key), kShortTtlMs) << "refreshed again within touch_every";
  EXPECT_EQ(commandCalls(stack.redis, "pexpire"), pexpires_before + 2)
      << "one touch by Gatehouse, one by the test";

  // Past touch_every the next request touches again.
  std::this_thread::sleep_until(first_at + 2s + 100ms);
  ASSERT_EQ(stack.get("/api/c", {{"Cookie", cookie}}).result_int(), 200);
  EXPECT_GT(pttl(stack.redis, key), kPolicyTtlMs - 60'000);
  EXPECT_EQ(commandCalls(stack.redis, "pexpire"), pexpires_before + 3);
}

TEST(SessionRolling, WithoutRollingTheTtlIsLeftAlone) {
  session::SessionStack stack(apiRoute(), session::expressPolicy("app", "    rolling: false\n    ttl: 1h\n"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")", std::chrono::milliseconds(kShortTtlMs));
  const auto pexpires_before = commandCalls(stack.redis, "pexpire");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 200);
  EXPECT_LE(pttl(stack.redis, stack.last_session_key), kShortTtlMs);
  EXPECT_EQ(commandCalls(stack.redis, "pexpire"), pexpires_before);
}

}  // namespace
}  // namespace gatehouse::testing
