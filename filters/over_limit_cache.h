// Remembers, per worker, which keys the store has just rejected, so that a client hammering past its limit is
// refused locally until its retry time instead of costing one store round trip per refused request (the
// requests of an abusive client are exactly the ones not worth a round trip).
//
// Each worker thread has its own cache per policy: workers share nothing, so no lock is taken on the request
// path. A worker that never saw the rejection still asks the store, which answers the same; the cache only
// saves work.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/store.h"

namespace gatehouse::filters {

using SteadyTime = std::chrono::steady_clock::time_point;
// Injected so that tests move time without sleeping.
using SteadyClock = std::function<SteadyTime()>;

class OverLimitCache {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 10'000;

  explicit OverLimitCache(std::size_t max_entries = kDefaultMaxEntries);

  // Remembers a rejection until now + rejection.retry_after. When full, entries that expired go first, then
  // the one expiring soonest: forgetting an entry costs one store round trip, never a wrong answer.
  void remember(const std::string& key, const store::RateLimitResult& rejection, SteadyTime now);

  // The remembered rejection, aged to `now` (retry_after and every reset_after shortened, now_ms advanced by
  // the time elapsed since it was stored), or nullopt when there is none or it expired.
  std::optional<store::RateLimitResult> find(const std::string& key, SteadyTime now);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    SteadyTime stored_at;
    store::RateLimitResult rejection;
    std::multimap<SteadyTime, const std::string*>::iterator expiry;
  };

  void erase(std::unordered_map<std::string, Entry>::iterator entry);
  void evictExpired(SteadyTime now);

  std::size_t max_entries_;
  std::unordered_map<std::string, Entry> entries_;
  // Keys by expiry time, to evict without scanning. Points at the map's own keys (node addresses are stable).
  std::multimap<SteadyTime, const std::string*> by_expiry_;
};

// Hands every worker thread its own OverLimitCache for one owner (a policy's filter factory). A thread's
// caches of owners that were destroyed (config reloads) are dropped the next time that thread asks for any
// cache.
class PerThreadOverLimitCache {
 public:
  explicit PerThreadOverLimitCache(std::size_t max_entries = OverLimitCache::kDefaultMaxEntries);

  // Shared, so that a filter still running after its factory was replaced keeps a valid cache.
  std::shared_ptr<OverLimitCache> forThisThread() const;

 private:
  // Threads hold weak_ptrs to it: they expire with the owner, and they compare by control block, so an owner
  // allocated later at the same address is never handed a dead owner's cache.
  std::shared_ptr<const char> identity_;
  std::size_t max_entries_;
};

}  // namespace gatehouse::filters
