#include "filters/over_limit_cache.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace gatehouse::filters {
namespace {

store::Millis elapsedMillis(SteadyTime from, SteadyTime to) {
  return std::max(store::Millis{0}, std::chrono::duration_cast<store::Millis>(to - from));
}

}  // namespace

OverLimitCache::OverLimitCache(std::size_t max_entries)
    : max_entries_(std::max<std::size_t>(1, max_entries)) {}

void OverLimitCache::erase(std::unordered_map<std::string, Entry>::iterator entry) {
  by_expiry_.erase(entry->second.expiry);
  entries_.erase(entry);
}

void OverLimitCache::evictExpired(SteadyTime now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    erase(entries_.find(*by_expiry_.begin()->second));
  }
}

void OverLimitCache::remember(const std::string& key, const store::RateLimitResult& rejection,
                              SteadyTime now) {
  if (rejection.retry_after <= store::Millis{0}) return;  // nothing to wait for: the next request may pass
  const SteadyTime expires = now + rejection.retry_after;

  if (auto existing = entries_.find(key); existing != entries_.end()) erase(existing);
  if (entries_.size() >= max_entries_) evictExpired(now);
  if (entries_.size() >= max_entries_) erase(entries_.find(*by_expiry_.begin()->second));

  const auto entry = entries_.try_emplace(key, Entry{now, rejection, by_expiry_.end()}).first;
  entry->second.expiry = by_expiry_.emplace(expires, &entry->first);
}

std::optional<store::RateLimitResult> OverLimitCache::find(const std::string& key, SteadyTime now) {
  const auto entry = entries_.find(key);
  if (entry == entries_.end()) return std::nullopt;
  if (entry->second.expiry->first <= now) {
    erase(entry);
    return std::nullopt;
  }

  const store::Millis elapsed = elapsedMillis(entry->second.stored_at, now);
  store::RateLimitResult aged = entry->second.rejection;
  aged.retry_after = std::chrono::duration_cast<store::Millis>(entry->second.expiry->first - now);
  for (auto& limit : aged.limits) limit.reset_after = std::max(store::Millis{0}, limit.reset_after - elapsed);
  if (aged.now_ms > 0) aged.now_ms += elapsed.count();
  return aged;
}

PerThreadOverLimitCache::PerThreadOverLimitCache(std::size_t max_entries)
    : identity_(std::make_shared<const char>('\0')), max_entries_(max_entries) {}

std::shared_ptr<OverLimitCache> PerThreadOverLimitCache::forThisThread() const {
  struct Slot {
    std::weak_ptr<const char> owner;
    std::shared_ptr<OverLimitCache> cache;
  };
  // A handful of policies per process: a vector scanned linearly beats a map.
  thread_local std::vector<Slot> slots;

  std::erase_if(slots, [](const Slot& slot) { return slot.owner.expired(); });
  for (const Slot& slot : slots) {
    if (!slot.owner.owner_before(identity_) && !identity_.owner_before(slot.owner)) return slot.cache;
  }
  auto cache = std::make_shared<OverLimitCache>(max_entries_);
  slots.push_back(Slot{identity_, cache});
  return cache;
}

}  // namespace gatehouse::filters
