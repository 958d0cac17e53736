#include "store/memory_store.h"

#include <algorithm>
#include <chrono>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <variant>
#include <vector>

#include "store/rate_limit_keys.h"
#include "store/sliding_log.h"
#include "store/sliding_window.h"

namespace gatehouse::store {
namespace {

// Expired keys dropped per operation at most: enough to keep up with any steady rate of new keys (each
// operation adds at most a handful), small enough that no single call pays for a large backlog.
constexpr std::size_t kExpiryBudget = 16;

// The part of a key that picks its shard: the Redis Cluster hash tag when there is a non-empty one.
std::string_view hashTag(std::string_view key) {
  const std::size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const std::size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

}  // namespace

// One shard: a hash map of keys with an LRU list and an expiry index over it, guarded by `mutex`.
class MemoryStoreShard {
 public:
  using Value = std::variant<std::string, WindowCounter, RequestLog>;
  static constexpr std::int64_t kNoExpiry = -1;

  struct Entry {
    Value value;
    std::int64_t expires_at_ms = kNoExpiry;
    std::list<const std::string*>::iterator recency;
    std::multimap<std::int64_t, const std::string*>::iterator expiry;
  };

  std::mutex mutex;
  std::size_t capacity = 1;

  // Everything below runs with `mutex` held.

  // The live entry of `key`, marked as just used; nullptr when missing or expired (an expired one is
  // dropped).
  Entry* find(const std::string& key, std::int64_t now_ms) {
    const auto found = entries_.find(key);
    if (found == entries_.end()) return nullptr;
    if (expired(found->second, now_ms)) {
      erase(found);
      return nullptr;
    }
    recency_.splice(recency_.begin(), recency_, found->second.recency);
    return &found->second;
  }

  // The live entry of `key` without marking it used or dropping anything.
  const Entry* peek(const std::string& key, std::int64_t now_ms) const {
    const auto found = entries_.find(key);
    if (found == entries_.end() || expired(found->second, now_ms)) return nullptr;
    return &found->second;
  }

  // Stores `value` under `key`, replacing any entry; the new entry is the most recently used and has no
  // expiry.
  Entry& insert(const std::string& key, Value value) {
    if (const auto existing = entries_.find(key); existing != entries_.end()) erase(existing);
    const auto inserted = entries_.try_emplace(key).first;
    Entry& entry = inserted->second;
    entry.value = std::move(value);
    entry.recency = recency_.insert(recency_.begin(), &inserted->first);
    entry.expiry = expiries_.end();
    return entry;
  }

  void setExpiry(Entry& entry, std::int64_t expires_at_ms) {
    // A sliding-window counter keeps its expiry through a window: nothing to move then.
    if (expires_at_ms == entry.expires_at_ms) return;
    entry.expires_at_ms = expires_at_ms;
    if (expires_at_ms == kNoExpiry) {
      if (entry.expiry != expiries_.end()) expiries_.erase(entry.expiry);
      entry.expiry = expiries_.end();
      return;
    }
    if (entry.expiry != expiries_.end()) {
      // Re-keyed in place (a node handle): no node freed and allocated again on every request.
      auto node = expiries_.extract(entry.expiry);
      node.key() = expires_at_ms;
      entry.expiry = expiries_.insert(std::move(node));
      return;
    }
    // The recency list already points at the map's own key string: the expiry index shares it.
    entry.expiry = expiries_.emplace(expires_at_ms, *entry.recency);
  }

  bool erase(const std::string& key, std::int64_t now_ms) {
    const auto found = entries_.find(key);
    if (found == entries_.end()) return false;
    const bool live = !expired(found->second, now_ms);
    erase(found);
    return live;
  }

  void dropExpired(std::int64_t now_ms) {
    for (std::size_t dropped = 0; dropped < kExpiryBudget && !expiries_.empty(); ++dropped) {
      const auto oldest = expiries_.begin();
      if (oldest->first > now_ms) return;
      erase(entries_.find(*oldest->second));
    }
  }

  // Evicts least recently used entries until the shard is within its capacity.
  void evictOverCapacity() {
    while (entries_.size() > capacity && !recency_.empty()) erase(entries_.find(*recency_.back()));
  }

  std::size_t size() const { return entries_.size(); }

 private:
  using Entries = std::unordered_map<std::string, Entry>;

  static bool expired(const Entry& entry, std::int64_t now_ms) {
    return entry.expires_at_ms != kNoExpiry && entry.expires_at_ms <= now_ms;
  }

  void erase(Entries::iterator entry) {
    recency_.erase(entry->second.recency);
    if (entry->second.expiry != expiries_.end()) expiries_.erase(entry->second.expiry);
    entries_.erase(entry);
  }

  // Element addresses in an unordered_map survive rehashing, so the indexes point at the map's own key
  // strings.
  Entries entries_;
  std::list<const std::string*> recency_;                     // most recently used first
  std::multimap<std::int64_t, const std::string*> expiries_;  // keys with an expiry, soonest first
};

namespace {

using Shard = MemoryStoreShard;

// Evaluates a check whose per-limit state is a `State` (WindowCounter or RequestLog), with the shard locked.
// Keys missing from the shard are evaluated as empty states and stored only when the request is admitted: a
// rejected request writes nothing, as in the Lua scripts. Every key written gets the expiry the state calls
// for.
template <typename State, typename Evaluate, typename TimeToLive>
RateLimitResult evaluateInShard(Shard& shard, std::span<const std::string> keys, const RateLimitCheck& check,
                                std::int64_t now_ms, Evaluate evaluate, TimeToLive time_to_live) {
  PerLimit<std::optional<State>> fresh(keys.size());  // only for missing keys: a RequestLog allocates
  PerLimit<State*> states(keys.size());
  PerLimit<Shard::Entry*> entries(keys.size(), nullptr);
  PerLimit<bool> first_use(keys.size(), true);

  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto same = std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]);
    if (const auto j = static_cast<std::size_t>(same - keys.begin()); j < i) {
      states[i] = states[j];
      entries[i] = entries[j];
      first_use[i] = false;
      continue;
    }
    entries[i] = shard.find(keys[i], now_ms);
    if (entries[i] == nullptr) {
      states[i] = &fresh[i].emplace();
      continue;
    }
    states[i] = std::get_if<State>(&entries[i]->value);
    if (states[i] == nullptr) {
      RateLimitResult wrong_type;
      wrong_type.status = StoreStatus::Error;  // Redis answers WRONGTYPE for a key of another kind
      return wrong_type;
    }
  }

  RateLimitResult result =
      evaluate(std::span<State* const>(states),
               std::span<const WindowLimit>(check.limits.data(), check.limits.size()), check.cost, now_ms);
  if (!result.allowed) return result;

  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!first_use[i]) continue;
    Shard::Entry& entry = entries[i] != nullptr ? *entries[i] : shard.insert(keys[i], std::move(*fresh[i]));
    const Millis ttl = time_to_live(std::get<State>(entry.value), now_ms, check.limits[i].window.count());
    shard.setExpiry(entry, now_ms + ttl.count());
  }
  return result;
}

}  // namespace

MemoryStore::MemoryStore(MemoryStoreOptions options)
    : clock_(std::move(options.clock)),
      shard_count_(std::clamp<std::size_t>(options.shards, 1, std::max<std::size_t>(1, options.max_keys))),
      shards_(std::make_unique<MemoryStoreShard[]>(shard_count_)) {
  const std::size_t capacity = std::max<std::size_t>(1, options.max_keys / shard_count_);
  for (std::size_t i = 0; i < shard_count_; ++i) shards_[i].capacity = capacity;
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
    };
  }
}

MemoryStore::~MemoryStore() = default;

MemoryStoreShard& MemoryStore::shardFor(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(hashTag(key)) % shard_count_];
}

std::int64_t MemoryStore::nowMs() const {
  return clock_();
}

void MemoryStore::lookupSession(const SessionLookup& lookup, SessionCallback done) {
  const std::int64_t now_ms = nowMs();
  SessionResult result;
  std::string value_copy;  // taken under the shard's lock: another worker may replace the entry after it
  Shard& shard = shardFor(lookup.key);
  {
    const std::lock_guard lock(shard.mutex);
    shard.dropExpired(now_ms);
    if (Shard::Entry* entry = shard.find(lookup.key, now_ms)) {
      // A rate-limit key holds no session: not found, as the Redis store answers GET's WRONGTYPE.
      if (const std::string* value = std::get_if<std::string>(&entry->value)) {
        result.found = true;
        value_copy = *value;
        result.value = value_copy;
        if (lookup.touch_ttl > Millis{0}) shard.setExpiry(*entry, now_ms + lookup.touch_ttl.count());
      }
    }
  }
  done(result);
}

void MemoryStore::checkRateLimit(const RateLimitCheck& check, RateLimitCallback done) {
  if (invalidCheckReason(check)) {
    done(RateLimitResult::failed(StoreStatus::Error));
    return;
  }
  PerLimit<std::string> keys;
  for (const WindowLimit& limit : check.limits)
    keys.push_back(rateLimitKey(check.key, check.algorithm, limit.window));

  const std::int64_t now_ms = nowMs();
  RateLimitResult result;
  Shard& shard = shardFor(keys.front());
  {
    const std::lock_guard lock(shard.mutex);
    shard.dropExpired(now_ms);
    if (check.algorithm == RateLimitAlgorithm::SlidingLog) {
      result =
          evaluateInShard<RequestLog>(shard, keys, check, now_ms, evaluateSlidingLog, slidingLogTimeToLive);
    } else {
      result = evaluateInShard<WindowCounter>(shard, keys, check, now_ms, evaluateSlidingWindow,
                                              slidingWindowTimeToLive);
    }
    shard.evictOverCapacity();
  }
  done(std::move(result));
}

void MemoryStore::ping(StatusCallback done) {
  done(StoreStatus::Ok);
}

void MemoryStore::putSession(const std::string& key, std::string value, Millis ttl) {
  const std::int64_t now_ms = nowMs();
  Shard& shard = shardFor(key);
  const std::lock_guard lock(shard.mutex);
  shard.dropExpired(now_ms);
  Shard::Entry& entry = shard.insert(key, std::move(value));
  if (ttl > Millis{0}) shard.setExpiry(entry, now_ms + ttl.count());
  shard.evictOverCapacity();
}

bool MemoryStore::deleteKey(const std::string& key) {
  const std::int64_t now_ms = nowMs();
  Shard& shard = shardFor(key);
  const std::lock_guard lock(shard.mutex);
  return shard.erase(key, now_ms);
}

std::int64_t MemoryStore::pttl(const std::string& key) const {
  const std::int64_t now_ms = nowMs();
  Shard& shard = shardFor(key);
  const std::lock_guard lock(shard.mutex);
  const Shard::Entry* entry = shard.peek(key, now_ms);
  if (entry == nullptr) return -2;
  if (entry->expires_at_ms == Shard::kNoExpiry) return -1;
  return entry->expires_at_ms - now_ms;
}

std::size_t MemoryStore::size() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    const std::lock_guard lock(shards_[i].mutex);
    total += shards_[i].size();
  }
  return total;
}

}  // namespace gatehouse::store
