// The session filter: admits a request on the strength of a session the application created
// (express-session's signed cookie, or the seed's plain id) and tells the application who the user is.
//
// Per request: the identity headers a client sent are removed; the session id is read from the policy's
// cookie (two cookies of that name are refused) and, for express, its signature checked against every secret,
// so a malformed or forged cookie never reaches the store. Then this worker's positive cache answers, or the
// filter asks the store (rolling sessions also refresh the key's TTL, at most once per touch_every per
// session and worker) and holds the request until it answers. The stored JSON gives the user, roles and
// optional expiry.
//   valid                    → RequestInfo.user/roles and the identity headers are set; the request goes on.
//   valid, no required role  → 403 {"error":"forbidden"} (require: true only).
//   none / invalid / expired → require: true: 401 {"error":"unauthenticated"}, or with on_missing: redirect a
//   302 to
//                              login_url ({path} = the original target, percent-encoded) unless the client
//                              wants JSON. require: false: the request goes on without identity.
//   store failed             → on_store_error deny: 503 {"error":"session store unavailable"}; allow: goes on
//                              without identity. require: false never rejects, so it always goes on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "filters/filter.h"
#include "proxy/config/config.h"

namespace gatehouse::filters {

// A snapshot of the outcome counters (for /metrics). Each request adds to exactly one of valid, missing,
// bad_signature, expired, invalid, forbidden, store_error; cache_hit and touched say how valid ones were
// reached.
struct SessionStats {
  std::uint64_t valid = 0;    // a valid session with a required role (or none required)
  std::uint64_t missing = 0;  // no session cookie
  std::uint64_t bad_signature =
      0;                        // a cookie that is malformed, badly signed, of the wrong shape, or sent twice
  std::uint64_t expired = 0;    // a well-signed id whose key is gone, or whose stored expiry has passed
  std::uint64_t invalid = 0;    // a stored session that names no user (or is not JSON)
  std::uint64_t forbidden = 0;  // a valid session lacking every required role (require: true)
  std::uint64_t store_error = 0;  // the store answered Timeout, Unavailable or Error
  std::uint64_t cache_hit = 0;    // answered from this worker's positive cache, without the store
  std::uint64_t touched = 0;      // lookups that also refreshed the key's TTL (rolling)
};

// What the filter reads the time from; tests inject their own.
struct SessionClock {
  std::function<std::chrono::steady_clock::time_point()> steady;  // cache and touch ages; empty: steady_clock
  std::function<std::int64_t()> epoch_ms;                         // stored expiries; empty: system_clock
};

// Immutable config and relaxed atomic counters, shared by the factory and every filter it made (a request in
// flight when its factory is replaced by a reload keeps them alive).
struct SessionShared;

class SessionFilterFactory : public FilterFactory {
 public:
  // Throws std::invalid_argument for a policy the filter cannot apply: an express policy without secrets, or
  // a key template without {id}.
  SessionFilterFactory(config::SessionFilterConfig config,
                       std::shared_ptr<const config::SessionPolicy> policy, SessionClock clock = {});
  ~SessionFilterFactory() override;

  std::unique_ptr<Filter> create(WorkerServices& services) const override;
  std::string_view name() const override { return "session"; }

  const config::SessionFilterConfig& config() const;
  const config::SessionPolicy& policy() const;
  SessionStats counters() const;

 private:
  std::shared_ptr<SessionShared> shared_;
};

}  // namespace gatehouse::filters
