// Runs the same store tests against the memory store and against a RedisStore on a real redis-server: one
// interface to seed data, read TTLs and wait for answers, whichever store is behind it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "store/memory_store.h"
#include "store/rate_limit_keys.h"
#include "store/redis_store.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test_client.h"
#include "tests/support/run_until.h"

namespace gatehouse::store::testing {

enum class Backend { Memory, Redis };

// A session lookup's answer kept past its callback (a SessionResult's value is valid only during the call).
struct StoredSession {
  StoredSession() = default;
  StoredSession(const SessionResult& result)  // NOLINT(google-explicit-constructor): the callback converts
      : status(result.status), found(result.found), value(result.value) {}
  StoreStatus status = StoreStatus::Ok;
  bool found = false;
  std::string value;
};

inline std::string backendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::Memory ? "Memory" : "Redis";
}

class StoreHarness {
 public:
  static constexpr std::chrono::milliseconds kAnswerTimeout{5000};

  // Redis: a RedisStore over a fresh connection to `server` (emptied first). Memory: a MemoryStore on the
  // system clock, as the Redis store's sliding window (its sliding log counts on Redis's, which cannot be
  // faked).
  StoreHarness(Backend backend, gatehouse::testing::RedisServer* server) : server_(server) {
    if (backend == Backend::Memory) {
      memory_ = std::make_unique<MemoryStore>();
      return;
    }
    server_->command({"FLUSHALL"});
    auto client = gatehouse::testing::connectedClient(io_, gatehouse::testing::optionsFor(*server_));
    redis_ = std::make_unique<RedisStore>(std::move(client));
  }

  ~StoreHarness() {
    redis_.reset();  // stops the client; let its last completions run
    gatehouse::testing::runFor(io_, std::chrono::milliseconds(10));
  }

  Store& store() { return memory_ ? static_cast<Store&>(*memory_) : static_cast<Store&>(*redis_); }
  RedisStore& redis() { return *redis_; }
  boost::asio::io_context& io() { return io_; }

  RateLimitResult check(const RateLimitCheck& request) {
    return await<RateLimitResult>([&](auto done) { store().checkRateLimit(request, std::move(done)); });
  }
  StoredSession lookup(const std::string& key, Millis touch_ttl = Millis{0}) {
    return await<StoredSession>([&](auto done) {
      store().lookupSession(SessionLookup{key, touch_ttl}, std::move(done));
    });
  }
  StoreStatus ping() {
    return await<StoreStatus>([&](auto done) { store().ping(std::move(done)); });
  }

  void putSession(const std::string& key, const std::string& value, Millis ttl) {
    if (memory_) {
      memory_->putSession(key, value, ttl);
      return;
    }
    server_->command({"SET", key, value, "PX", std::to_string(ttl.count())});
  }

  // Redis's PTTL conventions: -2 missing, -1 without expiry.
  std::int64_t pttl(const std::string& key) {
    if (memory_) return memory_->pttl(key);
    return server_->command({"PTTL", key}).integer;
  }

  // The PTTL of the key that holds a limit's state: one key per limit in the memory store and for a sliding
  // log in Redis; for a sliding window in Redis, the newest of its per-window keys (the one a check just
  // wrote). -2 when there is none.
  std::int64_t limitPttl(const std::string& base_key, RateLimitAlgorithm algorithm, Millis window) {
    const std::string name = rateLimitKey(base_key, algorithm, window);
    if (memory_) return memory_->pttl(name);
    if (algorithm != RateLimitAlgorithm::SlidingWindow) return server_->command({"PTTL", name}).integer;
    std::string newest;
    std::int64_t newest_index = -1;
    for (const RedisReply& key : server_->command({"KEYS", name + ":*"}).elements) {
      const std::int64_t index = std::stoll(key.str.substr(name.size() + 1));
      if (index > newest_index) {
        newest_index = index;
        newest = key.str;
      }
    }
    return newest.empty() ? -2 : server_->command({"PTTL", newest}).integer;
  }

  void wait(Millis duration) {
    if (memory_) {
      std::this_thread::sleep_for(duration);
    } else {
      gatehouse::testing::runFor(io_, duration);
    }
  }

 private:
  // Starts a call and drives the event loop (bounded) until its callback ran exactly once.
  template <typename Result, typename Start>
  Result await(Start start) {
    Result out{};
    int calls = 0;
    start([&](Result result) {
      out = std::move(result);
      ++calls;
    });
    EXPECT_TRUE(gatehouse::testing::runUntil(
        io_, [&] { return calls > 0; }, kAnswerTimeout))
        << "no answer";
    EXPECT_EQ(calls, 1) << "every store call completes exactly once";
    return out;
  }

  gatehouse::testing::RedisServer* server_;
  boost::asio::io_context io_;
  std::unique_ptr<MemoryStore> memory_;
  std::unique_ptr<RedisStore> redis_;
};

}  // namespace gatehouse::store::testing
