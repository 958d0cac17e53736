// Helpers for tests of the async Redis client against a real redis-server: capturing a callback's outcome and
// connecting a client, with every wait bounded in time.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "store/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/run_until.h"

namespace gatehouse::testing {

// What one callback received, and when.
struct Outcome {
  bool done = false;
  int calls = 0;
  store::StoreStatus status = store::StoreStatus::Error;
  store::RedisReply reply;
  std::chrono::steady_clock::time_point at{};

  store::RedisCallback callback() {
    return [this](store::StoreStatus got_status, store::RedisReply got_reply) {
      done = true;
      ++calls;
      status = got_status;
      reply = std::move(got_reply);
      at = std::chrono::steady_clock::now();
    };
  }
};

inline store::RedisClientOptions optionsFor(const RedisServer& server) {
  store::RedisClientOptions options;
  options.url = server.redisUrl();
  options.command_timeout = std::chrono::milliseconds(2000);  // generous by default: CI machines are slow
  return options;
}

// Creates and starts a client, and waits (bounded) until its handshake completed.
inline std::shared_ptr<store::RedisClient> connectedClient(boost::asio::io_context& io,
                                                           store::RedisClientOptions options) {
  auto client = store::RedisClient::create(io, std::move(options));
  client->start();
  EXPECT_TRUE(runUntil(
      io, [&] { return client->connected(); }, std::chrono::seconds(5)))
      << "never connected";
  return client;
}

// Runs one command to completion (bounded) and returns what its callback got.
inline Outcome runCommand(boost::asio::io_context& io, store::RedisClient& client,
                          std::initializer_list<std::string_view> argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  Outcome outcome;
  client.command(argv, outcome.callback());
  EXPECT_TRUE(runUntil(
      io, [&] { return outcome.done; }, timeout))
      << "no callback for " << *argv.begin();
  return outcome;
}

}  // namespace gatehouse::testing
