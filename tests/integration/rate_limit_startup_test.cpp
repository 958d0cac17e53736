// The moment Gatehouse starts: with Redis up and answering, the requests it accepts from its first moment
// must be decided by Redis, not by the policy's on_store_error (which is for a store that fails).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/rate_limit_fixture.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

using ratelimit::limitedRoute;
using ratelimit::redisStoreYaml;

TEST(RateLimitStartup, TheFirstRequestAfterStartIsDecidedByARedisThatIsUp) {
  RedisServer redis;
  TestUpstream upstream;
  // deny makes a check that did not reach Redis visible as a 503.
  const std::string yaml =
      testConfig(upstream.address(), limitedRoute("api", "/", "guarded"),
                 redisStoreYaml(redis) +
                     "rate_limits:\n  guarded:\n    key: [ip]\n"
                     "    limits: [{requests: 1000, window: 60s}]\n    on_store_error: deny\n");
  // The window between listening and the worker's Redis connection being up is short: a few fresh starts
  // make a race in it show up reliably.
  constexpr int kStarts = 20;
  int refused_without_store = 0;
  for (int start = 0; start < kStarts; ++start) {
    ProxyInstance proxy(yaml);
    HttpClient client(proxy.port());
    const auto response = client.get("/first");
    if (response.result_int() == 503) ++refused_without_store;
    EXPECT_TRUE(response.result_int() == 503 || response.find("X-RateLimit-Limit") != response.end())
        << "start " << start << ": " << response.result_int();
  }
  EXPECT_EQ(refused_without_store, 0)
      << "of " << kStarts << " fresh starts, the first request was refused as if Redis were down";
}

}  // namespace
}  // namespace gatehouse::testing
