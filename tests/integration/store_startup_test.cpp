// How Gatehouse treats its Redis at startup and in readiness: a wrong password is a configuration error that
// stops it; a Redis that is merely down is not (a sidecar starts in any order), but /readyz says so.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/integration/harness.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing {
namespace {

std::string redisStore(const std::string& url) {
  return "store: {type: redis, url: \"" + url + "\", timeout: 200ms}\n";
}

TEST(StoreStartup, AWrongRedisPasswordStopsGatehouseWithAClearError) {
  RedisServerOptions options;
  options.requirepass = "right-password";
  RedisServer redis(options);
  TestUpstream upstream;
  const auto port = freePort();
  auto yaml =
      testConfig(upstream.address(), kCatchAll,
                 redisStore("redis://:wrong-password@127.0.0.1:" + std::to_string(redis.port()) + "/0"));
  yaml.replace(yaml.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(port));
  try {
    ProxyProcess proxy(yaml, port);
    FAIL() << "gatehouse started with a wrong Redis password";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("exited at startup"), std::string::npos) << message;
    EXPECT_NE(message.find("authentication failed"), std::string::npos) << message;
    EXPECT_EQ(message.find("wrong-password"), std::string::npos)
        << "the password must not be logged: " << message;
  }
}

TEST(StoreStartup, ARedisThatIsDownDoesNotStopGatehouseButReadinessSaysSo) {
  auto redis = std::make_unique<RedisServer>();
  const auto url = redis->url();
  redis->kill();
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll, redisStore(url) + "admin: 127.0.0.1:0\n"));
  HttpClient admin(proxy.adminPort());
  const auto not_ready = admin.get("/readyz");
  EXPECT_EQ(not_ready.result_int(), 503);
  EXPECT_NE(boost::json::parse(not_ready.body()).at("reason").as_string().find("store"), std::string::npos)
      << not_ready.body();
  // Pass-through routes still work: no filter needs the store.
  HttpClient client(proxy.port());
  EXPECT_EQ(client.get("/").result_int(), 200);

  redis->restart();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  unsigned status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    status = admin.get("/readyz").result_int();
    if (status == 200) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 200u);
}

}  // namespace
}  // namespace gatehouse::testing
