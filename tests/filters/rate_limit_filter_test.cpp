#include "filters/rate_limit_filter.h"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "store/store.h"

namespace gatehouse::filters {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::status;
using ::testing::Contains;
using ::testing::Pair;

constexpr std::int64_t kStoreNowMs = 1'700'000'000'000;

// Records every check; answers at once when `immediate` is set (like the memory store), else when the test
// calls answerNext() (like Redis, later on the loop).
class FakeStore : public store::Store {
 public:
  void lookupSession(const store::SessionLookup& /*lookup*/, store::SessionCallback done) override {
    done(store::SessionResult{store::StoreStatus::Error, false, {}});
  }
  void checkRateLimit(const store::RateLimitCheck& check, store::RateLimitCallback done) override {
    checks.push_back(check);
    if (immediate) {
      done(*immediate);
    } else {
      pending.push_back(std::move(done));
    }
  }
  void ping(store::StatusCallback done) override { done(store::StoreStatus::Ok); }

  void answerNext(const store::RateLimitResult& result) {
    ASSERT_FALSE(pending.empty());
    auto done = std::move(pending.front());
    pending.pop_front();
    done(result);
  }

  std::optional<store::RateLimitResult> immediate;
  std::vector<store::RateLimitCheck> checks;
  std::deque<store::RateLimitCallback> pending;
};

class FakeCallbacks : public FilterCallbacks {
 public:
  void resume() override { ++resumes; }
  void reply(LocalReply local_reply) override { replies.push_back(std::move(local_reply)); }

  int resumes = 0;
  std::vector<LocalReply> replies;
};

store::RateLimitResult allowedResult(std::uint64_t remaining_minute, std::uint64_t remaining_second) {
  store::RateLimitResult result;
  result.allowed = true;
  result.limits = {{100, remaining_minute, 30'000ms}, {10, remaining_second, 400ms}};
  result.now_ms = kStoreNowMs;
  return result;
}

store::RateLimitResult rejectedResult(store::Millis retry_after) {
  store::RateLimitResult result;
  result.allowed = false;
  result.limits = {{100, 0, retry_after}, {10, 0, 400ms}};
  result.retry_after = retry_after;
  result.now_ms = kStoreNowMs;
  return result;
}

store::RateLimitResult failedResult(store::StoreStatus status) {
  store::RateLimitResult result;
  result.status = status;
  return result;
}

std::string fieldOf(const LocalReply& reply, std::string_view name) {
  for (const auto& [field, value] : reply.headers) {
    if (field == name) return value;
  }
  return {};
}

RequestInfo apiRequestInfo() {
  RequestInfo info;
  info.client_ip = "203.0.113.7";
  info.route_name = "api";
  info.request_id = "r1";
  info.path = "/api/x";
  return info;
}

class RateLimitFilterTest : public ::testing::Test {
 protected:
  RateLimitFilterTest() {
    policy_.name = "per_client";
    policy_.limits = {{100, 60s}, {10, 1s}};
    policy_.headers_ietf = true;
  }

  // The factory is built on first use, so a test can adjust policy_ before.
  RateLimitFilterFactory& factory() {
    if (!factory_) {
      factory_ = std::make_unique<RateLimitFilterFactory>(
          std::make_shared<const config::RateLimitPolicy>(policy_), [this] { return now_; });
    }
    return *factory_;
  }

  // One request through a fresh filter, as the filter chain would run it.
  struct Run {
    std::unique_ptr<Filter> filter;
    FilterStatus status = FilterStatus::Stop;
    FakeCallbacks callbacks;
  };
  std::unique_ptr<Run> start(std::string client_ip = "203.0.113.7") {
    auto run = std::make_unique<Run>();
    info_.client_ip = std::move(client_ip);
    run->filter = factory().create(services_);
    run->status = run->filter->onRequest(request_, info_, run->callbacks);
    return run;
  }

  // The next request of the connection through the same filter, reset as the filter chain resets it (the
  // callbacks are the same object, as the chain's are).
  void startAgain(Run& run, std::string client_ip = "203.0.113.7") {
    run.filter->reset();
    run.callbacks = FakeCallbacks{};
    info_.client_ip = std::move(client_ip);
    run.status = run.filter->onRequest(request_, info_, run.callbacks);
  }

  ResponseHeader respond(Run& run) {
    ResponseHeader response;
    response.result(status::ok);
    run.filter->onResponse(response, info_);
    return response;
  }

  config::RateLimitPolicy policy_;
  SteadyTime now_ = SteadyTime{} + 1h;
  boost::asio::io_context io_;
  FakeStore store_;
  FakeStore local_store_;
  WorkerServices services_{io_, store_, local_store_};
  RequestHeader request_;
  RequestInfo info_ = apiRequestInfo();
  std::unique_ptr<RateLimitFilterFactory> factory_;
};

TEST_F(RateLimitFilterTest, FactoryIsNamedRateLimitAndRefusesAPolicyWithoutLimits) {
  EXPECT_EQ(factory().name(), "rate_limit");
  config::RateLimitPolicy empty;
  empty.name = "empty";
  EXPECT_THROW(RateLimitFilterFactory(std::make_shared<const config::RateLimitPolicy>(empty)),
               std::invalid_argument);
  EXPECT_THROW(RateLimitFilterFactory(nullptr), std::invalid_argument);
}

TEST_F(RateLimitFilterTest, AsksTheStoreWithTheKeyAndTheLimitsOfThePolicy) {
  policy_.algorithm = config::RateLimitAlgorithm::SlidingLog;
  auto run = start();
  ASSERT_EQ(store_.checks.size(), 1u);
  const auto& check = store_.checks.front();
  EXPECT_EQ(check.key, "per_client:ip=203.0.113.7");
  EXPECT_EQ(check.algorithm, config::RateLimitAlgorithm::SlidingLog);
  ASSERT_EQ(check.limits.size(), 2u);
  EXPECT_EQ(check.limits[0].requests, 100u);
  EXPECT_EQ(check.limits[1].window, 1s);
  EXPECT_EQ(check.cost, 1u);
}

TEST_F(RateLimitFilterTest, AllowedLaterResumesAndAddsTheHeadersToTheResponse) {
  auto run = start();
  EXPECT_EQ(run->status, FilterStatus::Stop);
  EXPECT_EQ(run->callbacks.resumes, 0);

  store_.answerNext(allowedResult(42, 7));
  EXPECT_EQ(run->callbacks.resumes, 1);
  EXPECT_TRUE(run->callbacks.replies.empty());

  const auto response = respond(*run);
  EXPECT_EQ(response["X-RateLimit-Limit"], "10");  // 7 of 10 left is closer to exhaustion than 42 of 100
  EXPECT_EQ(response["X-RateLimit-Remaining"], "7");
  EXPECT_EQ(response["X-RateLimit-Reset"], "1700000001");
  EXPECT_EQ(response["RateLimit-Policy"], "\"per_client\";q=100;w=60, \"per_client-1s\";q=10;w=1");
  EXPECT_EQ(response["RateLimit"], "\"per_client-1s\";r=7;t=1");
  EXPECT_EQ(factory().counters().allowed, 1u);
}

TEST_F(RateLimitFilterTest, AllowedAtOnceContinuesWithoutResuming) {
  store_.immediate = allowedResult(3, 9);
  auto run = start();
  EXPECT_EQ(run->status, FilterStatus::Continue);
  EXPECT_EQ(run->callbacks.resumes, 0);  // Continue already passed it on: resuming too would run it twice
  EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "3");
}

TEST_F(RateLimitFilterTest, RejectedRepliesWith429ProblemRetryAfterAndHeaders) {
  auto run = start();
  store_.answerNext(rejectedResult(16'200ms));

  EXPECT_EQ(run->callbacks.resumes, 0);
  ASSERT_EQ(run->callbacks.replies.size(), 1u);
  const LocalReply& reply = run->callbacks.replies.front();
  EXPECT_EQ(reply.status, status::too_many_requests);
  EXPECT_EQ(reply.content_type, "application/problem+json");
  EXPECT_EQ(fieldOf(reply, "Retry-After"), "17");
  EXPECT_EQ(fieldOf(reply, "X-RateLimit-Remaining"), "0");
  EXPECT_EQ(fieldOf(reply, "X-RateLimit-Limit"), "10");  // tie at 0: the shortest window
  EXPECT_EQ(fieldOf(reply, "RateLimit"), "\"per_client-1s\";r=0;t=1");

  const auto body = boost::json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("type").as_string(), "https://gatehouse.dev/problems#quota-exceeded");
  EXPECT_EQ(body.at("status").as_int64(), 429);
  EXPECT_EQ(body.at("policy").as_string(), "per_client");
  EXPECT_EQ(body.at("retry_after").as_int64(), 17);
  EXPECT_EQ(factory().counters().limited, 1u);
  EXPECT_EQ(factory().counters().allowed, 0u);
}

TEST_F(RateLimitFilterTest, RejectedAtOnceRepliesAndStops) {
  store_.immediate = rejectedResult(2s);
  auto run = start();
  EXPECT_EQ(run->status, FilterStatus::Stop);
  ASSERT_EQ(run->callbacks.replies.size(), 1u);
  EXPECT_EQ(run->callbacks.replies.front().status, status::too_many_requests);
  EXPECT_EQ(run->callbacks.resumes, 0);
}

TEST_F(RateLimitFilterTest, ShadowModeCountsAndAddsHeadersButNeverRejects) {
  policy_.shadow = true;
  store_.immediate = rejectedResult(5s);
  for (int i = 0; i < 2; ++i) {
    auto run = start();
    EXPECT_EQ(run->status, FilterStatus::Continue);
    EXPECT_TRUE(run->callbacks.replies.empty());
    EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "0");
  }
  EXPECT_EQ(store_.checks.size(), 2u);  // shadow mode keeps counting every request in the store
  EXPECT_EQ(factory().counters().shadow_limited, 2u);
  EXPECT_EQ(factory().counters().limited, 0u);
}

TEST_F(RateLimitFilterTest, AllowListedClientsPassWithoutStoreOrHeaders) {
  policy_.allow = {*config::Cidr::parse("127.0.0.0/8"), *config::Cidr::parse("2001:db8::/32")};
  store_.immediate = rejectedResult(5s);

  for (const char* client : {"127.0.0.1", "2001:db8::42"}) {
    auto run = start(client);
    EXPECT_EQ(run->status, FilterStatus::Continue) << client;
    const auto response = respond(*run);
    EXPECT_EQ(response.find("X-RateLimit-Limit"), response.end()) << client;
  }
  EXPECT_TRUE(store_.checks.empty());
  EXPECT_EQ(factory().counters().allow_listed, 2u);

  auto limited = start("198.51.100.1");
  EXPECT_EQ(limited->callbacks.replies.size(), 1u);
}

TEST_F(RateLimitFilterTest, StoreErrorWithAllowPassesWithoutHeaders) {
  policy_.on_store_error = config::RateLimitStoreErrorPolicy::Allow;
  auto run = start();
  store_.answerNext(failedResult(store::StoreStatus::Timeout));

  EXPECT_EQ(run->callbacks.resumes, 1);
  EXPECT_TRUE(run->callbacks.replies.empty());
  const auto response = respond(*run);
  EXPECT_EQ(response.find("X-RateLimit-Limit"), response.end());
  EXPECT_EQ(response.find("RateLimit"), response.end());
  EXPECT_EQ(factory().counters().store_error, 1u);
  EXPECT_TRUE(local_store_.checks.empty());
}

TEST_F(RateLimitFilterTest, StoreErrorWithDenyReplies503) {
  policy_.on_store_error = config::RateLimitStoreErrorPolicy::Deny;
  auto run = start();
  store_.answerNext(failedResult(store::StoreStatus::Unavailable));

  EXPECT_EQ(run->callbacks.resumes, 0);
  ASSERT_EQ(run->callbacks.replies.size(), 1u);
  const LocalReply& reply = run->callbacks.replies.front();
  EXPECT_EQ(reply.status, status::service_unavailable);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(boost::json::parse(reply.body),
            boost::json::parse(R"({"error":"rate limit store unavailable"})"));
  EXPECT_EQ(factory().counters().store_error, 1u);
}

TEST_F(RateLimitFilterTest, StoreErrorWithLocalUsesTheLocalStoresAnswer) {
  policy_.on_store_error = config::RateLimitStoreErrorPolicy::Local;
  local_store_.immediate = rejectedResult(3s);
  auto run = start();
  store_.answerNext(failedResult(store::StoreStatus::Error));

  ASSERT_EQ(local_store_.checks.size(), 1u);
  EXPECT_EQ(local_store_.checks.front().key, "per_client:ip=203.0.113.7");
  ASSERT_EQ(run->callbacks.replies.size(), 1u);
  EXPECT_EQ(run->callbacks.replies.front().status, status::too_many_requests);
  EXPECT_EQ(fieldOf(run->callbacks.replies.front(), "Retry-After"), "3");
  const auto counters = factory().counters();
  EXPECT_EQ(counters.store_error, 1u);
  EXPECT_EQ(counters.fallback_local, 1u);
  EXPECT_EQ(counters.limited, 1u);
}

TEST_F(RateLimitFilterTest, StoreErrorWithLocalAllowsWhatTheLocalStoreAllows) {
  policy_.on_store_error = config::RateLimitStoreErrorPolicy::Local;
  store_.immediate = failedResult(store::StoreStatus::Unavailable);
  local_store_.immediate = allowedResult(99, 9);
  auto run = start();

  EXPECT_EQ(run->status, FilterStatus::Continue);
  EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "9");
  EXPECT_EQ(factory().counters().allowed, 1u);
}

TEST_F(RateLimitFilterTest, WhenTheLocalStoreFailsTooTheRequestPasses) {
  policy_.on_store_error = config::RateLimitStoreErrorPolicy::Local;
  local_store_.immediate = failedResult(store::StoreStatus::Error);
  auto run = start();
  store_.answerNext(failedResult(store::StoreStatus::Timeout));

  EXPECT_EQ(run->callbacks.resumes, 1);
  EXPECT_TRUE(run->callbacks.replies.empty());
  EXPECT_EQ(factory().counters().store_error, 1u);
}

TEST_F(RateLimitFilterTest, OverLimitCacheRefusesLocallyUntilTheRetryTime) {
  store_.immediate = rejectedResult(5s);
  auto first = start();
  ASSERT_EQ(first->callbacks.replies.size(), 1u);
  ASSERT_EQ(store_.checks.size(), 1u);

  now_ += 2'500ms;
  auto cached = start();
  EXPECT_EQ(cached->status, FilterStatus::Stop);
  EXPECT_EQ(store_.checks.size(), 1u);  // answered without the store
  ASSERT_EQ(cached->callbacks.replies.size(), 1u);
  EXPECT_EQ(cached->callbacks.replies.front().status, status::too_many_requests);
  EXPECT_EQ(fieldOf(cached->callbacks.replies.front(), "Retry-After"), "3");  // 2.5 s left, rounded up

  auto other_client = start("198.51.100.9");
  EXPECT_EQ(store_.checks.size(), 2u);  // the cache is per key

  now_ += 2'500ms;
  store_.immediate = allowedResult(1, 1);
  auto after_retry = start();
  EXPECT_EQ(store_.checks.size(), 3u);
  EXPECT_EQ(after_retry->status, FilterStatus::Continue);

  const auto counters = factory().counters();
  EXPECT_EQ(counters.local_cache_hit, 1u);
  EXPECT_EQ(counters.limited, 3u);
  EXPECT_EQ(counters.allowed, 1u);
}

TEST_F(RateLimitFilterTest, CancelledRequestIgnoresTheLateAnswer) {
  auto run = start();
  run->filter->onCancel();
  store_.answerNext(rejectedResult(5s));

  EXPECT_EQ(run->callbacks.resumes, 0);
  EXPECT_TRUE(run->callbacks.replies.empty());
  const auto counters = factory().counters();
  EXPECT_EQ(counters.limited, 0u);
  EXPECT_EQ(counters.allowed, 0u);
}

TEST_F(RateLimitFilterTest, AnswerArrivingAfterTheFilterIsGoneIsIgnored) {
  auto run = start();
  run->filter.reset();
  store_.answerNext(allowedResult(1, 1));  // must not touch the destroyed filter
  EXPECT_EQ(run->callbacks.resumes, 0);
  EXPECT_EQ(factory().counters().allowed, 0u);
}

TEST_F(RateLimitFilterTest, FiltersOutliveTheirFactory) {
  auto run = start();
  factory_.reset();
  store_.answerNext(allowedResult(5, 5));
  EXPECT_EQ(run->callbacks.resumes, 1);
  EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "5");
}

}  // namespace
}  // namespace gatehouse::filters

namespace gatehouse::filters {
namespace {

// Prefetch: the check leaves before onRequest, so it shares a round trip with the session lookup.
class RateLimitPrefetchTest : public RateLimitFilterTest {
 protected:
  std::unique_ptr<Run> prefetch() {
    auto run = std::make_unique<Run>();
    run->filter = factory().create(services_);
    run->filter->onPrefetch(request_, info_);
    return run;
  }
};

TEST_F(RateLimitPrefetchTest, AnAnswerThatCameBeforeOnRequestIsUsedThere) {
  auto run = prefetch();
  ASSERT_EQ(store_.checks.size(), 1u);
  store_.answerNext(allowedResult(42, 7));
  EXPECT_EQ(run->callbacks.resumes, 0);
  run->status = run->filter->onRequest(request_, info_, run->callbacks);
  EXPECT_EQ(run->status, FilterStatus::Continue);
  EXPECT_EQ(run->callbacks.resumes, 0);
  EXPECT_EQ(store_.checks.size(), 1u);  // not asked twice
  EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "7");
}

TEST_F(RateLimitPrefetchTest, AnAnswerStillOnItsWayResumesTheRequest) {
  auto run = prefetch();
  run->status = run->filter->onRequest(request_, info_, run->callbacks);
  EXPECT_EQ(run->status, FilterStatus::Stop);
  store_.answerNext(rejectedResult(2500ms));
  EXPECT_EQ(run->callbacks.resumes, 0);
  ASSERT_EQ(run->callbacks.replies.size(), 1u);
  EXPECT_EQ(run->callbacks.replies[0].status, status::too_many_requests);
  EXPECT_EQ(store_.checks.size(), 1u);
}

TEST_F(RateLimitPrefetchTest, ARejectionKnownBeforeOnRequestRepliesThere) {
  store_.immediate = rejectedResult(1000ms);
  auto run = prefetch();
  run->status = run->filter->onRequest(request_, info_, run->callbacks);
  EXPECT_EQ(run->status, FilterStatus::Stop);
  ASSERT_EQ(run->callbacks.replies.size(), 1u);
  EXPECT_EQ(fieldOf(run->callbacks.replies[0], "Retry-After"), "1");
}

TEST_F(RateLimitPrefetchTest, AKeyThatNeedsTheSessionWaitsForOnRequest) {
  policy_.key = {config::RateLimitKeyPart{config::RateLimitKeyPart::Kind::SessionUser, ""}};
  auto run = prefetch();
  EXPECT_TRUE(store_.checks.empty());
  info_.user = "alice";
  run->status = run->filter->onRequest(request_, info_, run->callbacks);
  ASSERT_EQ(store_.checks.size(), 1u);
  EXPECT_EQ(store_.checks[0].key, "per_client:user=alice");
}

TEST_F(RateLimitPrefetchTest, CancelBeforeOnRequestDropsTheAnswer) {
  auto run = prefetch();
  run->filter->onCancel();
  store_.answerNext(allowedResult(1, 1));
  EXPECT_EQ(run->callbacks.resumes, 0);
  EXPECT_TRUE(run->callbacks.replies.empty());
}

// A filter serves the requests of a connection one after the other (Filter::reset in between).
TEST_F(RateLimitFilterTest, AReusedFilterChecksEachRequest) {
  auto run = start();
  store_.answerNext(allowedResult(9, 9));
  startAgain(*run);
  EXPECT_EQ(run->status, FilterStatus::Stop);
  EXPECT_EQ(store_.checks.size(), 2u);
  store_.answerNext(allowedResult(8, 8));
  EXPECT_EQ(run->callbacks.resumes, 1);
  EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "8");
}

TEST_F(RateLimitFilterTest, TheLateAnswerOfACancelledRequestLeavesTheNextRequestAlone) {
  auto run = start();
  run->filter->onCancel();
  startAgain(*run);
  ASSERT_EQ(store_.pending.size(), 2u);

  store_.answerNext(rejectedResult(5s));  // the first request's
  EXPECT_EQ(run->callbacks.resumes, 0);
  EXPECT_TRUE(run->callbacks.replies.empty());
  EXPECT_EQ(factory().counters().limited, 0u);

  store_.answerNext(allowedResult(4, 4));  // the second request's
  EXPECT_EQ(run->callbacks.resumes, 1);
  EXPECT_TRUE(run->callbacks.replies.empty());
  EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "4");
}

TEST_F(RateLimitFilterTest, TheLateAnswerOfARequestEndedWithoutCancelIsIgnoredToo) {
  // Reset alone must drop it: the filter contract does not promise an onCancel before every reset.
  auto run = start();
  startAgain(*run);
  store_.answerNext(rejectedResult(5s));  // the first request's
  EXPECT_TRUE(run->callbacks.replies.empty());
  store_.answerNext(allowedResult(4, 4));
  EXPECT_EQ(run->callbacks.resumes, 1);
}

TEST_F(RateLimitFilterTest, NoResponseFieldsAreLeftForAnUncheckedNextRequest) {
  policy_.allow = {*config::Cidr::parse("127.0.0.0/8")};
  store_.immediate = allowedResult(3, 3);
  auto run = start();
  ASSERT_EQ(respond(*run)["X-RateLimit-Remaining"], "3");

  startAgain(*run, "127.0.0.1");  // allow-listed: not checked, so no rate-limit fields
  EXPECT_EQ(run->status, FilterStatus::Continue);
  const auto response = respond(*run);
  EXPECT_EQ(response.find("X-RateLimit-Remaining"), response.end());
  EXPECT_EQ(response.find("RateLimit"), response.end());
}

TEST_F(RateLimitPrefetchTest, APrefetchInFlightForAnAbandonedRequestIsIgnoredByTheNext) {
  // The first request was prefetched, then answered by an earlier filter: no onRequest, no onCancel.
  auto run = prefetch();
  startAgain(*run);
  ASSERT_EQ(store_.pending.size(), 2u);
  store_.answerNext(rejectedResult(5s));  // the first request's prefetch
  EXPECT_TRUE(run->callbacks.replies.empty());
  EXPECT_EQ(run->callbacks.resumes, 0);
  store_.answerNext(allowedResult(6, 6));
  EXPECT_EQ(run->callbacks.resumes, 1);
  EXPECT_EQ(respond(*run)["X-RateLimit-Remaining"], "6");
}

TEST_F(RateLimitPrefetchTest, APrefetchedAnswerOfAnAbandonedRequestIsNotUsedByTheNext) {
  auto run = prefetch();
  store_.answerNext(rejectedResult(5s));  // arrives before an onRequest that never comes
  startAgain(*run, "198.51.100.9");
  EXPECT_EQ(run->status, FilterStatus::Stop);
  EXPECT_TRUE(run->callbacks.replies.empty());  // not refused with the first request's answer
  ASSERT_EQ(store_.checks.size(), 2u);
  EXPECT_EQ(store_.checks[1].key, "per_client:ip=198.51.100.9");
}

}  // namespace
}  // namespace gatehouse::filters
