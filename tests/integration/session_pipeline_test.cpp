// A session filter and a rate limit keyed by client IP on one route, against one Redis: both decide correctly
// together, and their store calls (GET of the session; EVALSHA of the sliding-log script, or the sliding
// window's INCRBY, PEXPIRE and GET) leave in one write and reach Redis in one read — one round trip per
// request, not two.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/session_fixture.h"

namespace gatehouse::testing {
namespace {

using session::commandCalls;
using session::statsCounter;

// sliding_log counts exactly, so that X-RateLimit-Remaining can be asserted to the request whatever the
// clock's position in the window.
std::string rateLimitYaml(int requests, const std::string& algorithm = "sliding_log",
                          const std::string& window = "60s") {
  return "rate_limits:\n  per_ip:\n    key: [ip]\n    algorithm: " + algorithm +
         "\n    limits: [{requests: " + std::to_string(requests) + ", window: " + window + "}]\n";
}

std::string guardedRoute() {
  return session::route("api", "/api/", "[{session: {policy: app}}, {rate_limit: per_ip}]");
}

int remaining(const Response& response) {
  return std::stoi(std::string(response["X-RateLimit-Remaining"]));
}

// Sends `count` requests with `cookie`, each expected to pass with X-RateLimit-Remaining `first_remaining`,
// then one less each time, and returns the reads Redis processed meanwhile: its round trips, after
// pipelining. Besides Gatehouse's reads they include the close of the INFO connection before and the INFO
// command after.
std::uint64_t redisReadsFor(session::SessionStack& stack, const std::string& cookie, int count,
                            int first_remaining) {
  // Last before the requests: every INFO is a connection of its own, and its reads count too.
  const auto reads_before = statsCounter(stack.redis, "total_reads_processed");
  for (int i = 0; i < count; ++i) {
    const auto response = stack.get("/api/item/" + std::to_string(i), {{"Cookie", cookie}});
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(remaining(response), first_remaining - i);
    if (::testing::Test::HasFailure()) break;
  }
  return statsCounter(stack.redis, "total_reads_processed") - reads_before;
}

TEST(SessionWithRateLimit, BothStoreCallsOfARequestShareOneRoundTrip) {
  constexpr int kRequests = 20;
  session::SessionStack stack(guardedRoute(), session::expressPolicy("app"), "500ms", rateLimitYaml(1000));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  // The first check loads the limit script (NOSCRIPT, SCRIPT LOAD, EVALSHA again): an extra round trip that
  // happens once per connection, not per request, so it stays out of the measurement.
  for (int i = 0; i < 2; ++i) ASSERT_EQ(stack.get("/api/warm", {{"Cookie", cookie}}).result_int(), 200);

  const auto gets_before = commandCalls(stack.redis, "get");
  const auto evalshas_before = commandCalls(stack.redis, "evalsha");
  const auto reads = redisReadsFor(stack, cookie, kRequests, 1000 - 3);
  ASSERT_FALSE(HasFailure());

  EXPECT_EQ(commandCalls(stack.redis, "get"), gets_before + kRequests);
  EXPECT_EQ(commandCalls(stack.redis, "evalsha"), evalshas_before + kRequests);
  // One read per request when both commands came in one write; two when the second waited for the first
  // answer.
  RecordProperty("redis_reads", std::to_string(reads));
  EXPECT_LE(reads, static_cast<std::uint64_t>(kRequests + 4))
      << reads << " reads for " << kRequests
      << " requests: the session and rate-limit calls were not pipelined";
  EXPECT_GE(reads, static_cast<std::uint64_t>(kRequests)) << "Redis did not see every request";

  const auto requests = session::appRequests(stack.upstream);
  ASSERT_EQ(requests.size(), static_cast<std::size_t>(kRequests + 2));
  for (const auto& request : requests) EXPECT_EQ(request.header("x-user"), "alice") << request.target;
}

// The sliding window's three commands join the session's GET: still one read per request. A window of an
// hour: a test of a few milliseconds then almost never spans two windows, so Remaining is exact.
TEST(SessionWithRateLimit, TheSlidingWindowsCommandsJoinTheSessionLookupInOneRoundTrip) {
  constexpr int kRequests = 20;
  session::SessionStack stack(guardedRoute(), session::expressPolicy("app"), "500ms",
                              rateLimitYaml(1000, "sliding_window", "1h"));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(stack.get("/api/warm", {{"Cookie", cookie}}).result_int(), 200);

  const auto gets_before = commandCalls(stack.redis, "get");
  const auto increments_before = commandCalls(stack.redis, "incrby");
  const auto expiries_before = commandCalls(stack.redis, "pexpire");
  const auto reads = redisReadsFor(stack, cookie, kRequests, 1000 - 3);
  ASSERT_FALSE(HasFailure());

  EXPECT_EQ(commandCalls(stack.redis, "get"), gets_before + 2 * kRequests)
      << "the session, the previous window";
  EXPECT_EQ(commandCalls(stack.redis, "incrby"), increments_before + kRequests);
  EXPECT_EQ(commandCalls(stack.redis, "pexpire"), expiries_before + kRequests);
  EXPECT_EQ(commandCalls(stack.redis, "evalsha"), 0u) << "no script for the sliding window";
  RecordProperty("redis_reads", std::to_string(reads));
  EXPECT_LE(reads, static_cast<std::uint64_t>(kRequests + 4))
      << reads << " reads for " << kRequests << " requests: the calls were not pipelined";
  EXPECT_GE(reads, static_cast<std::uint64_t>(kRequests)) << "Redis did not see every request";
}

TEST(SessionWithRateLimit, BothFiltersDecideTogether) {
  session::SessionStack stack(guardedRoute(), session::expressPolicy("app"), "500ms", rateLimitYaml(5));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");

  for (int i = 0; i < 3; ++i) {
    const auto response = stack.get("/api/a", {{"Cookie", cookie}});
    ASSERT_EQ(response.result_int(), 200);
    EXPECT_EQ(std::string(response["X-RateLimit-Limit"]), "5");
    EXPECT_EQ(std::string(response["X-RateLimit-Remaining"]), std::to_string(4 - i));
  }
  // Refused by the session filter, yet counted: the IP-keyed check started with the request, before the
  // session was known (documented, as nginx's limit_req runs before access checks).
  const auto refused = stack.get("/api/b");
  EXPECT_EQ(refused.result_int(), 401);
  EXPECT_EQ(session::jsonError(refused), "unauthenticated");

  const auto last = stack.get("/api/c", {{"Cookie", cookie}});
  ASSERT_EQ(last.result_int(), 200);
  EXPECT_EQ(std::string(last["X-RateLimit-Remaining"]), "0");

  const auto limited = stack.get("/api/d", {{"Cookie", cookie}});
  EXPECT_EQ(limited.result_int(), 429);
  EXPECT_FALSE(limited["Retry-After"].empty());

  const auto requests = session::appRequests(stack.upstream);
  ASSERT_EQ(requests.size(), 4u);
  for (const auto& request : requests) EXPECT_EQ(request.header("x-user"), "alice") << request.target;
}

// ---- a limit keyed by session.user ----

std::string perUserYaml(int requests) {
  return "rate_limits:\n  per_user:\n    key: [session.user]\n    algorithm: sliding_log\n    limits: "
         "[{requests: " +
         std::to_string(requests) + ", window: 60s}]\n";
}

std::string perUserRoute() {
  return session::route("api", "/api/", "[{session: {policy: app}}, {rate_limit: per_user}]");
}

TEST(SessionWithUserRateLimit, OnceTheWorkerKnowsTheUserBothCallsShareOneRoundTrip) {
  constexpr int kRequests = 20;
  session::SessionStack stack(perUserRoute(), session::expressPolicy("app"), "500ms", perUserYaml(1000));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  // The first request teaches the worker whose session this is (and loads the script): two round trips.
  for (int i = 0; i < 2; ++i) ASSERT_EQ(stack.get("/api/warm", {{"Cookie", cookie}}).result_int(), 200);

  const auto reads = redisReadsFor(stack, cookie, kRequests, 1000 - 3);  // alice's own count, one per request
  ASSERT_FALSE(HasFailure());
  RecordProperty("redis_reads", std::to_string(reads));
  EXPECT_LE(reads, static_cast<std::uint64_t>(kRequests + 4))
      << reads << " reads for " << kRequests << " requests: the per-user check waited for the session lookup";
  for (const auto& request : session::appRequests(stack.upstream))
    EXPECT_EQ(request.header("x-user"), "alice");
}

TEST(SessionWithUserRateLimit, ASessionThatChangedHandsIsCheckedForItsNewUser) {
  session::SessionStack stack(perUserRoute(), session::expressPolicy("app"), "500ms", perUserYaml(100));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 200);
  // The same session id now holds bob (an app that reuses ids on login): the worker still guesses alice.
  session::seedSession(stack.redis, stack.last_session_key, session::expressSessionJson("bob", R"("user")"),
                       std::chrono::hours(1));
  for (int i = 0; i < 3; ++i) {
    const auto response = stack.get("/api/b", {{"Cookie", cookie}});
    ASSERT_EQ(response.result_int(), 200);
    EXPECT_EQ(remaining(response), 100 - 1 - i) << "bob's own bucket";
  }
  EXPECT_EQ(session::appRequests(stack.upstream).back().header("x-user"), "bob");
  // alice's bucket took her 3 requests and, once, the request that was guessed to be hers.
  const std::string alice_again = stack.signIn("alice", R"("user")");
  EXPECT_EQ(remaining(stack.get("/api/a", {{"Cookie", alice_again}})), 100 - 3 - 1 - 1);
}

TEST(SessionWithUserRateLimit, ALoggedOutSessionCountsAgainstItsUserAtMostOnce) {
  session::SessionStack stack(perUserRoute(), session::expressPolicy("app"), "500ms", perUserYaml(100));
  ASSERT_TRUE(stack.awaitStore());
  const std::string cookie = stack.signIn("alice", R"("user")");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 200);
  stack.redis.command({"DEL", stack.last_session_key});  // logout
  for (int i = 0; i < 5; ++i) EXPECT_EQ(stack.get("/api/a", {{"Cookie", cookie}}).result_int(), 401);
  const std::string alice_again = stack.signIn("alice", R"("user")");
  EXPECT_EQ(remaining(stack.get("/api/a", {{"Cookie", alice_again}})), 100 - 2 - 1 - 1)
      << "a replayed logged-out cookie kept counting against its former user";
}

}  // namespace
}  // namespace gatehouse::testing
