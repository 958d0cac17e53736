// The rate_limit filter: counts each request against a named policy in the store and refuses those over the
// limit with a 429, before the upstream sees them.
//
// Per request: a client inside the policy's `allow` networks passes untouched (no store call, no headers).
// Otherwise the filter builds the key (rate_limit_key.h), answers at once from this worker's over-limit cache
// when the key was refused recently (over_limit_cache.h), and else asks the store, holding the request until
// it answers.
//   allowed          → the request goes on; the response gets the rate-limit headers (rate_limit_headers.h).
//   refused          → 429 application/problem+json with Retry-After and the same headers; `shadow: true`
//   lets it
//                      go on instead (headers added) and counts it as shadow_limited. Shadow mode never uses
//                      the over-limit cache, so every request is still counted.
//   store failed     → `on_store_error`: allow (pass, no headers), deny (503 JSON), or local (ask the
//   process's
//                      memory store instead; should that fail too, the request passes).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "filters/filter.h"
#include "filters/over_limit_cache.h"
#include "proxy/config/config.h"

namespace gatehouse::filters {

// A snapshot of one policy's outcome counters (for /metrics). Each request adds to exactly one of allowed,
// limited, shadow_limited, allow_listed, or to none when the store failed and the failure policy decided;
// store_error, fallback_local and local_cache_hit count how the decision was reached.
struct RateLimitStats {
  std::uint64_t allowed = 0;          // the store admitted the request
  std::uint64_t limited = 0;          // refused with 429 (from the store or the over-limit cache)
  std::uint64_t shadow_limited = 0;   // would have been refused; passed because the policy is in shadow mode
  std::uint64_t allow_listed = 0;     // the client is in `allow`: not counted, not limited
  std::uint64_t store_error = 0;      // the store answered with a status other than Ok
  std::uint64_t fallback_local = 0;   // `on_store_error: local` asked the memory store
  std::uint64_t local_cache_hit = 0;  // refused from the over-limit cache without asking the store
  std::uint64_t mispredicted = 0;     // a session.user key prefetched for a user the session no longer had
};

// What every filter of one policy shares: immutable config plus relaxed atomic counters. Held by shared_ptr
// so that a request still in flight when its factory is replaced (config reload) keeps it alive.
struct RateLimitShared;

class RateLimitFilterFactory : public FilterFactory {
 public:
  // `clock` drives the over-limit cache; empty means std::chrono::steady_clock::now.
  explicit RateLimitFilterFactory(std::shared_ptr<const config::RateLimitPolicy> policy,
                                  SteadyClock clock = {});
  ~RateLimitFilterFactory() override;

  std::unique_ptr<Filter> create(WorkerServices& services) const override;
  std::string_view name() const override { return "rate_limit"; }

  const config::RateLimitPolicy& policy() const;
  RateLimitStats counters() const;

 private:
  std::shared_ptr<RateLimitShared> shared_;
};

}  // namespace gatehouse::filters
