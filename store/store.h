// The store interface: what the filters ask of the place where sessions and rate-limit counters live. Two
// implementations answer it the same way: RedisStore (shared by every Gatehouse instance, one per worker on
// the worker's event loop) and MemoryStore (in process, shared by the workers of one process).
//
// Filters never format Redis commands; the Redis client never sees HTTP. Every call completes exactly once:
// with an answer, or with an error within the configured store timeout. A callback may run before the call
// returns (the memory store answers at once) or later on the caller's event loop (Redis); callers must handle
// both.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "proxy/config/config.h"
#include "store/inline_function.h"

namespace gatehouse::store {

using Millis = std::chrono::milliseconds;

enum class StoreStatus {
  Ok,
  Timeout,      // no answer within store.timeout
  Unavailable,  // not connected (Redis down, reconnecting) or the pending queue is full: failed fast
  Error,        // the store answered with an error (script error, wrong type...)
};

std::string_view toString(StoreStatus status);

// ---- sessions
// ------------------------------------------------------------------------------------------------

struct SessionLookup {
  std::string key;      // the full key, e.g. "sess:<id>"
  Millis touch_ttl{0};  // > 0: also reset the key's TTL to this (rolling sessions), in the same round trip
};

// Handed to the callback by reference and valid only during the call: `value` points into the store's reply
// (Redis) or a copy the call owns (memory store), so that a lookup copies the session nowhere. A caller that
// keeps the value copies it.
struct SessionResult {
  StoreStatus status = StoreStatus::Ok;
  bool found = false;      // meaningful when status == Ok
  std::string_view value;  // the stored value (JSON text) when found
};

// ---- rate limits
// ---------------------------------------------------------------------------------------------

using config::RateLimitAlgorithm;
using config::WindowLimit;

// A check's limits and their states, inline for the usual one or two limits: a check and its answer are built
// for every rate-limited request.
inline constexpr std::size_t kInlineLimits = 2;
// One per limit of a check, inline for the usual one or two: no allocation per check.
template <typename T>
using PerLimit = boost::container::small_vector<T, kInlineLimits>;
using WindowLimits = PerLimit<WindowLimit>;

struct RateLimitCheck {
  // The base key. Implementations derive one key per limit from it; Redis keys carry the base key as a hash
  // tag
  // ("{<key>}") so that all keys of one check live in one Redis Cluster slot. Must not contain '{' or '}'.
  std::string key;
  RateLimitAlgorithm algorithm = RateLimitAlgorithm::SlidingWindow;
  WindowLimits limits;  // all are checked; the request is counted only when every one admits it
  std::uint32_t cost = 1;
};

struct LimitState {
  std::uint64_t limit = 0;
  std::uint64_t remaining = 0;  // after this request (0 when rejected)
  Millis reset_after{0};  // until the window frees capacity again (sliding: until a full window has passed)
};

struct RateLimitResult {
  StoreStatus status = StoreStatus::Ok;
  bool allowed = true;
  PerLimit<LimitState> limits;  // one per RateLimitCheck::limits, in order
  Millis retry_after{0};        // when !allowed: the earliest time a request of this cost could be admitted
  std::int64_t now_ms = 0;  // the clock the check was decided on, epoch milliseconds: Redis's (TIME, or for
                            // a sliding window the worker's estimate of it) or, in memory, the process's

  // A check that got no verdict: the store failed with `status`.
  static RateLimitResult failed(StoreStatus status) {
    RateLimitResult result;
    result.status = status;
    return result;
  }
};

// ---- the interface
// -------------------------------------------------------------------------------------------

// Completion callbacks: a filter's handler (its `this` and a liveness token) is stored inline, so that a
// lookup or a check allocates nothing for it.
using SessionCallback = InlineFunction<void(const SessionResult&), 48>;
using RateLimitCallback = InlineFunction<void(RateLimitResult), 48>;
using StatusCallback = InlineFunction<void(StoreStatus), 48>;

class Store {
 public:
  virtual ~Store() = default;

  virtual void lookupSession(const SessionLookup& lookup, SessionCallback done) = 0;
  virtual void checkRateLimit(const RateLimitCheck& check, RateLimitCallback done) = 0;
  // Readiness: Ok when the store answers (PING for Redis).
  virtual void ping(StatusCallback done) = 0;
};

}  // namespace gatehouse::store
