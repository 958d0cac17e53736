#include "filters/session_filter.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "filters/express_signature.h"
#include "store/store.h"

namespace gatehouse::filters {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::string_view kSecret = "test-secret";
constexpr std::string_view kAliceId = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
constexpr std::string_view kBobId = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
constexpr std::string_view kAliceSession =
    R"({"cookie":{"originalMaxAge":86400000,"expires":null,"path":"/"},"user":{"username":"alice","role":"admin"}})";

// Answers session lookups from a table, at once (like the memory store) or when the test says (like Redis).
class FakeStore : public store::Store {
 public:
  bool synchronous = true;
  std::map<std::string, std::string> sessions;
  std::optional<store::StoreStatus> failure;  // answer every lookup with this status
  std::vector<store::SessionLookup> lookups;

  void lookupSession(const store::SessionLookup& lookup, store::SessionCallback done) override {
    lookups.push_back(lookup);
    if (synchronous) {
      done(answer(lookup.key));
    } else {
      pending_.push_back({lookup.key, std::move(done)});
    }
  }
  void checkRateLimit(const store::RateLimitCheck&, store::RateLimitCallback) override {
    ADD_FAILURE() << "the session filter never counts rate limits";
  }
  void ping(store::StatusCallback done) override { done(store::StoreStatus::Ok); }

  std::size_t pendingCount() const { return pending_.size(); }
  // Delivers the oldest held answer.
  void answerNext() {
    ASSERT_FALSE(pending_.empty());
    auto [key, done] = std::move(pending_.front());
    pending_.pop_front();
    done(answer(key));
  }
  // Calls the oldest held callback twice, as a buggy store would.
  void answerNextTwice() {
    ASSERT_FALSE(pending_.empty());
    auto [key, done] = std::move(pending_.front());
    pending_.pop_front();
    done(answer(key));
    done(answer(key));
  }

 private:
  store::SessionResult answer(const std::string& key) const {
    store::SessionResult result;
    if (failure) {
      result.status = *failure;
      return result;
    }
    const auto found = sessions.find(key);
    result.found = found != sessions.end();
    if (result.found) result.value = found->second;
    return result;
  }

  std::deque<std::pair<std::string, store::SessionCallback>> pending_;
};

class FakeCallbacks : public FilterCallbacks {
 public:
  int resumed = 0;
  std::vector<LocalReply> replies;
  void resume() override { ++resumed; }
  void reply(LocalReply reply) override { replies.push_back(std::move(reply)); }
  int calls() const { return resumed + static_cast<int>(replies.size()); }
};

std::optional<std::string> headerOf(const LocalReply& reply, std::string_view name) {
  for (const auto& [field, value] : reply.headers) {
    if (field == name) return value;
  }
  return std::nullopt;
}

class SessionFilterTest : public ::testing::Test {
 protected:
  SessionFilterTest() : services_{io_, store_, store_} {
    policy_.name = "app";
    policy_.secrets = {std::string(kSecret)};
    store_.sessions["sess:" + std::string(kAliceId)] = std::string(kAliceSession);
  }

  SessionFilterFactory& factory() {
    if (!factory_) {
      SessionClock clock{[this] { return steady_now_; }, [this] { return epoch_now_ms_; }};
      factory_ = std::make_unique<SessionFilterFactory>(
          config_, std::make_shared<config::SessionPolicy>(policy_), std::move(clock));
    }
    return *factory_;
  }

  // One request through a new filter. The filter stays alive in filter_ until the next call.
  FilterStatus run(std::optional<std::string> cookie, std::string target = "/api/items") {
    newRequest(std::move(cookie), std::move(target));
    filter_ = factory().create(services_);
    return filter_->onRequest(request_, info_, callbacks_);
  }

  // The next request of the connection through the same filter, reset as the filter chain resets it. The
  // header, info and callbacks are the same objects, refilled, as the connection's are.
  FilterStatus runAgain(std::optional<std::string> cookie, std::string target = "/api/items") {
    filter_->reset();
    newRequest(std::move(cookie), std::move(target));
    return filter_->onRequest(request_, info_, callbacks_);
  }

  void newRequest(std::optional<std::string> cookie, std::string target) {
    request_ = RequestHeader{};
    request_.method(http::verb::get);
    request_.target(target);
    if (cookie) request_.set(http::field::cookie, *cookie);
    request_.set("X-User", "mallory");
    request_.set("x_user_roles", "admin");
    info_ = RequestInfo{};
    info_.path = target.substr(0, target.find('?'));
    info_.wants_json = wants_json_;
    callbacks_ = FakeCallbacks{};
  }

  static std::string expressCookie(std::string_view id, std::string_view secret = kSecret) {
    // As the browser sends it: percent-encoded.
    std::string value = signExpressSessionId(id, secret);
    std::string encoded;
    for (const char c : value) {
      if (c == ':')
        encoded += "%3A";
      else if (c == '+')
        encoded += "%2B";
      else if (c == '/')
        encoded += "%2F";
      else
        encoded.push_back(c);
    }
    return "connect.sid=" + encoded;
  }

  void expectUnauthenticated() {
    ASSERT_EQ(callbacks_.replies.size(), 1u);
    EXPECT_EQ(callbacks_.resumed, 0);
    EXPECT_EQ(callbacks_.replies[0].status, http::status::unauthorized);
    EXPECT_EQ(callbacks_.replies[0].body, R"({"error":"unauthenticated"})");
    EXPECT_EQ(callbacks_.replies[0].content_type, "application/json");
  }

  void expectPassedWithoutIdentity() {
    EXPECT_FALSE(info_.user);
    EXPECT_EQ(request_.count("X-User"), 0u);
    EXPECT_EQ(request_.count("X-User-Roles"), 0u);
  }

  boost::asio::io_context io_;
  FakeStore store_;
  WorkerServices services_;
  config::SessionPolicy policy_;
  config::SessionFilterConfig config_;
  std::chrono::steady_clock::time_point steady_now_{std::chrono::hours(1)};
  std::int64_t epoch_now_ms_ = 1'700'000'000'000;
  bool wants_json_ = false;
  std::unique_ptr<SessionFilterFactory> factory_;

  RequestHeader request_;
  RequestInfo info_;
  FakeCallbacks callbacks_;
  std::unique_ptr<Filter> filter_;
};

TEST_F(SessionFilterTest, ValidExpressSessionSetsIdentityAndResumes) {
  EXPECT_EQ(run(expressCookie(kAliceId)), FilterStatus::Stop);
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_TRUE(callbacks_.replies.empty());
  ASSERT_EQ(store_.lookups.size(), 1u);
  EXPECT_EQ(store_.lookups[0].key, "sess:" + std::string(kAliceId));
  EXPECT_EQ(store_.lookups[0].touch_ttl, 0ms);
  EXPECT_EQ(info_.user, "alice");
  EXPECT_EQ(info_.roles, std::vector<std::string>{"admin"});
  // The client's own identity headers are gone; the verified ones are set once.
  EXPECT_EQ(request_.count("X-User"), 1u);
  EXPECT_EQ(request_["X-User"], "alice");
  EXPECT_EQ(request_["X-User-Roles"], "admin");
  EXPECT_EQ(request_.count("x_user_roles"), 0u);
  EXPECT_EQ(factory().counters().valid, 1u);
}

TEST_F(SessionFilterTest, AsyncAnswerHoldsTheRequestUntilTheStoreReplies) {
  store_.synchronous = false;
  EXPECT_EQ(run(expressCookie(kAliceId)), FilterStatus::Stop);
  EXPECT_EQ(callbacks_.calls(), 0);
  EXPECT_FALSE(info_.user);
  store_.answerNext();
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_EQ(info_.user, "alice");
  EXPECT_EQ(request_["X-User"], "alice");
}

TEST_F(SessionFilterTest, SecondAnswerFromTheStoreIsIgnored) {
  store_.synchronous = false;
  run(expressCookie(kAliceId));
  store_.answerNextTwice();
  EXPECT_EQ(callbacks_.calls(), 1);
  EXPECT_EQ(factory().counters().valid, 1u);
}

TEST_F(SessionFilterTest, CancelBeforeTheReplyMeansNoCallback) {
  store_.synchronous = false;
  run(expressCookie(kAliceId));
  filter_->onCancel();
  store_.answerNext();
  EXPECT_EQ(callbacks_.calls(), 0);
  EXPECT_FALSE(info_.user);
}

TEST_F(SessionFilterTest, FilterDestroyedBeforeTheReplyMeansNoCallback) {
  store_.synchronous = false;
  run(expressCookie(kAliceId));
  filter_.reset();
  store_.answerNext();
  EXPECT_EQ(callbacks_.calls(), 0);
}

TEST_F(SessionFilterTest, MissingCookieIs401WithoutAskingTheStore) {
  EXPECT_EQ(run(std::nullopt), FilterStatus::Stop);
  expectUnauthenticated();
  EXPECT_TRUE(store_.lookups.empty());
  EXPECT_EQ(factory().counters().missing, 1u);
}

TEST_F(SessionFilterTest, RedirectSendsBrowsersToTheLoginUrlWithTheOriginalTarget) {
  config_.on_missing = config::SessionFilterConfig::OnMissing::Redirect;
  EXPECT_EQ(run(std::nullopt, "/admin/users?page=2&sort=name"), FilterStatus::Stop);
  ASSERT_EQ(callbacks_.replies.size(), 1u);
  EXPECT_EQ(callbacks_.replies[0].status, http::status::found);
  EXPECT_EQ(headerOf(callbacks_.replies[0], "Location"),
            "/login?next=%2Fadmin%2Fusers%3Fpage%3D2%26sort%3Dname");
}

TEST_F(SessionFilterTest, RedirectPolicyStillAnswers401ToJsonClients) {
  config_.on_missing = config::SessionFilterConfig::OnMissing::Redirect;
  wants_json_ = true;
  run(std::nullopt, "/admin");
  expectUnauthenticated();
}

TEST_F(SessionFilterTest, BadSignatureNeverReachesTheStoreAndLooksLikeAMissingKey) {
  run(expressCookie(kAliceId, "another-secret"));
  expectUnauthenticated();
  EXPECT_TRUE(store_.lookups.empty());
  const LocalReply bad_signature = callbacks_.replies.at(0);

  run(expressCookie(kBobId));  // well signed, no such key
  expectUnauthenticated();
  EXPECT_EQ(store_.lookups.size(), 1u);
  const LocalReply missing_key = callbacks_.replies.at(0);

  EXPECT_EQ(bad_signature.status, missing_key.status);
  EXPECT_EQ(bad_signature.body, missing_key.body);
  EXPECT_EQ(bad_signature.headers, missing_key.headers);
  EXPECT_EQ(factory().counters().bad_signature, 1u);
  EXPECT_EQ(factory().counters().expired, 1u);
}

TEST_F(SessionFilterTest, MalformedCookieNeverReachesTheStore) {
  run("connect.sid=s%3A" + std::string(kAliceId));
  expectUnauthenticated();
  run("connect.sid=" + std::string(kAliceId));
  expectUnauthenticated();
  EXPECT_TRUE(store_.lookups.empty());
  EXPECT_EQ(factory().counters().bad_signature, 2u);
}

TEST_F(SessionFilterTest, TwoSessionCookiesAreRefusedEvenWhenBothAreValid) {
  run(expressCookie(kAliceId) + "; " + expressCookie(kAliceId));
  expectUnauthenticated();
  EXPECT_TRUE(store_.lookups.empty());

  // The same name in two Cookie fields.
  request_ = RequestHeader{};
  request_.insert(http::field::cookie, expressCookie(kAliceId));
  request_.insert(http::field::cookie, expressCookie(kBobId));
  callbacks_ = FakeCallbacks{};
  filter_ = factory().create(services_);
  filter_->onRequest(request_, info_, callbacks_);
  expectUnauthenticated();
  EXPECT_EQ(factory().counters().bad_signature, 2u);
}

TEST_F(SessionFilterTest, StoredSessionWithoutUserIsInvalid) {
  store_.sessions["sess:" + std::string(kBobId)] = R"({"cookie":{},"user":{"role":"admin"}})";
  run(expressCookie(kBobId));
  expectUnauthenticated();
  EXPECT_EQ(factory().counters().invalid, 1u);
}

TEST_F(SessionFilterTest, StoredExpiryIsCheckedBesidesTheTtl) {
  policy_.expires_pointer = "/cookie/expires";
  store_.sessions["sess:" + std::string(kAliceId)] =
      R"({"cookie":{"expires":"2023-11-14T22:13:19.999Z"},"user":{"username":"alice"}})";
  store_.sessions["sess:" + std::string(kBobId)] =
      R"({"cookie":{"expires":1700000000001},"user":{"username":"bob"}})";
  // Now is 2023-11-14T22:13:20.000Z.
  run(expressCookie(kAliceId));
  expectUnauthenticated();
  EXPECT_EQ(factory().counters().expired, 1u);

  run(expressCookie(kBobId));
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_EQ(info_.user, "bob");
}

TEST_F(SessionFilterTest, LackingEveryRequiredRoleIs403) {
  config_.roles = {"ops", "superuser"};
  run(expressCookie(kAliceId));
  ASSERT_EQ(callbacks_.replies.size(), 1u);
  EXPECT_EQ(callbacks_.replies[0].status, http::status::forbidden);
  EXPECT_EQ(callbacks_.replies[0].body, R"({"error":"forbidden"})");
  EXPECT_EQ(factory().counters().forbidden, 1u);
  EXPECT_EQ(factory().counters().valid, 0u);
}

TEST_F(SessionFilterTest, AnyOneRequiredRoleAdmits) {
  config_.roles = {"ops", "editor"};
  policy_.roles_pointer = "/user/roles";
  store_.sessions["sess:" + std::string(kBobId)] =
      R"({"user":{"username":"bob","roles":["viewer","editor"]}})";
  run(expressCookie(kBobId));
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_EQ(request_["X-User-Roles"], "viewer,editor");
}

TEST_F(SessionFilterTest, StoreErrorWithDenyIs503) {
  for (const auto status :
       {store::StoreStatus::Timeout, store::StoreStatus::Unavailable, store::StoreStatus::Error}) {
    store_.failure = status;
    run(expressCookie(kAliceId));
    ASSERT_EQ(callbacks_.replies.size(), 1u);
    EXPECT_EQ(callbacks_.replies[0].status, http::status::service_unavailable);
    EXPECT_EQ(callbacks_.replies[0].body, R"({"error":"session store unavailable"})");
  }
  EXPECT_EQ(factory().counters().store_error, 3u);
}

TEST_F(SessionFilterTest, StoreErrorWithAllowPassesWithoutIdentity) {
  policy_.on_store_error = config::SessionStoreErrorPolicy::Allow;
  store_.failure = store::StoreStatus::Timeout;
  run(expressCookie(kAliceId));
  EXPECT_EQ(callbacks_.resumed, 1);
  expectPassedWithoutIdentity();
  EXPECT_EQ(factory().counters().store_error, 1u);
}

TEST_F(SessionFilterTest, NotRequiredPassesWithoutSessionAndNeverRejects) {
  config_.require = false;
  EXPECT_EQ(run(std::nullopt), FilterStatus::Continue);
  EXPECT_EQ(callbacks_.calls(), 0);
  expectPassedWithoutIdentity();

  EXPECT_EQ(run(expressCookie(kAliceId, "forged")), FilterStatus::Continue);
  expectPassedWithoutIdentity();

  store_.failure = store::StoreStatus::Unavailable;
  run(expressCookie(kAliceId));
  EXPECT_EQ(callbacks_.resumed, 1);
  expectPassedWithoutIdentity();
}

TEST_F(SessionFilterTest, NotRequiredPassesIdentityWhenPresent) {
  config_.require = false;
  config_.roles = {"nobody-has-this"};
  run(expressCookie(kAliceId));
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_EQ(info_.user, "alice");
  EXPECT_EQ(request_["X-User"], "alice");
}

TEST_F(SessionFilterTest, PlainFormatUsesTheCookieValueAsTheId) {
  policy_.format = config::SessionFormat::Plain;
  policy_.cookie = "sid";
  policy_.key = "session:{id}";
  policy_.user_pointer = "/username";
  policy_.roles_pointer = "/role";
  store_.sessions["session:3f2a9c1e-77aa-4b1e-9d0c-aa11bb22cc33"] =
      R"({"username":"carol","role":"user","name":"Carol","permissions":[],"expiresAt":1800000000000})";
  run(std::string("sid=3f2a9c1e-77aa-4b1e-9d0c-aa11bb22cc33"));
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_EQ(info_.user, "carol");
  EXPECT_EQ(request_["X-User-Roles"], "user");

  run(std::string("sid=abc:def"));  // ':' would let a client reach another key space
  expectUnauthenticated();
  run("sid=" + std::string(129, 'a'));
  expectUnauthenticated();
  EXPECT_EQ(store_.lookups.size(), 1u);
}

TEST_F(SessionFilterTest, RollingTouchesAtMostOncePerTouchEveryPerSession) {
  policy_.rolling = true;
  policy_.touch_every = 60s;
  policy_.ttl = 24h;
  store_.sessions["sess:" + std::string(kBobId)] = R"({"user":{"username":"bob"}})";

  run(expressCookie(kAliceId));
  steady_now_ += 10s;
  run(expressCookie(kAliceId));
  run(expressCookie(kBobId));  // another session has its own clock
  steady_now_ += 51s;
  run(expressCookie(kAliceId));
  steady_now_ += 1s;
  run(expressCookie(kAliceId));

  ASSERT_EQ(store_.lookups.size(), 5u);
  EXPECT_EQ(store_.lookups[0].touch_ttl, 24h);
  EXPECT_EQ(store_.lookups[1].touch_ttl, 0ms);
  EXPECT_EQ(store_.lookups[2].touch_ttl, 24h);
  EXPECT_EQ(store_.lookups[3].touch_ttl, 24h);
  EXPECT_EQ(store_.lookups[4].touch_ttl, 0ms);
  EXPECT_EQ(factory().counters().touched, 3u);
}

TEST_F(SessionFilterTest, FailedTouchIsRetriedByTheNextRequest) {
  policy_.rolling = true;
  policy_.on_store_error = config::SessionStoreErrorPolicy::Allow;
  store_.failure = store::StoreStatus::Timeout;
  run(expressCookie(kAliceId));
  store_.failure.reset();
  run(expressCookie(kAliceId));
  ASSERT_EQ(store_.lookups.size(), 2u);
  EXPECT_EQ(store_.lookups[0].touch_ttl, policy_.ttl);
  EXPECT_EQ(store_.lookups[1].touch_ttl, policy_.ttl);
}

TEST_F(SessionFilterTest, NoTouchWithoutRolling) {
  run(expressCookie(kAliceId));
  run(expressCookie(kAliceId));
  ASSERT_EQ(store_.lookups.size(), 2u);
  EXPECT_EQ(store_.lookups[1].touch_ttl, 0ms);
  EXPECT_EQ(factory().counters().touched, 0u);
}

TEST_F(SessionFilterTest, CacheAnswersValidSessionsWithoutTheStoreForItsLifetime) {
  policy_.cache = 5s;
  run(expressCookie(kAliceId));
  EXPECT_EQ(store_.lookups.size(), 1u);

  steady_now_ += 4s;
  store_.sessions.clear();  // a logout within the cache lifetime is not seen: the price of the cache
  EXPECT_EQ(run(expressCookie(kAliceId)), FilterStatus::Continue);
  EXPECT_EQ(callbacks_.calls(), 0);
  EXPECT_EQ(store_.lookups.size(), 1u);
  EXPECT_EQ(info_.user, "alice");
  EXPECT_EQ(request_["X-User"], "alice");
  EXPECT_EQ(factory().counters().cache_hit, 1u);

  steady_now_ += 1s;
  run(expressCookie(kAliceId));
  EXPECT_EQ(store_.lookups.size(), 2u);
  expectUnauthenticated();
}

TEST_F(SessionFilterTest, CacheKeepsOnlyPositiveAnswers) {
  policy_.cache = 5s;
  run(expressCookie(kBobId));
  run(expressCookie(kBobId));
  EXPECT_EQ(store_.lookups.size(), 2u);
  EXPECT_EQ(factory().counters().cache_hit, 0u);
}

TEST_F(SessionFilterTest, CachedIdentityStillChecksRolesPerRoute) {
  policy_.cache = 5s;
  const auto policy = std::make_shared<config::SessionPolicy>(policy_);
  SessionClock clock{[this] { return steady_now_; }, [this] { return epoch_now_ms_; }};
  config::SessionFilterConfig ops_only;
  ops_only.roles = {"ops"};
  SessionFilterFactory open(config::SessionFilterConfig{}, policy, clock);
  SessionFilterFactory restricted(ops_only, policy, clock);

  request_.set(http::field::cookie, expressCookie(kAliceId));
  auto first = open.create(services_);
  first->onRequest(request_, info_, callbacks_);
  EXPECT_EQ(callbacks_.resumed, 1);

  FakeCallbacks second_callbacks;
  auto second = restricted.create(services_);
  EXPECT_EQ(second->onRequest(request_, info_, second_callbacks), FilterStatus::Stop);
  ASSERT_EQ(second_callbacks.replies.size(), 1u);
  EXPECT_EQ(second_callbacks.replies[0].status, http::status::forbidden);
  EXPECT_EQ(store_.lookups.size(), 1u);  // the second route used the policy's cache
  EXPECT_EQ(restricted.counters().cache_hit, 1u);
}

TEST_F(SessionFilterTest, ZeroCacheAlwaysAsks) {
  run(expressCookie(kAliceId));
  run(expressCookie(kAliceId));
  EXPECT_EQ(store_.lookups.size(), 2u);
}

TEST_F(SessionFilterTest, FactoryRefusesPoliciesItCannotApply) {
  auto no_secrets = std::make_shared<config::SessionPolicy>();
  EXPECT_THROW(SessionFilterFactory(config::SessionFilterConfig{}, no_secrets), std::invalid_argument);
  auto no_id = std::make_shared<config::SessionPolicy>(policy_);
  no_id->key = "sess:";
  EXPECT_THROW(SessionFilterFactory(config::SessionFilterConfig{}, no_id), std::invalid_argument);
  EXPECT_EQ(factory().name(), "session");
}

// A filter serves the requests of a connection one after the other (Filter::reset in between).
TEST_F(SessionFilterTest, AReusedFilterAnswersEachRequestOnItsOwn) {
  store_.synchronous = false;
  run(expressCookie(kAliceId));
  store_.answerNext();
  EXPECT_EQ(callbacks_.resumed, 1);

  EXPECT_EQ(runAgain(expressCookie(kAliceId)), FilterStatus::Stop);
  EXPECT_EQ(callbacks_.calls(), 0);
  store_.answerNext();
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_EQ(info_.user, "alice");
  EXPECT_EQ(factory().counters().valid, 2u);
}

TEST_F(SessionFilterTest, TheLateAnswerOfACancelledRequestLeavesTheNextRequestAlone) {
  store_.synchronous = false;
  run(expressCookie(kAliceId));
  filter_->onCancel();
  runAgain(expressCookie(kAliceId));
  ASSERT_EQ(store_.pendingCount(), 2u);

  store_.answerNext();  // the first request's
  EXPECT_EQ(callbacks_.calls(), 0);
  EXPECT_FALSE(info_.user);
  EXPECT_EQ(request_.count("X-User"), 0u);
  EXPECT_EQ(factory().counters().valid, 0u);

  store_.answerNext();  // the second request's
  EXPECT_EQ(callbacks_.resumed, 1);
  EXPECT_EQ(info_.user, "alice");
  EXPECT_EQ(factory().counters().valid, 1u);
}

TEST_F(SessionFilterTest, TheLateAnswerOfARequestEndedWithoutCancelIsIgnoredToo) {
  // Reset alone must drop it: the filter contract does not promise an onCancel before every reset.
  store_.synchronous = false;
  run(expressCookie(kAliceId));
  runAgain(expressCookie(kAliceId));
  store_.answerNext();  // the first request's
  EXPECT_EQ(callbacks_.calls(), 0);
  EXPECT_FALSE(info_.user);
  store_.answerNext();  // the second request's
  EXPECT_EQ(callbacks_.resumed, 1);
}

TEST_F(SessionFilterTest, NoIdentityIsLeftForTheNextRequest) {
  config_.require = false;
  run(expressCookie(kAliceId));
  ASSERT_EQ(info_.user, "alice");
  EXPECT_EQ(runAgain(std::nullopt), FilterStatus::Continue);
  expectPassedWithoutIdentity();
  EXPECT_EQ(factory().counters().missing, 1u);
}

TEST_F(SessionFilterTest, ATouchIsNotRepeatedByTheNextRequestOnAReusedFilter) {
  policy_.rolling = true;
  policy_.touch_every = 60s;
  policy_.ttl = 24h;
  run(expressCookie(kAliceId));
  steady_now_ += 10s;
  runAgain(expressCookie(kAliceId));
  ASSERT_EQ(store_.lookups.size(), 2u);
  EXPECT_EQ(store_.lookups[0].touch_ttl, 24h);
  EXPECT_EQ(store_.lookups[1].touch_ttl, 0ms);
  EXPECT_EQ(store_.lookups[1].key, "sess:" + std::string(kAliceId));
}

TEST_F(SessionFilterTest, ASessionIdPrefetchedForAnAbandonedRequestIsNotUsedByTheNext) {
  // The first request was prefetched, then answered by an earlier filter: its onRequest never ran.
  newRequest(expressCookie(kAliceId), "/api/items");
  filter_ = factory().create(services_);
  filter_->onPrefetch(request_, info_);

  EXPECT_EQ(runAgain(std::nullopt), FilterStatus::Stop);
  expectUnauthenticated();
  EXPECT_TRUE(store_.lookups.empty());
  EXPECT_FALSE(info_.user);
}

}  // namespace
}  // namespace gatehouse::filters
