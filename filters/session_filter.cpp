#include "filters/session_filter.h"

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "filters/cookie.h"
#include "filters/express_signature.h"
#include "filters/identity_headers.h"
#include "filters/request_generation.h"
#include "filters/session_cache.h"
#include "filters/session_identity.h"
#include "filters/sharded_counters.h"
#include "store/store.h"

namespace gatehouse::filters {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
namespace http = boost::beast::http;

// Per policy and worker thread. Enough for the active sessions of a busy worker; past it the least recently
// used session is forgotten, which costs one extra store round trip (or one extra touch), never a wrong
// answer.
constexpr std::size_t kIdentityCacheEntries = 10'000;
constexpr std::size_t kTouchEntries = 10'000;
constexpr std::size_t kMaxPlainIdLength = 128;
constexpr std::string_view kIdPlaceholder = "{id}";
constexpr std::string_view kPathPlaceholder = "{path}";

enum class Outcome { Valid, Missing, BadSignature, Expired, Invalid, Forbidden, StoreError };

enum class Counter {
  Valid,
  Missing,
  BadSignature,
  Expired,
  Invalid,
  Forbidden,
  StoreError,
  CacheHit,
  Touched,
  Count
};
using Counters = ShardedCounters<Counter, static_cast<std::size_t>(Counter::Count)>;

struct CachedIdentity {
  SessionIdentity identity;
  SteadyTime fresh_until;
};

struct PolicyWorkerState {
  LruMap<CachedIdentity> identities{kIdentityCacheEntries};
  LruMap<SteadyTime> last_touch{kTouchEntries};
  // The user each session id had at its last successful lookup: published as RequestInfo::predicted_user so
  // that a session.user rate limit can prefetch its check. A guess, never an identity; forgotten as soon as a
  // lookup finds the session gone or unusable.
  LruMap<std::string> last_user{kIdentityCacheEntries};
};

// Remembers (or forgets) the user a lookup of session `id` found.
void rememberUser(PolicyWorkerState& state, const std::string& id, const std::string* user) {
  if (user == nullptr) return state.last_user.erase(id);
  std::string* known = state.last_user.find(id);
  if (known == nullptr) return state.last_user.put(id, *user);
  if (*known != *user) *known = *user;
}

// This worker thread's state for `policy`. Each worker is one thread, so thread_local state needs no lock.
// Entries are matched by the policy object itself (two routes sharing a policy share its cache); those of
// policies that no longer exist, after a reload, are dropped here.
PolicyWorkerState& workerState(const std::shared_ptr<const config::SessionPolicy>& policy) {
  struct Entry {
    std::weak_ptr<const config::SessionPolicy> policy;
    std::unique_ptr<PolicyWorkerState> state;
  };
  thread_local std::vector<Entry> entries;
  std::erase_if(entries, [](const Entry& entry) { return entry.policy.expired(); });
  for (Entry& entry : entries) {
    const bool same = !entry.policy.owner_before(policy) && !policy.owner_before(entry.policy);
    if (same) return *entry.state;
  }
  entries.push_back(Entry{policy, std::make_unique<PolicyWorkerState>()});
  return *entries.back().state;
}

bool isPlainSessionId(std::string_view id) {
  if (id.empty() || id.size() > kMaxPlainIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

// Writes over `out`: `text` with every `placeholder` replaced by `replacement`.
void replaceAllInto(std::string& out, std::string_view text, std::string_view placeholder,
                    std::string_view replacement) {
  out.clear();
  out.reserve(text.size() + replacement.size());
  for (;;) {
    const auto at = text.find(placeholder);
    out.append(text.substr(0, at));
    if (at == std::string_view::npos) return;
    out.append(replacement);
    text.remove_prefix(at + placeholder.size());
  }
}

std::string replaceAll(std::string_view text, std::string_view placeholder, std::string_view replacement) {
  std::string out;
  replaceAllInto(out, text, placeholder, replacement);
  return out;
}

LocalReply jsonReply(http::status status, std::string_view error) {
  LocalReply reply;
  reply.status = status;
  reply.body = std::string(R"({"error":")").append(error).append(R"("})");
  return reply;
}

// What the filter does with the request: let it go on, or answer it.
struct Decision {
  std::optional<LocalReply> reply;  // empty: continue
};

struct SessionId {
  Outcome outcome =
      Outcome::Missing;  // Valid when `id` holds a well-formed (and, for express, well-signed) id
  std::string id;
};

}  // namespace

struct SessionShared {
  SessionShared(config::SessionFilterConfig filter_config,
                std::shared_ptr<const config::SessionPolicy> session_policy, SessionClock session_clock)
      : config(std::move(filter_config)),
        policy(std::move(session_policy)),
        identity_headers{policy->user_header, policy->roles_header},
        clock(std::move(session_clock)) {
    if (!clock.steady) clock.steady = [] { return std::chrono::steady_clock::now(); };
    if (!clock.epoch_ms) {
      clock.epoch_ms = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      };
    }
  }

  const config::SessionFilterConfig config;
  const std::shared_ptr<const config::SessionPolicy> policy;
  const std::array<std::string, 2> identity_headers;
  SessionClock clock;
  Counters counters;

  // `reuse`: a string whose memory a plain id may take over (see SessionFilter's spare_id).
  SessionId sessionIdFrom(const RequestHeader& request, std::string reuse = {}) const {
    CookieLookup cookie = findCookie(request, policy->cookie, std::move(reuse));
    switch (cookie.status) {
      case CookieLookup::Status::Absent:
        return {Outcome::Missing, {}};
      case CookieLookup::Status::Duplicate:
        return {Outcome::BadSignature, {}};
      case CookieLookup::Status::Found:
        break;
    }
    if (policy->format == config::SessionFormat::Plain) {
      if (!isPlainSessionId(cookie.value)) return {Outcome::BadSignature, {}};
      return {Outcome::Valid, std::move(cookie.value)};
    }
    UnsignedSessionId unsigned_id = unsignExpressCookie(cookie.value, policy->secrets);
    if (unsigned_id.status != UnsignedSessionId::Status::Valid) return {Outcome::BadSignature, {}};
    return {Outcome::Valid, std::move(unsigned_id.id)};
  }

  // The session's key in the store, written over `key` (a reused buffer: no allocation once it is big
  // enough).
  void writeStoreKey(std::string& key, std::string_view id) const {
    replaceAllInto(key, policy->key, kIdPlaceholder, id);
  }

  bool isExpired(const SessionIdentity& identity) const {
    return identity.expires_at_ms && *identity.expires_at_ms <= clock.epoch_ms();
  }

  // No usable session (or a store failure that is not denied): counted, then refused or passed per `require`.
  Decision withoutSession(Outcome outcome, const RequestHeader& request, const RequestInfo& info) {
    count(outcome);
    if (!config.require) return {};
    if (config.on_missing == config::SessionFilterConfig::OnMissing::Redirect && !info.wants_json) {
      LocalReply reply;
      reply.status = http::status::found;
      reply.content_type = "text/plain; charset=utf-8";
      reply.headers.emplace_back("Location", replaceAll(policy->login_url, kPathPlaceholder,
                                                        percentEncodeComponent(request.target())));
      return {std::move(reply)};
    }
    return {jsonReply(http::status::unauthorized, "unauthenticated")};
  }

  Decision onStoreError() {
    count(Outcome::StoreError);
    if (config.require && policy->on_store_error == config::SessionStoreErrorPolicy::Deny) {
      return {jsonReply(http::status::service_unavailable, "session store unavailable")};
    }
    return {};
  }

  // By value: a freshly parsed identity is moved into `info` (no copy of its roles), a cached one copied.
  Decision withIdentity(SessionIdentity identity, RequestHeader& request, RequestInfo& info) {
    if (isExpired(identity)) return withoutSession(Outcome::Expired, request, info);
    if (config.require && !hasRequiredRole(identity)) {
      count(Outcome::Forbidden);
      return {jsonReply(http::status::forbidden, "forbidden")};
    }
    count(Outcome::Valid);
    setIdentityHeaders(request, *policy, identity.user, identity.roles);
    info.user = std::move(identity.user);
    info.roles = std::move(identity.roles);
    return {};
  }

  bool hasRequiredRole(const SessionIdentity& identity) const {
    if (config.roles.empty()) return true;
    return std::any_of(identity.roles.begin(), identity.roles.end(), [&](const std::string& role) {
      return std::find(config.roles.begin(), config.roles.end(), role) != config.roles.end();
    });
  }

  void count(Outcome outcome) {
    switch (outcome) {
      case Outcome::Valid:
        return counters.bump(Counter::Valid);
      case Outcome::Missing:
        return counters.bump(Counter::Missing);
      case Outcome::BadSignature:
        return counters.bump(Counter::BadSignature);
      case Outcome::Expired:
        return counters.bump(Counter::Expired);
      case Outcome::Invalid:
        return counters.bump(Counter::Invalid);
      case Outcome::Forbidden:
        return counters.bump(Counter::Forbidden);
      case Outcome::StoreError:
        return counters.bump(Counter::StoreError);
    }
  }
};

namespace {

// What a stopped filter needs when the store answers: the request it holds, and what it asked.
struct PendingLookup {
  RequestHeader* request = nullptr;
  RequestInfo* info = nullptr;
  FilterCallbacks* callbacks = nullptr;
  std::string id;
  bool touched = false;  // this lookup refreshes the TTL (rolling)
};

void deliver(FilterCallbacks& callbacks, Decision decision) {
  if (decision.reply) {
    callbacks.reply(std::move(*decision.reply));
  } else {
    callbacks.resume();
  }
}

Decision decideOnStoreResult(SessionShared& shared, PolicyWorkerState& state, PendingLookup& pending,
                             const store::SessionResult& result) {
  if (result.status != store::StoreStatus::Ok) {
    // The touch did not happen: let the next request of this session try again.
    if (pending.touched) state.last_touch.erase(pending.id);
    return shared.onStoreError();
  }
  if (!result.found) {
    rememberUser(state, pending.id, nullptr);
    return shared.withoutSession(Outcome::Expired, *pending.request, *pending.info);
  }
  // The roles list of the request's RequestInfo (empty, unless an earlier session filter set an identity)
  // lends its memory to the parse, and gets it back from withIdentity.
  SessionIdentity reuse;
  if (!pending.info->user) reuse.roles = std::move(pending.info->roles);
  std::optional<SessionIdentity> identity =
      parseSessionIdentity(result.value, *shared.policy, std::move(reuse));
  if (!identity) {
    rememberUser(state, pending.id, nullptr);
    return shared.withoutSession(Outcome::Invalid, *pending.request, *pending.info);
  }
  rememberUser(state, pending.id, shared.isExpired(*identity) ? nullptr : &identity->user);
  if (shared.policy->cache.count() > 0 && !shared.isExpired(*identity)) {
    state.identities.put(pending.id, CachedIdentity{*identity, shared.clock.steady() + shared.policy->cache});
  }
  return shared.withIdentity(std::move(*identity), *pending.request, *pending.info);
}

class SessionFilter final : public Filter {
 public:
  SessionFilter(std::shared_ptr<SessionShared> shared, store::Store& store)
      : shared_(std::move(shared)), store_(store) {}

  // The session id is read here, once (an express cookie costs an HMAC), and the user it had last time is
  // published for later filters' prefetch.
  void onPrefetch(const RequestHeader& request, RequestInfo& info) override {
    const SessionId& session =
        request_.prefetched.emplace(shared_->sessionIdFrom(request, std::move(request_.spare_id)));
    if (session.outcome != Outcome::Valid) return;
    if (const std::string* user = state().last_user.find(session.id)) {
      info.predicted_user = *user;
    }
  }

  FilterStatus onRequest(RequestHeader& request, RequestInfo& info, FilterCallbacks& callbacks) override {
    stripIdentityHeaders(request, shared_->identity_headers);

    SessionId session = request_.prefetched ? std::move(*request_.prefetched)
                                            : shared_->sessionIdFrom(request, std::move(request_.spare_id));
    request_.prefetched.reset();
    if (session.outcome != Outcome::Valid) {
      return answerNow(shared_->withoutSession(session.outcome, request, info), callbacks);
    }

    PolicyWorkerState& worker = state();
    const config::SessionPolicy& policy = *shared_->policy;
    const SteadyTime now = shared_->clock.steady();
    if (CachedIdentity* cached = worker.identities.find(session.id)) {
      if (now < cached->fresh_until) {
        shared_->counters.bump(Counter::CacheHit);
        return answerNow(shared_->withIdentity(cached->identity, request, info), callbacks);
      }
      worker.identities.erase(session.id);
    }

    store::SessionLookup& lookup = request_.store_lookup;
    shared_->writeStoreKey(lookup.key, session.id);
    PendingLookup& pending =
        request_.lookup.emplace(PendingLookup{&request, &info, &callbacks, std::move(session.id)});
    if (policy.rolling) {
      const SteadyTime* last = worker.last_touch.find(pending.id);
      if (last == nullptr || now - *last >= policy.touch_every) {
        lookup.touch_ttl = std::chrono::duration_cast<store::Millis>(policy.ttl);
        worker.last_touch.put(pending.id, now);
        pending.touched = true;
        shared_->counters.bump(Counter::Touched);
      }
    }

    // The store may answer before lookupSession returns (memory store): the callback then resumes or replies
    // from inside onRequest, which the filter contract allows, and this filter may not touch its members
    // afterwards.
    store_.lookupSession(lookup, [this, ticket = generation_.ticket()](const store::SessionResult& result) {
      // Cancelled, reset for another request, or destroyed: `this` is off limits.
      if (!ticket.isCurrent()) return;
      onStoreResult(result);
    });
    return FilterStatus::Stop;
  }

  void onCancel() override {
    generation_.advance();
    request_.lookup.reset();
  }

  void reset() override {
    generation_.advance();
    // A fresh RequestState, except that the store key and the spare id keep their buffers (emptied): the next
    // key and id are written into them without allocating.
    std::string key_buffer = std::move(request_.store_lookup.key);
    std::string id_buffer = std::move(request_.spare_id);
    request_ = RequestState{};
    key_buffer.clear();
    id_buffer.clear();
    request_.store_lookup.key = std::move(key_buffer);
    request_.spare_id = std::move(id_buffer);
  }

 private:
  // Everything one request leaves in the filter: reset() replaces it with a fresh one.
  struct RequestState {
    std::optional<SessionId> prefetched;  // read by onPrefetch
    std::optional<PendingLookup> lookup;  // the store lookup the request is held for, until it answers
    store::SessionLookup store_lookup;    // what the store was asked (kept for its key's buffer)
    std::string spare_id;  // the last lookup's id, whose memory the next request's cookie value takes over
  };

  void onStoreResult(const store::SessionResult& result) {
    if (!request_.lookup) return;  // a second answer would be a store bug: never act twice
    PendingLookup pending = std::move(*request_.lookup);
    request_.lookup.reset();
    Decision decision = decideOnStoreResult(*shared_, state(), pending, result);
    request_.spare_id = std::move(pending.id);  // before deliver: from there on, members are off limits
    deliver(*pending.callbacks, std::move(decision));
  }

  static FilterStatus answerNow(Decision decision, FilterCallbacks& callbacks) {
    if (!decision.reply) return FilterStatus::Continue;
    callbacks.reply(std::move(*decision.reply));
    return FilterStatus::Stop;
  }

  // This worker's state for the policy, found once per filter (workerState scans a per-thread list). It stays
  // valid: the filter lives on one worker thread and keeps the policy, whose entry lives as long as it does.
  PolicyWorkerState& state() {
    if (state_ == nullptr) state_ = &workerState(shared_->policy);
    return *state_;
  }

  std::shared_ptr<SessionShared> shared_;  // shared: a filter may outlive its factory (a config change)
  store::Store& store_;
  PolicyWorkerState* state_ = nullptr;
  RequestGeneration generation_;  // tells a store answer whether its request is still this filter's
  RequestState request_;
};

}  // namespace

SessionFilterFactory::SessionFilterFactory(config::SessionFilterConfig config,
                                           std::shared_ptr<const config::SessionPolicy> policy,
                                           SessionClock clock) {
  if (!policy) throw std::invalid_argument("session filter: no policy");
  if (policy->format == config::SessionFormat::Express && policy->secrets.empty()) {
    throw std::invalid_argument("session policy '" + policy->name +
                                "': format express needs at least one secret");
  }
  if (policy->key.find(kIdPlaceholder) == std::string::npos) {
    throw std::invalid_argument("session policy '" + policy->name + "': key must contain {id}");
  }
  shared_ = std::make_shared<SessionShared>(std::move(config), std::move(policy), std::move(clock));
}

SessionFilterFactory::~SessionFilterFactory() = default;

std::unique_ptr<Filter> SessionFilterFactory::create(WorkerServices& services) const {
  return std::make_unique<SessionFilter>(shared_, services.store);
}

const config::SessionFilterConfig& SessionFilterFactory::config() const {
  return shared_->config;
}

const config::SessionPolicy& SessionFilterFactory::policy() const {
  return *shared_->policy;
}

SessionStats SessionFilterFactory::counters() const {
  const Counters& c = shared_->counters;
  return SessionStats{c.read(Counter::Valid),      c.read(Counter::Missing),  c.read(Counter::BadSignature),
                      c.read(Counter::Expired),    c.read(Counter::Invalid),  c.read(Counter::Forbidden),
                      c.read(Counter::StoreError), c.read(Counter::CacheHit), c.read(Counter::Touched)};
}

}  // namespace gatehouse::filters
