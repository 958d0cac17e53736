// The pipeline against a real redis-server: ordering under load, one write per event-loop turn, replies split
// across reads, binary safety, scripts, pipeline() groups and the pending bound.
#include <gtest/gtest.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "tests/support/redis_server.h"
#include "tests/support/redis_test_client.h"
#include "tests/support/run_until.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;
using testing::connectedClient;
using testing::optionsFor;
using testing::Outcome;
using testing::RedisServer;
using testing::runCommand;
using testing::runUntil;

class RedisPipelineTest : public ::testing::Test {
 protected:
  RedisServer server_;
  boost::asio::io_context io_;
};

TEST_F(RedisPipelineTest, ThousandsOfConcurrentCommandsEachGetTheirOwnReply) {
  auto client = connectedClient(io_, optionsFor(server_));
  constexpr int kCommands = 5000;
  int completed = 0;
  int mismatched = 0;
  for (int i = 0; i < kCommands; ++i) {
    const std::string key = "counter:" + std::to_string(i);
    const std::string amount = std::to_string(i + 1);
    client->command({"INCRBY", key, amount}, [&, i](StoreStatus status, const RedisReply& reply) {
      ++completed;
      if (status != StoreStatus::Ok || reply.type != RedisReply::Type::Integer || reply.integer != i + 1)
        ++mismatched;
    });
    const std::string echo = "value-" + std::to_string(i);
    client->command({"ECHO", echo}, [&, echo](StoreStatus status, const RedisReply& reply) {
      ++completed;
      if (status != StoreStatus::Ok || reply.str != echo) ++mismatched;
    });
  }
  ASSERT_TRUE(runUntil(
      io_, [&] { return completed == 2 * kCommands; }, 20s))
      << completed << " completed";
  EXPECT_EQ(mismatched, 0);
  EXPECT_EQ(server_.command({"GET", "counter:4999"}).str, "5000");
  client->stop();
}

TEST_F(RedisPipelineTest, CommandsIssuedInOneTurnLeaveInOneWrite) {
  auto client = connectedClient(io_, optionsFor(server_));
  const RedisClientStats before = client->stats();
  constexpr int kCommands = 1000;
  int completed = 0;
  for (int i = 0; i < kCommands; ++i) {
    client->command({"PING"},
                    [&](StoreStatus status, const RedisReply&) { completed += status == StoreStatus::Ok; });
  }
  ASSERT_TRUE(runUntil(
      io_, [&] { return completed == kCommands; }, 10s));
  const RedisClientStats after = client->stats();
  EXPECT_EQ(after.writes - before.writes, 1u);
  EXPECT_EQ(after.commands - before.commands, static_cast<std::uint64_t>(kCommands));

  // A second turn is a second write.
  testing::runCommand(io_, *client, {"PING"});
  EXPECT_EQ(client->stats().writes - after.writes, 1u);
  client->stop();
}

TEST_F(RedisPipelineTest, CallbacksNeverRunInsideTheCall) {
  auto client = connectedClient(io_, optionsFor(server_));
  Outcome connected_outcome;
  client->command({"PING"}, connected_outcome.callback());
  EXPECT_FALSE(connected_outcome.done);
  ASSERT_TRUE(runUntil(
      io_, [&] { return connected_outcome.done; }, 5s));

  client->stop();
  Outcome stopped_outcome;
  client->command({"PING"}, stopped_outcome.callback());
  EXPECT_FALSE(stopped_outcome.done) << "a fail-fast callback ran inside command()";
  ASSERT_TRUE(runUntil(
      io_, [&] { return stopped_outcome.done; }, 1s));
  EXPECT_EQ(stopped_outcome.status, StoreStatus::Unavailable);
}

TEST_F(RedisPipelineTest, RepliesSplitAcrossManyReadsAreReassembled) {
  auto client = connectedClient(io_, optionsFor(server_));
  std::string big(4 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  Outcome set;
  client->command({"SET", "big", big}, set.callback());
  // Small replies before and after the 4 MiB one share the read buffers with it.
  constexpr int kSmall = 2000;
  int small_ok = 0;
  std::vector<int> order;
  for (int i = 0; i < kSmall; ++i) {
    if (i == kSmall / 2) {
      client->command({"GET", "big"}, [&](StoreStatus status, const RedisReply& reply) {
        order.push_back(-1);
        EXPECT_EQ(status, StoreStatus::Ok);
        EXPECT_TRUE(reply.str == big) << "the 4 MiB value came back with " << reply.str.size() << " bytes";
      });
    }
    const std::string echo = std::to_string(i);
    client->command({"ECHO", echo}, [&, i, echo](StoreStatus status, const RedisReply& reply) {
      order.push_back(i);
      small_ok += status == StoreStatus::Ok && reply.str == echo;
    });
  }
  ASSERT_TRUE(runUntil(
      io_, [&] { return order.size() == kSmall + 1; }, 20s));
  EXPECT_EQ(set.status, StoreStatus::Ok);
  EXPECT_EQ(small_ok, kSmall);
  EXPECT_EQ(order[kSmall / 2], -1) << "the big reply was delivered out of order";
  EXPECT_GT(client->stats().replies, 0u);
  client->stop();
}

TEST_F(RedisPipelineTest, BinaryKeysAndValuesRoundTrip) {
  auto client = connectedClient(io_, optionsFor(server_));
  const std::string key("k\0\r\n\xff key", 9);
  std::string value;
  for (int byte = 0; byte < 256; ++byte) value.push_back(static_cast<char>(byte));
  value += "\r\n$3\r\n*1\r\n";  // RESP-looking bytes inside a value must stay data

  const Outcome set = runCommand(io_, *client, {"SET", key, value});
  ASSERT_EQ(set.status, StoreStatus::Ok);
  EXPECT_EQ(set.reply.str, "OK");
  const Outcome get = runCommand(io_, *client, {"GET", key});
  ASSERT_EQ(get.status, StoreStatus::Ok);
  EXPECT_EQ(get.reply.str, value);
  EXPECT_EQ(server_.command({"GET", key}).str, value) << "stored under a different key or mangled";
  client->stop();
}

TEST_F(RedisPipelineTest, ErrorRepliesArriveWithStatusOk) {
  auto client = connectedClient(io_, optionsFor(server_));
  server_.command({"SET", "text", "x"});
  const Outcome wrong_type = runCommand(io_, *client, {"LPUSH", "text", "y"});
  EXPECT_EQ(wrong_type.status, StoreStatus::Ok);
  EXPECT_TRUE(wrong_type.reply.isError());
  EXPECT_TRUE(wrong_type.reply.str.starts_with("WRONGTYPE")) << wrong_type.reply.str;
  client->stop();
}

TEST_F(RedisPipelineTest, EvalLoadsTheScriptOnNoScriptInvisiblyToTheCaller) {
  auto client = connectedClient(io_, optionsFor(server_));
  const LuaScript script = LuaScript::fromSource("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}");
  const std::string_view keys[] = {"evalkey"};
  const std::string_view args[] = {std::string_view("arg\0x", 5)};

  const auto runEval = [&] {
    Outcome outcome;
    client->eval(script, keys, args, outcome.callback());
    EXPECT_FALSE(outcome.done);
    EXPECT_TRUE(runUntil(
        io_, [&] { return outcome.done; }, 5s));
    return outcome;
  };

  // A fresh server has no scripts: the first call must load it and still answer.
  Outcome first = runEval();
  ASSERT_EQ(first.status, StoreStatus::Ok);
  ASSERT_EQ(first.reply.type, RedisReply::Type::Array) << first.reply.str;
  ASSERT_EQ(first.reply.elements.size(), 3u);
  EXPECT_EQ(first.reply.elements[0].str, "evalkey");
  EXPECT_EQ(first.reply.elements[1].str, std::string("arg\0x", 5));
  EXPECT_EQ(first.reply.elements[2].integer, 1);
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(client->stats().script_loads, 1u);
  EXPECT_EQ(server_.command({"SCRIPT", "EXISTS", script.sha1}).elements.at(0).integer, 1);

  Outcome second = runEval();
  EXPECT_EQ(second.reply.elements.at(2).integer, 2);
  EXPECT_EQ(client->stats().script_loads, 1u) << "a cached script was loaded again";

  server_.command({"SCRIPT", "FLUSH"});
  Outcome after_flush = runEval();
  ASSERT_EQ(after_flush.status, StoreStatus::Ok);
  EXPECT_EQ(after_flush.reply.elements.at(2).integer, 3) << "the script ran twice or not at all";
  EXPECT_EQ(client->stats().script_loads, 2u);
  client->stop();
}

TEST_F(RedisPipelineTest, ConcurrentEvalsOfAnUnloadedScriptAllRecover) {
  auto client = connectedClient(io_, optionsFor(server_));
  const LuaScript script = LuaScript::fromSource("return redis.call('INCR', KEYS[1])");
  constexpr int kEvals = 200;
  int ok = 0;
  for (int i = 0; i < kEvals; ++i) {
    const std::string key = "many:" + std::to_string(i);
    const std::string_view keys[] = {key};
    client->eval(script, keys, {}, [&](StoreStatus status, const RedisReply& reply) {
      ok += status == StoreStatus::Ok && reply.integer == 1;
    });
  }
  ASSERT_TRUE(runUntil(
      io_, [&] { return ok == kEvals; }, 10s))
      << ok;
  client->stop();
}

TEST_F(RedisPipelineTest, ScriptErrorsReachTheCaller) {
  auto client = connectedClient(io_, optionsFor(server_));
  const LuaScript script = LuaScript::fromSource("return redis.call('NOSUCHCOMMAND')");
  Outcome outcome;
  client->eval(script, {}, {}, outcome.callback());
  ASSERT_TRUE(runUntil(
      io_, [&] { return outcome.done; }, 5s));
  EXPECT_EQ(outcome.status, StoreStatus::Ok);
  EXPECT_TRUE(outcome.reply.isError());
  EXPECT_FALSE(outcome.reply.str.starts_with("NOSCRIPT")) << outcome.reply.str;
  client->stop();
}

TEST_F(RedisPipelineTest, CommandsPastMaxPendingFailFast) {
  RedisClientOptions options = optionsFor(server_);
  options.max_pending = 10;
  auto client = connectedClient(io_, options);
  int ok = 0;
  int unavailable = 0;
  for (int i = 0; i < 15; ++i) {
    client->command({"PING"}, [&](StoreStatus status, const RedisReply&) {
      ok += status == StoreStatus::Ok;
      unavailable += status == StoreStatus::Unavailable;
    });
  }
  ASSERT_TRUE(runUntil(
      io_, [&] { return ok + unavailable == 15; }, 5s));
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(unavailable, 5);
  EXPECT_EQ(client->stats().rejected, 5u);
  // Once the replies drained, there is room again.
  EXPECT_EQ(runCommand(io_, *client, {"PING"}).status, StoreStatus::Ok);
  client->stop();
}

// pipeline(): the replies of its commands come back as one Array, in order, with an error reply as an
// element; commands before and after it keep their own replies.
TEST_F(RedisPipelineTest, APipelineAnswersItsCommandsTogetherInOrder) {
  auto client = connectedClient(io_, optionsFor(server_));
  server_.command({"HSET", "a-hash", "f", "v"});
  const RedisClientStats before = client->stats();
  Outcome first;
  Outcome group;
  Outcome last;
  client->command({"ECHO", "before"}, first.callback());
  const std::string_view set[] = {"SET", "n", "5"};
  const std::string_view increment[] = {"INCRBY", "n", "2"};
  const std::string_view missing[] = {"GET", "no-such-key"};
  const std::string_view wrong_type[] = {"INCR", "a-hash"};
  const std::span<const std::string_view> commands[] = {set, increment, missing, wrong_type};
  client->pipeline(commands, group.callback());
  client->command({"ECHO", "after"}, last.callback());
  ASSERT_TRUE(runUntil(
      io_, [&] { return first.done && group.done && last.done; }, 5s));

  EXPECT_EQ(first.reply.str, "before");
  EXPECT_EQ(last.reply.str, "after");
  ASSERT_EQ(group.status, StoreStatus::Ok);
  ASSERT_EQ(group.reply.type, RedisReply::Type::Array);
  ASSERT_EQ(group.reply.elements.size(), 4u);
  EXPECT_EQ(group.reply.elements[0].str, "OK");
  EXPECT_EQ(group.reply.elements[1].type, RedisReply::Type::Integer);
  EXPECT_EQ(group.reply.elements[1].integer, 7);
  EXPECT_TRUE(group.reply.elements[2].isNil());
  EXPECT_TRUE(group.reply.elements[3].isError());
  EXPECT_TRUE(group.reply.elements[3].str.starts_with("WRONGTYPE")) << group.reply.elements[3].str;

  const RedisClientStats after = client->stats();
  EXPECT_EQ(after.commands - before.commands, 6u) << "each command of the pipeline counts";
  EXPECT_EQ(after.writes - before.writes, 1u) << "issued in one turn, they leave in one write";
  client->stop();
}

TEST_F(RedisPipelineTest, ManyPipelinesBetweenCommandsStayMatched) {
  auto client = connectedClient(io_, optionsFor(server_));
  constexpr int kRounds = 2000;
  int completed = 0;
  int mismatched = 0;
  for (int i = 0; i < kRounds; ++i) {
    const std::string key = "group:" + std::to_string(i);
    const std::string amount = std::to_string(i + 1);
    const std::string_view increment[] = {"INCRBY", key, amount};
    const std::string_view read[] = {"GET", key};
    const std::span<const std::string_view> commands[] = {increment, read};
    client->pipeline(commands, [&, i](StoreStatus status, const RedisReply& reply) {
      ++completed;
      if (status != StoreStatus::Ok || reply.elements.size() != 2 || reply.elements[0].integer != i + 1 ||
          reply.elements[1].str != std::to_string(i + 1))
        ++mismatched;
    });
    const std::string echo = "echo-" + std::to_string(i);
    client->command({"ECHO", echo}, [&, echo](StoreStatus status, const RedisReply& reply) {
      ++completed;
      if (status != StoreStatus::Ok || reply.str != echo) ++mismatched;
    });
  }
  ASSERT_TRUE(runUntil(
      io_, [&] { return completed == 2 * kRounds; }, 20s))
      << completed << " completed";
  EXPECT_EQ(mismatched, 0);
  client->stop();
}

// A pipeline that timed out still takes all of its replies when they come: the command behind it must get its
// own reply, not one of the pipeline's.
TEST_F(RedisPipelineTest, ATimedOutPipelineKeepsTheRepliesBehindItMatched) {
  RedisClientOptions options = optionsFor(server_);
  options.command_timeout = 100ms;
  options.stall_reset = 10s;  // keep the connection: the late replies must be absorbed, not cut off
  auto client = connectedClient(io_, options);
  server_.pause();
  Outcome group;
  const std::string_view one[] = {"ECHO", "one"};
  const std::string_view two[] = {"ECHO", "two"};
  const std::string_view three[] = {"ECHO", "three"};
  const std::span<const std::string_view> commands[] = {one, two, three};
  client->pipeline(commands, group.callback());
  ASSERT_TRUE(runUntil(
      io_, [&] { return group.done; }, 5s));
  EXPECT_EQ(group.status, StoreStatus::Timeout);
  server_.resume();

  const Outcome after = runCommand(io_, *client, {"ECHO", "mine"});
  EXPECT_EQ(after.status, StoreStatus::Ok);
  EXPECT_EQ(after.reply.str, "mine");
  EXPECT_TRUE(client->connected());
  client->stop();
}

}  // namespace
}  // namespace gatehouse::store
