// The in-process store: sessions and rate-limit counters in this process's memory. It serves the
// single-instance mode (store.type: memory, nothing shared between Gatehouse instances) and the rate_limit
// filter's `on_store_error: local` fallback. One MemoryStore is shared by every worker thread of the process.
//
// It answers exactly as RedisStore does (the same sliding-window math, the same TTLs; one entry per limit,
// where Redis keeps one key per limit and window), so that switching store.type changes where the state
// lives, not what the clients see.
//
// Concurrency: the keys are split over shards by a hash of their Redis Cluster hash tag (the part between '{'
// and
// '}', else the whole key), each shard behind its own mutex. All keys of one rate-limit check share the tag,
// hence the shard, so a check is atomic under one lock (as the sliding-log script is in Redis). Locks are
// held for a few map operations, never across a callback: callbacks run synchronously, after the lock is
// released, before the call returns.
//
// Memory is bounded two ways: every counter expires when it no longer matters (as the Redis keys do), and
// each shard holds at most floor(max_keys / shards) keys, evicting the least recently used key past that — so
// the store never holds more than max_keys keys, but with skewed hashing one shard may evict before the total
// reaches the cap. Expired keys are dropped as operations meet them, a bounded number per operation, oldest
// expiry first.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/store.h"

namespace gatehouse::store {

class MemoryStoreShard;

struct MemoryStoreOptions {
  std::size_t max_keys = 1'000'000;  // sessions + rate-limit keys
  std::size_t shards = 64;           // lowered to max_keys when that is smaller, so every shard holds a key
  std::function<std::int64_t()> clock;  // epoch milliseconds; empty: std::chrono::system_clock
};

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(MemoryStoreOptions options = {});
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  void lookupSession(const SessionLookup& lookup, SessionCallback done) override;
  void checkRateLimit(const RateLimitCheck& check, RateLimitCallback done) override;
  void ping(StatusCallback done) override;

  // Stores a session value (replacing any value of that key); ttl <= 0 keeps it until deleted or evicted.
  void putSession(const std::string& key, std::string value, Millis ttl);
  // Removes a key of any kind. Returns whether it existed (and had not expired).
  bool deleteKey(const std::string& key);
  // The key's remaining time to live with Redis's PTTL conventions: -2 when missing or expired, -1 without
  // expiry.
  std::int64_t pttl(const std::string& key) const;
  // Keys held now, including expired ones not yet dropped.
  std::size_t size() const;

 private:
  MemoryStoreShard& shardFor(std::string_view key) const;
  std::int64_t nowMs() const;

  std::function<std::int64_t()> clock_;
  std::size_t shard_count_;
  std::unique_ptr<MemoryStoreShard[]> shards_;
};

}  // namespace gatehouse::store
