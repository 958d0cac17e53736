// The sliding-log script against the C++ math, step for step (the sliding window has no script: its Redis
// side is tested against the same math in redis_sliding_window_test.cpp). Redis's TIME cannot be faked, so
// the test runs the real script text with its one `redis.call('TIME')` replaced by two extra arguments
// carrying a chosen time; everything else is the script as shipped. Random histories (two limits, costs 0 to
// 3, times around today's epoch) must give identical verdicts, retry_after, remaining and reset_after in
// Redis and in the memory store's math. Every other history has a single limit, the common case, with costs 0
// to 6: above the limit at times, which is never admitted.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/lua_scripts.h"
#include "store/rate_limit_keys.h"
#include "store/sliding_log.h"
#include "tests/store/random_histories.h"
#include "tests/support/redis_server.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;
using gatehouse::testing::RedisServer;

constexpr std::string_view kTimeCall = "redis.call('TIME')";

std::string withInjectedTime(std::string source) {
  const std::size_t at = source.find(kTimeCall);
  EXPECT_NE(at, std::string::npos) << "the script reads the time from redis.call('TIME')";
  EXPECT_EQ(source.find(kTimeCall, at + 1), std::string::npos) << "exactly once";
  if (at != std::string::npos) source.replace(at, kTimeCall.size(), "{ARGV[#ARGV - 1], ARGV[#ARGV]}");
  return source;
}

// EVALs `source` for the check at now_ms, as RedisStore would (same keys, same arguments), plus the time.
RateLimitResult evalAt(const RedisServer& server, const std::string& source, const RateLimitCheck& check,
                       std::int64_t now_ms) {
  std::vector<std::string> argv{"EVAL", source, std::to_string(check.limits.size())};
  for (const WindowLimit& limit : check.limits)
    argv.push_back(rateLimitKey(check.key, check.algorithm, limit.window));
  argv.push_back(std::to_string(check.cost));
  for (const WindowLimit& limit : check.limits) {
    argv.push_back(std::to_string(limit.requests));
    argv.push_back(std::to_string(limit.window.count()));
  }
  argv.push_back(std::to_string(now_ms / 1000));
  argv.push_back(std::to_string(now_ms % 1000 * 1000 + 999));  // microseconds: the script must floor them
  const RedisReply reply = server.command(argv);
  EXPECT_FALSE(reply.isError()) << reply.str;
  RateLimitResult result;
  if (reply.elements.size() != 3 + 2 * check.limits.size()) {
    result.status = StoreStatus::Error;
    return result;
  }
  result.allowed = reply.elements[0].integer == 1;
  result.retry_after = Millis{reply.elements[1].integer};
  result.now_ms = reply.elements[2].integer;
  for (std::size_t i = 0; i < check.limits.size(); ++i) {
    result.limits.push_back(LimitState{check.limits[i].requests,
                                       static_cast<std::uint64_t>(reply.elements[3 + 2 * i].integer),
                                       Millis{reply.elements[4 + 2 * i].integer}});
  }
  return result;
}

TEST(RedisStoreLua, SlidingLogScriptMatchesTheCppMath) {
  RedisServer server;
  const std::string source = withInjectedTime(lua::slidingLog().source);
  testing::compareRandomHistories<RequestLog>(
      11, RateLimitAlgorithm::SlidingLog, 0,
      [](auto pointers, const auto& limits, std::uint32_t cost, std::int64_t now) {
        return evaluateSlidingLog(pointers, limits, cost, now);
      },
      [&](const RateLimitCheck& check, std::int64_t now) { return evalAt(server, source, check, now); });
}

}  // namespace
}  // namespace gatehouse::store
