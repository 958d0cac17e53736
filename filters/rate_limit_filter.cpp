#include "filters/rate_limit_filter.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/asio/ip/address.hpp>

#include "filters/rate_limit_headers.h"
#include "filters/rate_limit_key.h"
#include "filters/request_generation.h"
#include "filters/sharded_counters.h"
#include "store/store.h"

namespace gatehouse::filters {

struct RateLimitShared {
  RateLimitShared(std::shared_ptr<const config::RateLimitPolicy> policy_in, SteadyClock clock_in)
      : policy(std::move(policy_in)),
        keys(policy->name, policy->key),
        headers(*policy),
        clock(clock_in ? std::move(clock_in) : SteadyClock{[] { return std::chrono::steady_clock::now(); }}) {
  }

  enum class Counter {
    Allowed,
    Limited,
    ShadowLimited,
    AllowListed,
    StoreError,
    FallbackLocal,
    LocalCacheHit,
    Mispredicted,
    Count
  };

  const std::shared_ptr<const config::RateLimitPolicy> policy;
  const RateLimitKeyBuilder keys;
  const RateLimitHeaderFormatter headers;
  const SteadyClock clock;
  const PerThreadOverLimitCache over_limit;

  ShardedCounters<Counter, static_cast<std::size_t>(Counter::Count)> counters;
};

namespace {

class RateLimitFilter final : public Filter {
 public:
  RateLimitFilter(std::shared_ptr<RateLimitShared> shared, WorkerServices& services)
      : shared_(std::move(shared)), services_(services), cache_(shared_->over_limit.forThisThread()) {}

  // A key that does not depend on the session is known from the request alone: the check starts now, in the
  // same event-loop turn as the session lookup, so both reach Redis in one write. Like nginx's limit_req
  // (which runs before access checks), the request is then counted even if a session filter before this one
  // rejects it. A key with session.user is prefetched with the session filter's guess of the user
  // (info.predicted_user), which onRequest checks against the user the lookup found.
  void onPrefetch(const RequestHeader& request, RequestInfo& info) override {
    if (isAllowListed(info.client_ip)) return;
    if (shared_->keys.dependsOnSession()) {
      if (!info.predicted_user) return;  // no guess: the check waits for the session lookup
      request_.prefetched_for = info.predicted_user;
      buildCheck(request, info, info.predicted_user);
    } else {
      buildCheck(request, info, info.user);
    }
    if (!shared_->policy->shadow && cache_->find(request_.check.key, shared_->clock()))
      return;  // onRequest refuses locally
    request_.state = State::Prefetching;
    services_.store.checkRateLimit(
        request_.check, [this, ticket = generation_.ticket()](store::RateLimitResult r) {
          if (!ticket.isCurrent()) return;  // dropped, cancelled, reset or destroyed: `this` is off limits
          onPrefetchedResult(std::move(r));
        });
  }

  FilterStatus onRequest(RequestHeader& request, RequestInfo& info, FilterCallbacks& callbacks) override {
    request_.callbacks = &callbacks;
    if (request_.state == State::Prefetching) {
      if (!request_.prefetched_for || info.user == request_.prefetched_for) return awaitPrefetched();
      // The guess was wrong (the session now belongs to someone else, or is gone): the guessed user's check
      // has counted this request, once; its answer is dropped and the user found is checked below.
      shared_->counters.bump(RateLimitShared::Counter::Mispredicted);
      generation_.advance();
      request_.early_result.reset();
      request_.state = State::Idle;
    }
    const config::RateLimitPolicy& policy = *shared_->policy;
    if (isAllowListed(info.client_ip)) {
      shared_->counters.bump(RateLimitShared::Counter::AllowListed);
      return FilterStatus::Continue;
    }

    buildCheck(request, info, info.user);
    request_.state = State::Calling;
    if (!policy.shadow) {
      if (auto cached = cache_->find(request_.check.key, shared_->clock())) {
        shared_->counters.bump(RateLimitShared::Counter::LocalCacheHit);
        refuse(*cached);
        return FilterStatus::Stop;
      }
    }

    // A synchronous answer lands while we are still here: a pass is then returned as Continue rather than
    // resumed.
    const RequestGeneration::Ticket ticket = generation_.ticket();
    request_.in_on_request = true;
    ask(services_.store, /*is_fallback=*/false);
    return statusAfterSynchronousWork(ticket);
  }

  void onResponse(ResponseHeader& response, const RequestInfo& /*info*/) override {
    if (!request_.response_fields.empty()) addRateLimitFields(response, request_.response_fields);
  }

  void onCancel() override {
    request_.state = State::Cancelled;
    generation_.advance();  // a store answer arriving later finds its ticket stale
  }

  void reset() override {
    generation_.advance();
    // A fresh RequestState, except that the key keeps its buffer (emptied): the next key is built into it
    // without allocating.
    std::string key_buffer = std::move(request_.check.key);
    request_ = RequestState{};
    key_buffer.clear();
    request_.check.key = std::move(key_buffer);
  }

 private:
  enum class State { Idle, Prefetching, Calling, Done, Cancelled };

  // Everything one request leaves in the filter: reset() replaces it with a fresh one.
  struct RequestState {
    FilterCallbacks* callbacks = nullptr;
    State state = State::Idle;
    bool in_on_request = false;
    bool continue_synchronously = false;
    std::optional<std::string> prefetched_for;  // the guessed user a session.user key was prefetched with
    store::RateLimitCheck check;
    std::optional<store::RateLimitResult> early_result;  // a prefetched answer that came before onRequest
    HeaderFields response_fields;
  };

  void buildCheck(const RequestHeader& request, const RequestInfo& info,
                  const std::optional<std::string>& user) {
    const config::RateLimitPolicy& policy = *shared_->policy;
    shared_->keys.buildInto(request_.check.key, request, info, user);
    request_.check.algorithm = policy.algorithm;
    request_.check.limits.assign(policy.limits.begin(), policy.limits.end());
    request_.check.cost = 1;
  }

  // onRequest of a prefetched check: decide now if the answer is in, else wait for it.
  FilterStatus awaitPrefetched() {
    request_.state = State::Calling;
    if (!request_.early_result) return FilterStatus::Stop;
    const RequestGeneration::Ticket ticket = generation_.ticket();
    request_.in_on_request = true;
    auto result = std::move(*request_.early_result);
    request_.early_result.reset();
    onStoreResult(std::move(result), /*is_fallback=*/false);
    return statusAfterSynchronousWork(ticket);
  }

  // What onRequest returns after work that may have decided synchronously (with `ticket` taken before it).
  FilterStatus statusAfterSynchronousWork(const RequestGeneration::Ticket& ticket) {
    if (!ticket.isCurrent())
      return FilterStatus::Stop;  // a synchronous reply ended the request (or the filter)
    request_.in_on_request = false;
    return request_.continue_synchronously ? FilterStatus::Continue : FilterStatus::Stop;
  }

  bool isAllowListed(const std::string& client_ip) const {
    const auto& allow = shared_->policy->allow;
    if (allow.empty()) return false;
    boost::system::error_code error;
    const auto address = boost::asio::ip::make_address(client_ip, error);
    if (error) return false;
    for (const auto& network : allow) {
      if (network.contains(address)) return true;
    }
    return false;
  }

  // The store may answer before checkRateLimit returns (memory store) or later on this worker's loop (Redis).
  void ask(store::Store& store, bool is_fallback) {
    store.checkRateLimit(request_.check,
                         [this, ticket = generation_.ticket(), is_fallback](store::RateLimitResult r) {
                           if (!ticket.isCurrent())
                             return;  // cancelled, reset or destroyed: `this` is off limits
                           onStoreResult(std::move(r), is_fallback);
                         });
  }

  void onPrefetchedResult(store::RateLimitResult result) {
    if (request_.state == State::Prefetching) {
      request_.early_result = std::move(result);  // onRequest has not run yet: it takes the answer from here
    } else {
      onStoreResult(std::move(result), /*is_fallback=*/false);
    }
  }

  void onStoreResult(store::RateLimitResult result, bool is_fallback) {
    if (request_.state != State::Calling) return;  // a second answer would be a store bug: never act twice
    const config::RateLimitPolicy& policy = *shared_->policy;

    if (result.status != store::StoreStatus::Ok) {
      if (is_fallback) return pass();  // the in-process store failed too: nothing left to ask, fail open
      shared_->counters.bump(RateLimitShared::Counter::StoreError);
      switch (policy.on_store_error) {
        case config::RateLimitStoreErrorPolicy::Allow:
          return pass();
        case config::RateLimitStoreErrorPolicy::Deny:
          return finishWith(LocalReply{boost::beast::http::status::service_unavailable,
                                       storeUnavailableBody(),
                                       "application/json",
                                       {}});
        case config::RateLimitStoreErrorPolicy::Local:
          shared_->counters.bump(RateLimitShared::Counter::FallbackLocal);
          return ask(services_.local_store, /*is_fallback=*/true);
      }
      return pass();
    }

    if (result.allowed) {
      shared_->counters.bump(RateLimitShared::Counter::Allowed);
      request_.response_fields = shared_->headers.fields(result);
      return pass();
    }
    if (policy.shadow) {
      shared_->counters.bump(RateLimitShared::Counter::ShadowLimited);
      request_.response_fields = shared_->headers.fields(result);
      return pass();
    }
    cache_->remember(request_.check.key, result, shared_->clock());
    refuse(result);
  }

  void refuse(const store::RateLimitResult& result) {
    shared_->counters.bump(RateLimitShared::Counter::Limited);
    const std::int64_t retry_after = retryAfterSeconds(result.retry_after);
    LocalReply reply{boost::beast::http::status::too_many_requests,
                     quotaExceededBody(shared_->policy->name, retry_after),
                     "application/problem+json",
                     {}};
    reply.headers.emplace_back("Retry-After", std::to_string(retry_after));
    for (auto& [name, value] : shared_->headers.fields(result))
      reply.headers.emplace_back(name, std::move(value));
    finishWith(std::move(reply));
  }

  // Lets the request go on: by returning Continue when still inside onRequest, else by resuming it.
  void pass() {
    request_.state = State::Done;
    if (request_.in_on_request) {
      request_.continue_synchronously = true;
    } else {
      request_.callbacks->resume();
    }
  }

  void finishWith(LocalReply reply) {
    request_.state = State::Done;
    request_.callbacks->reply(std::move(reply));
  }

  std::shared_ptr<RateLimitShared> shared_;  // shared: a filter may outlive its factory (a config change)
  WorkerServices& services_;
  std::shared_ptr<OverLimitCache> cache_;
  RequestGeneration generation_;  // tells a store answer whether its request is still this filter's
  RequestState request_;
};

}  // namespace

RateLimitFilterFactory::RateLimitFilterFactory(std::shared_ptr<const config::RateLimitPolicy> policy,
                                               SteadyClock clock) {
  if (!policy) throw std::invalid_argument("rate_limit: no policy");
  if (policy->limits.empty())
    throw std::invalid_argument("rate_limit: policy '" + policy->name + "' has no limits");
  shared_ = std::make_shared<RateLimitShared>(std::move(policy), std::move(clock));
}

RateLimitFilterFactory::~RateLimitFilterFactory() = default;

std::unique_ptr<Filter> RateLimitFilterFactory::create(WorkerServices& services) const {
  return std::make_unique<RateLimitFilter>(shared_, services);
}

const config::RateLimitPolicy& RateLimitFilterFactory::policy() const {
  return *shared_->policy;
}

RateLimitStats RateLimitFilterFactory::counters() const {
  RateLimitStats stats;
  stats.allowed = shared_->counters.read(RateLimitShared::Counter::Allowed);
  stats.limited = shared_->counters.read(RateLimitShared::Counter::Limited);
  stats.shadow_limited = shared_->counters.read(RateLimitShared::Counter::ShadowLimited);
  stats.allow_listed = shared_->counters.read(RateLimitShared::Counter::AllowListed);
  stats.store_error = shared_->counters.read(RateLimitShared::Counter::StoreError);
  stats.fallback_local = shared_->counters.read(RateLimitShared::Counter::FallbackLocal);
  stats.local_cache_hit = shared_->counters.read(RateLimitShared::Counter::LocalCacheHit);
  stats.mispredicted = shared_->counters.read(RateLimitShared::Counter::Mispredicted);
  return stats;
}

}  // namespace gatehouse::filters
