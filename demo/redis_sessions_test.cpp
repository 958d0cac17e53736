#include "demo/redis_sessions.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "demo/session_id.h"
#include "tests/support/redis_server.h"

namespace gatehouse::demo {
namespace {

using namespace std::chrono_literals;
using store::RedisReply;

TEST(RedisEndpoint, ParsesHostPortDbAndCredentials) {
  const RedisEndpoint plain = RedisEndpoint::parse("redis://10.0.0.5:6380/2");
  EXPECT_EQ(plain.host, "10.0.0.5");
  EXPECT_EQ(plain.port, 6380);
  EXPECT_EQ(plain.db, 2);
  EXPECT_TRUE(plain.password.empty());

  const RedisEndpoint acl = RedisEndpoint::parse("redis://app:s3cret@redis");
  EXPECT_EQ(acl.host, "redis");
  EXPECT_EQ(acl.port, 6379);
  EXPECT_EQ(acl.user, "app");
  EXPECT_EQ(acl.password, "s3cret");

  const RedisEndpoint legacy = RedisEndpoint::parse("redis://:pw@[::1]:7000/");
  EXPECT_EQ(legacy.host, "::1");
  EXPECT_EQ(legacy.port, 7000);
  EXPECT_TRUE(legacy.user.empty());
  EXPECT_EQ(legacy.password, "pw");
  EXPECT_EQ(legacy.db, 0);
}

TEST(RedisEndpoint, RejectsOtherSchemesAndBadNumbers) {
  EXPECT_THROW(RedisEndpoint::parse("rediss://127.0.0.1"), std::invalid_argument);
  EXPECT_THROW(RedisEndpoint::parse("127.0.0.1:6379"), std::invalid_argument);
  EXPECT_THROW(RedisEndpoint::parse("redis://127.0.0.1:99999"), std::invalid_argument);
  EXPECT_THROW(RedisEndpoint::parse("redis://127.0.0.1:6379/x"), std::invalid_argument);
  EXPECT_THROW(RedisEndpoint::parse("redis://[::1"), std::invalid_argument);
}

TEST(RedisSessions, CreateWritesValueWithTtlAndRemoveDeletesIt) {
  testing::RedisServer server;
  RedisSessions sessions(RedisEndpoint::parse(server.url()), 90s);

  const auto id = sessions.create(R"({"username":"alice","role":"admin","name":"alice"})");
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(isSessionId(*id)) << *id;

  const RedisReply value = server.command({"GET", "session:" + *id});
  ASSERT_EQ(value.type, RedisReply::Type::String);
  EXPECT_EQ(value.str, R"({"username":"alice","role":"admin","name":"alice"})");
  const RedisReply ttl = server.command({"PTTL", "session:" + *id});
  ASSERT_EQ(ttl.type, RedisReply::Type::Integer);
  EXPECT_GT(ttl.integer, 80'000);
  EXPECT_LE(ttl.integer, 90'000);

  EXPECT_TRUE(sessions.remove(*id));
  EXPECT_TRUE(server.command({"GET", "session:" + *id}).isNil());
}

TEST(RedisSessions, SelectsTheDatabaseAndAuthenticates) {
  testing::RedisServerOptions options;
  options.requirepass = "pw";
  testing::RedisServer server(options);
  RedisSessions sessions(
      RedisEndpoint::parse("redis://:pw@127.0.0.1:" + std::to_string(server.port()) + "/3"), 60s);

  const auto id = sessions.create("{}");
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(server.command({"GET", "session:" + *id}).isNil()) << "written to db 0, not db 3";
  const RedisReply in_db3 = server.command(
      {"EVAL", "redis.call('SELECT', 3) return redis.call('GET', KEYS[1])", "1", "session:" + *id});
  ASSERT_EQ(in_db3.type, RedisReply::Type::String);
  EXPECT_EQ(in_db3.str, "{}");
}

TEST(RedisSessions, FailsWhenRedisIsDownAndRecoversWhenItIsBack) {
  testing::RedisServer server;
  RedisSessions sessions(RedisEndpoint::parse(server.url()), 60s);
  ASSERT_TRUE(sessions.create("{}").has_value());

  server.kill();
  EXPECT_FALSE(sessions.create("{}").has_value());
  EXPECT_FALSE(sessions.remove(newSessionId()));

  server.restart();
  EXPECT_TRUE(sessions.create("{}").has_value());
}

}  // namespace
}  // namespace gatehouse::demo
