// Commands per second through ONE Redis connection: one command at a time (each waits for its reply) versus
// pipelined (a window of commands in flight, refilled from the callbacks). Starts its own redis-server.
//
//   redis_pipeline_bench [sequential_commands] [pipelined_commands] [window]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>

#include "store/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/run_until.h"

namespace {

using namespace std::chrono_literals;
using gatehouse::store::RedisClient;
using gatehouse::store::RedisReply;
using gatehouse::store::StoreStatus;
using Clock = std::chrono::steady_clock;

struct Run {
  long completed = 0;
  long failed = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(completed) / seconds : 0; }
};

// Keeps `window` INCRs in flight until `total` have been issued; window 1 is the one-at-a-time baseline.
Run measure(boost::asio::io_context& io, RedisClient& client, long total, long window) {
  Run run;
  long issued = 0;
  std::function<void()> issue;
  issue = [&] {
    ++issued;
    client.command({"INCR", "bench:counter"}, [&](StoreStatus status, const RedisReply&) {
      ++run.completed;
      run.failed += status != StoreStatus::Ok;
      if (issued < total) issue();
    });
  };
  const auto start = Clock::now();
  for (long i = 0; i < window && issued < total; ++i) issue();
  gatehouse::testing::runUntil(
      io, [&] { return run.completed == total; }, 120s);
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

long argument(int argc, char** argv, int index, long fallback) {
  return argc > index ? std::strtol(argv[index], nullptr, 10) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const long sequential_total = argument(argc, argv, 1, 20'000);
  const long pipelined_total = argument(argc, argv, 2, 500'000);
  const long window = argument(argc, argv, 3, 1024);
  spdlog::set_level(spdlog::level::warn);

  gatehouse::testing::RedisServer server;
  boost::asio::io_context io;
  gatehouse::store::RedisClientOptions options;
  options.url = server.redisUrl();
  options.command_timeout = 5s;
  auto client = RedisClient::create(io, options);
  client->start();
  if (!gatehouse::testing::runUntil(
          io, [&] { return client->connected(); }, 5s)) {
    std::fprintf(stderr, "could not connect to the redis-server on port %u\n", server.port());
    return 1;
  }

  const Run sequential = measure(io, *client, sequential_total, 1);
  const auto writes_before = client->stats().writes;
  const Run pipelined = measure(io, *client, pipelined_total, window);
  const auto pipelined_writes = client->stats().writes - writes_before;
  client->stop();

  std::printf("one connection, INCR, redis-server on 127.0.0.1:%u\n", server.port());
  std::printf("  one at a time      : %9ld commands in %6.2f s = %10.0f commands/s\n", sequential.completed,
              sequential.seconds, sequential.rate());
  std::printf(
      "  pipelined (w=%5ld): %9ld commands in %6.2f s = %10.0f commands/s (%.1f commands per write)\n",
      window, pipelined.completed, pipelined.seconds, pipelined.rate(),
      pipelined_writes > 0 ? static_cast<double>(pipelined.completed) / static_cast<double>(pipelined_writes)
                           : 0.0);
  std::printf("  ratio              : %.1fx\n",
              sequential.rate() > 0 ? pipelined.rate() / sequential.rate() : 0.0);
  if (sequential.failed + pipelined.failed > 0) {
    std::printf("  failed commands    : %ld\n", sequential.failed + pipelined.failed);
    return 1;
  }
  return 0;
}
