// Failures against a real redis-server: killed mid-flight, restarted, hung (SIGSTOP), down. Every caller must
// get an answer within a bounded time, and the client must recover by itself.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "tests/support/redis_server.h"
#include "tests/support/redis_test_client.h"
#include "tests/support/run_until.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::connectedClient;
using testing::optionsFor;
using testing::Outcome;
using testing::RedisServer;
using testing::runCommand;
using testing::runUntil;

// How late past its deadline a Timeout may arrive: timer and scheduling latency on a busy CI machine.
constexpr auto kSlack = 100ms;

// Issues PINGs (one at a time, every 20 ms) until one succeeds; returns how long that took, or nullopt.
std::optional<Clock::duration> timeUntilPingSucceeds(boost::asio::io_context& io, RedisClient& client,
                                                     std::chrono::milliseconds limit) {
  const auto start = Clock::now();
  while (Clock::now() - start < limit) {
    Outcome outcome;
    client.command({"PING"}, outcome.callback());
    runUntil(
        io, [&] { return outcome.done; }, 1s);
    if (outcome.done && outcome.status == StoreStatus::Ok) return Clock::now() - start;
    testing::runFor(io, 20ms);
  }
  return std::nullopt;
}

TEST(RedisFailure, KilledMidFlightFailsEveryCallerThenRecoversAfterRestart) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions options = optionsFor(server);
  options.command_timeout = 5s;  // long: what completes these commands must be the broken connection
  options.stall_reset = 60s;
  auto client = connectedClient(io, options);

  // Stop the server so that the commands are certainly in flight (written, unanswered) when it dies.
  server.pause();
  constexpr int kCommands = 500;
  std::vector<Outcome> outcomes(kCommands);
  for (auto& outcome : outcomes) client->command({"INCR", "n"}, outcome.callback());
  testing::runFor(io, 50ms);
  EXPECT_EQ(client->stats().writes > 0, true);

  const auto killed_at = Clock::now();
  server.kill();
  ASSERT_TRUE(runUntil(
      io,
      [&] { return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.done; }); },
      2s))
      << "a caller is still waiting after the connection broke";
  for (const Outcome& outcome : outcomes) {
    EXPECT_EQ(outcome.status, StoreStatus::Unavailable);
    EXPECT_EQ(outcome.calls, 1);
    EXPECT_LT(outcome.at - killed_at, 1s);
  }
  EXPECT_FALSE(client->connected());
  EXPECT_EQ(client->stats().disconnects, 1u);

  // Down: callers are refused at once, nothing is queued for later.
  testing::runFor(io, 300ms);  // several reconnect attempts fail meanwhile
  const auto asked_at = Clock::now();
  Outcome refused = runCommand(io, *client, {"PING"}, 1s);
  EXPECT_EQ(refused.status, StoreStatus::Unavailable);
  EXPECT_LT(refused.at - asked_at, 50ms);

  server.restart();
  const auto recovery = timeUntilPingSucceeds(io, *client, 3s);
  ASSERT_TRUE(recovery.has_value()) << "no recovery within 3 s of the restart";
  EXPECT_LT(*recovery, 2s);
  EXPECT_EQ(client->stats().connects, 2u);
  client->stop();
}

TEST(RedisFailure, HungServerTimesCallersOutOnTimeAndRecoversAfterResume) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions options = optionsFor(server);
  options.command_timeout = 100ms;
  options.stall_reset = 400ms;
  options.connect_timeout = 300ms;
  auto client = connectedClient(io, options);

  server.pause();
  constexpr int kCommands = 100;
  std::vector<Outcome> outcomes(kCommands);
  const auto issued_at = Clock::now();
  for (auto& outcome : outcomes) client->command({"PING"}, outcome.callback());
  ASSERT_TRUE(runUntil(
      io,
      [&] { return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.done; }); },
      2s));
  for (const Outcome& outcome : outcomes) {
    EXPECT_EQ(outcome.status, StoreStatus::Timeout);
    EXPECT_GE(outcome.at - issued_at, 100ms);
    EXPECT_LT(outcome.at - issued_at, 100ms + kSlack) << "a caller waited well past its deadline";
  }
  EXPECT_EQ(client->stats().timeouts, static_cast<std::uint64_t>(kCommands));

  // Still hung: later callers are not stalled either (Timeout on a live-looking connection, or Unavailable
  // once the client gave up on it and is reconnecting).
  for (int round = 0; round < 5; ++round) {
    const auto asked_at = Clock::now();
    Outcome outcome = runCommand(io, *client, {"PING"}, 1s);
    EXPECT_NE(outcome.status, StoreStatus::Ok);
    EXPECT_LT(outcome.at - asked_at, 100ms + kSlack);
    testing::runFor(io, 100ms);
  }
  EXPECT_GE(client->stats().disconnects, 1u) << "the hung connection was never reset";

  server.resume();
  const auto recovery = timeUntilPingSucceeds(io, *client, 3s);
  ASSERT_TRUE(recovery.has_value()) << "no recovery within 3 s of SIGCONT";
  EXPECT_LT(*recovery, 2s);
  client->stop();
}

TEST(RedisFailure, LateRepliesOfTimedOutCommandsAreDiscarded) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions options = optionsFor(server);
  options.command_timeout = 100ms;
  options.stall_reset = 10s;  // keep the connection: the late replies must be matched and dropped
  auto client = connectedClient(io, options);

  server.pause();
  Outcome timed_out;
  client->command({"ECHO", "late"}, timed_out.callback());
  ASSERT_TRUE(runUntil(
      io, [&] { return timed_out.done; }, 1s));
  EXPECT_EQ(timed_out.status, StoreStatus::Timeout);
  server.resume();

  // The next command must get its own reply, not the late "late".
  Outcome next = runCommand(io, *client, {"ECHO", "mine"}, 2s);
  EXPECT_EQ(next.status, StoreStatus::Ok);
  EXPECT_EQ(next.reply.str, "mine");
  EXPECT_EQ(timed_out.calls, 1) << "a timed-out caller was called again by its late reply";
  EXPECT_EQ(client->stats().disconnects, 0u);
  client->stop();
}

TEST(RedisFailure, ATimedOutEvalIsNotRetriedWhenItsNoScriptArrivesLate) {
  RedisServer server;
  boost::asio::io_context io;
  RedisClientOptions options = optionsFor(server);
  options.command_timeout = 100ms;
  options.stall_reset = 10s;
  auto client = connectedClient(io, options);
  const LuaScript script = LuaScript::fromSource("return redis.call('INCR', KEYS[1])");
  const std::string_view keys[] = {"late-eval"};

  server.pause();
  Outcome timed_out;
  client->eval(script, keys, {}, timed_out.callback());
  ASSERT_TRUE(runUntil(
      io, [&] { return timed_out.done; }, 1s));
  EXPECT_EQ(timed_out.status, StoreStatus::Timeout);
  server.resume();

  EXPECT_EQ(runCommand(io, *client, {"ECHO", "after"}, 2s).reply.str, "after");
  EXPECT_EQ(client->stats().script_loads, 0u) << "a caller that already got Timeout was retried";
  EXPECT_TRUE(server.command({"GET", "late-eval"}).isNil()) << "the script ran although its caller gave up";
  EXPECT_EQ(timed_out.calls, 1);
  client->stop();
}

TEST(RedisFailure, AConnectionClosedByTheServerIsReopenedQuickly) {
  RedisServer server;
  boost::asio::io_context io;
  auto client = connectedClient(io, optionsFor(server));
  ASSERT_EQ(server.command({"CLIENT", "KILL", "TYPE", "normal"}).integer,
            1);  // the fixture's own one is skipped
  const auto recovery = timeUntilPingSucceeds(io, *client, 2s);
  ASSERT_TRUE(recovery.has_value());
  EXPECT_LT(*recovery, 500ms);
  EXPECT_EQ(client->stats().disconnects, 1u);
  EXPECT_EQ(client->stats().connects, 2u);
  client->stop();
}

TEST(RedisFailure, FailsFastWhileRedisIsDown) {
  std::uint16_t port = 0;
  {
    RedisServer server;
    port = server.port();
  }  // stopped: nothing listens on the port any more
  boost::asio::io_context io;
  RedisClientOptions options;
  options.url.port = port;
  auto client = RedisClient::create(io, options);
  client->start();
  testing::runFor(io, 100ms);
  EXPECT_FALSE(client->connected());
  for (int i = 0; i < 3; ++i) {
    const auto asked_at = Clock::now();
    Outcome outcome = runCommand(io, *client, {"PING"}, 1s);
    EXPECT_EQ(outcome.status, StoreStatus::Unavailable);
    EXPECT_LT(outcome.at - asked_at, 50ms);
  }
  EXPECT_EQ(client->stats().rejected, 3u);
  client->stop();
}

TEST(RedisFailure, StopCompletesPendingCommandsWithUnavailable) {
  RedisServer server;
  boost::asio::io_context io;
  auto client = connectedClient(io, optionsFor(server));
  server.pause();
  std::vector<Outcome> outcomes(20);
  for (auto& outcome : outcomes) client->command({"PING"}, outcome.callback());
  testing::runFor(io, 20ms);
  client->stop();
  EXPECT_FALSE(outcomes.front().done) << "stop() ran a callback inside the call";
  ASSERT_TRUE(runUntil(
      io,
      [&] { return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.done; }); },
      1s));
  for (const Outcome& outcome : outcomes) EXPECT_EQ(outcome.status, StoreStatus::Unavailable);
  server.resume();
}

}  // namespace
}  // namespace gatehouse::store
