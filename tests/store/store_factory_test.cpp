// The factory the workers use: the memory type forwards to the one process-wide memory store, the redis type
// connects the configured number of connections with the configured options.
#include "store/store_factory.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "store/rate_limit_keys.h"
#include "store/redis_store.h"
#include "tests/support/redis_server.h"
#include "tests/support/run_until.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;

config::StoreConfig memoryConfig() {
  config::StoreConfig config;
  config.type = config::StoreConfig::Type::Memory;
  return config;
}

TEST(StoreFactory, EveryWorkerOfTheMemoryTypeSharesTheOneMemoryStore) {
  boost::asio::io_context io;
  const config::StoreConfig config = memoryConfig();
  std::shared_ptr<MemoryStore> memory = makeMemoryStore(config);
  std::unique_ptr<Store> first = makeWorkerStore(io, config, memory);
  std::unique_ptr<Store> second = makeWorkerStore(io, config, memory);

  memory->putSession("sess:f", "value", 10s);
  bool found = false;
  first->lookupSession({"sess:f", 0ms}, [&](const SessionResult& result) { found = result.found; });
  EXPECT_TRUE(found) << "answered synchronously, from the shared store";

  const RateLimitCheck check{"shared", RateLimitAlgorithm::SlidingWindow, {{1, 60s}}, 1};
  bool first_allowed = false;
  bool second_allowed = true;
  first->checkRateLimit(check, [&](RateLimitResult result) { first_allowed = result.allowed; });
  second->checkRateLimit(check, [&](RateLimitResult result) { second_allowed = result.allowed; });
  EXPECT_TRUE(first_allowed);
  EXPECT_FALSE(second_allowed) << "the two workers count in the same counter";

  StoreStatus status = StoreStatus::Error;
  second->ping([&](StoreStatus got) { status = got; });
  EXPECT_EQ(status, StoreStatus::Ok);
}

TEST(StoreFactory, TheMemoryTypeNeedsTheMemoryStore) {
  boost::asio::io_context io;
  EXPECT_THROW(makeWorkerStore(io, memoryConfig(), nullptr), std::invalid_argument);
}

TEST(StoreFactory, TheMemoryStoreIsCappedAtMemoryMaxKeys) {
  config::StoreConfig config = memoryConfig();
  config.memory_max_keys = 10;
  std::shared_ptr<MemoryStore> memory = makeMemoryStore(config);
  for (int i = 0; i < 100; ++i) memory->putSession("sess:" + std::to_string(i), "{}", 0ms);
  EXPECT_LE(memory->size(), 10u);
  EXPECT_GE(memory->size(), 1u);
}

TEST(StoreFactory, TheRedisTypeOpensTheConfiguredConnectionsAndSpreadsCallsOverThem) {
  gatehouse::testing::RedisServer server;
  boost::asio::io_context io;
  config::StoreConfig config;
  config.type = config::StoreConfig::Type::Redis;
  config.url = server.url();
  config.redis = server.redisUrl();
  config.connections = 2;
  config.timeout = 500ms;
  std::unique_ptr<Store> store = makeWorkerStore(io, config, nullptr);
  auto& redis = dynamic_cast<RedisStore&>(*store);
  ASSERT_EQ(redis.connections(), 2u);
  ASSERT_TRUE(gatehouse::testing::runUntil(
      io, [&] { return redis.client(0).connected() && redis.client(1).connected(); }, 5s));

  int oks = 0;
  for (int i = 0; i < 4; ++i) {
    store->ping([&](StoreStatus status) { oks += status == StoreStatus::Ok ? 1 : 0; });
  }
  ASSERT_TRUE(gatehouse::testing::runUntil(
      io, [&] { return oks == 4; }, 5s));
  EXPECT_EQ(redis.client(0).stats().commands, 2u);
  EXPECT_EQ(redis.client(1).stats().commands, 2u);

  store.reset();  // stops both clients
  gatehouse::testing::runFor(io, 10ms);
}

}  // namespace
}  // namespace gatehouse::store
