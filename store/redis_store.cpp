#include "store/redis_store.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "store/decimal_text.h"
#include "store/lua_scripts.h"
#include "store/rate_limit_keys.h"

namespace gatehouse::store {
namespace {

// The status a call completes with: the client's when it did not get an answer, Error when Redis answered
// one.
StoreStatus statusOf(StoreStatus client_status, const RedisReply& reply) {
  if (client_status != StoreStatus::Ok) return client_status;
  return reply.isError() ? StoreStatus::Error : StoreStatus::Ok;
}

}  // namespace

RateLimitResult parseRateLimitReply(const RedisReply& reply, const WindowLimits& limits) {
  const std::vector<RedisReply>& items = reply.elements;
  if (reply.type != RedisReply::Type::Array || items.size() != 3 + 2 * limits.size()) {
    return RateLimitResult::failed(StoreStatus::Error);
  }
  for (const RedisReply& item : items) {
    if (item.type != RedisReply::Type::Integer || item.integer < 0)
      return RateLimitResult::failed(StoreStatus::Error);
  }
  RateLimitResult result;
  result.allowed = items[0].integer == 1;
  result.retry_after = Millis{items[1].integer};
  result.now_ms = items[2].integer;
  result.limits.reserve(limits.size());
  for (std::size_t i = 0; i < limits.size(); ++i) {
    result.limits.push_back(LimitState{limits[i].requests,
                                       static_cast<std::uint64_t>(items[3 + 2 * i].integer),
                                       Millis{items[4 + 2 * i].integer}});
  }
  return result;
}

RedisStore::RedisStore(std::shared_ptr<RedisClient> client, RedisClock clock)
    : RedisStore(std::vector<std::shared_ptr<RedisClient>>{std::move(client)}, std::move(clock)) {}

RedisStore::RedisStore(std::vector<std::shared_ptr<RedisClient>> clients, RedisClock clock)
    : clients_(std::move(clients)), sliding_window_(std::move(clock)) {
  if (clients_.empty()) throw std::invalid_argument("RedisStore needs at least one connection");
}

RedisStore::~RedisStore() {
  for (const auto& client : clients_) client->stop();
}

RedisClient& RedisStore::pick() {
  for (std::size_t tried = 0; tried < clients_.size(); ++tried) {
    RedisClient& candidate = *clients_[next_];
    next_ = (next_ + 1) % clients_.size();
    if (candidate.connected()) return candidate;
  }
  RedisClient& fallback = *clients_[next_];
  next_ = (next_ + 1) % clients_.size();
  return fallback;
}

void RedisStore::lookupSession(const SessionLookup& lookup, SessionCallback done) {
  RedisClient& client = pick();
  client.command({"GET", lookup.key}, [done = std::move(done)](StoreStatus status, const RedisReply& reply) {
    SessionResult result;
    result.status = statusOf(status, reply);
    if (status == StoreStatus::Ok && reply.isError() && reply.str.starts_with("WRONGTYPE")) {
      // The cookie named a key that holds something else (a hash, a list): no session of this policy's
      // format lives there. Not a store failure: one would let on_store_error: allow pass a forged id.
      result.status = StoreStatus::Ok;
    } else if (result.status == StoreStatus::Ok && reply.type == RedisReply::Type::String) {
      result.found = true;
      result.value = reply.str;  // a view: the reply outlives the call below
    } else if (result.status == StoreStatus::Ok && !reply.isNil()) {
      result.status = StoreStatus::Error;
    }
    done(result);
  });
  if (lookup.touch_ttl > Millis{0}) {
    // Issued in the same turn as the GET, so both leave in one write. The touch is best effort: the lookup's
    // answer does not wait for it, and a failed touch only means the session expires at its previous time.
    const DecimalText ttl(lookup.touch_ttl.count());
    client.command({"PEXPIRE", lookup.key, ttl.view()}, [](StoreStatus, const RedisReply&) {});
  }
}

void RedisStore::checkRateLimit(const RateLimitCheck& check, RateLimitCallback done) {
  if (invalidCheckReason(check)) {
    done(RateLimitResult::failed(StoreStatus::Error));
    return;
  }
  if (check.algorithm == RateLimitAlgorithm::SlidingWindow) {
    sliding_window_.check(pick(), check, std::move(done));
    return;
  }
  // Everything the command needs is on the stack or in check_keys_, for the usual one or two limits: this
  // runs for every rate-limited request.
  check_keys_.clear();
  for (const WindowLimit& limit : check.limits) {
    appendRateLimitKey(check_keys_.buffer(), check.key, check.algorithm, limit.window);
    check_keys_.endKey();
  }
  boost::container::small_vector<std::string_view, kInlineLimits> key_views;
  for (std::size_t i = 0; i < check_keys_.size(); ++i) key_views.push_back(check_keys_[i]);
  boost::container::small_vector<DecimalText, 1 + 2 * kInlineLimits> numbers;
  numbers.emplace_back(check.cost);
  for (const WindowLimit& limit : check.limits) {
    numbers.emplace_back(limit.requests);
    numbers.emplace_back(limit.window.count());
  }
  const boost::container::small_vector<std::string_view, 1 + 2 * kInlineLimits> arg_views(numbers.begin(),
                                                                                          numbers.end());
  pick().eval(lua::slidingLog(), key_views, arg_views,
              [limits = check.limits, done = std::move(done)](StoreStatus status, const RedisReply& reply) {
                const StoreStatus outcome = statusOf(status, reply);
                done(outcome == StoreStatus::Ok ? parseRateLimitReply(reply, limits)
                                                : RateLimitResult::failed(outcome));
              });
}

void RedisStore::ping(StatusCallback done) {
  pick().command({"PING"}, [done = std::move(done)](StoreStatus status, const RedisReply& reply) {
    done(statusOf(status, reply));
  });
}

}  // namespace gatehouse::store
