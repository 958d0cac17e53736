// The chain's contract without sockets: order, stop and resume (synchronous and later), local replies,
// response hooks in reverse over the filters that let the request pass, and cancellation.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "proxy/filter_chain.h"
#include "store/store.h"

namespace gatehouse::proxy {
namespace {

using filters::FilterStatus;

struct Trace {
  std::vector<std::string> events;
};

// A filter whose behaviour the test scripts: continue, stop (and remember the callbacks), or reply.
class ScriptedFilter : public filters::Filter {
 public:
  enum class Action { Continue, StopResumeLater, StopResumeNow, StopReplyNow, ReplyLater };
  ScriptedFilter(std::string name, Action action, Trace& trace, filters::FilterCallbacks** held)
      : name_(std::move(name)), action_(action), trace_(trace), held_(held) {}

  FilterStatus onRequest(filters::RequestHeader& request, filters::RequestInfo&,
                         filters::FilterCallbacks& cb) override {
    trace_.events.push_back("request:" + name_);
    request.insert("X-Seen-By", name_);
    switch (action_) {
      case Action::Continue:
        return FilterStatus::Continue;
      case Action::StopResumeNow:
        cb.resume();
        return FilterStatus::Stop;
      case Action::StopReplyNow:
        cb.reply({boost::beast::http::status::forbidden, "{}", "application/json", {}});
        return FilterStatus::Stop;
      case Action::StopResumeLater:
      case Action::ReplyLater:
        *held_ = &cb;
        return FilterStatus::Stop;
    }
    return FilterStatus::Continue;
  }
  void onResponse(filters::ResponseHeader& response, const filters::RequestInfo&) override {
    trace_.events.push_back("response:" + name_);
    response.insert("X-Response-By", name_);
  }
  void onCancel() override { trace_.events.push_back("cancel:" + name_); }
  void reset() override { trace_.events.push_back("reset:" + name_); }

 private:
  std::string name_;
  Action action_;
  Trace& trace_;
  filters::FilterCallbacks** held_;
};

class ScriptedFactory : public filters::FilterFactory {
 public:
  ScriptedFactory(std::string name, ScriptedFilter::Action action, Trace& trace,
                  filters::FilterCallbacks** held)
      : name_(std::move(name)), action_(action), trace_(trace), held_(held) {}
  std::unique_ptr<filters::Filter> create(filters::WorkerServices&) const override {
    ++created;
    trace_.events.push_back("create:" + name_);
    return std::make_unique<ScriptedFilter>(name_, action_, trace_, held_);
  }
  std::string_view name() const override { return "scripted"; }

  mutable int created = 0;

 private:
  std::string name_;
  ScriptedFilter::Action action_;
  Trace& trace_;
  filters::FilterCallbacks** held_;
};

class NullStore : public store::Store {
 public:
  void lookupSession(const store::SessionLookup&, store::SessionCallback) override {}
  void checkRateLimit(const store::RateLimitCheck&, store::RateLimitCallback) override {}
  void ping(store::StatusCallback) override {}
};

class RecordingSink : public ChainSink {
 public:
  void onChainContinue() override { ++continues; }
  void onChainReply(filters::LocalReply reply) override { replies.push_back(std::move(reply)); }
  int continues = 0;
  std::vector<filters::LocalReply> replies;
};

class FilterChainTest : public ::testing::Test {
 protected:
  using Action = ScriptedFilter::Action;
  std::shared_ptr<ScriptedFactory> add(const std::string& name, Action action) {
    auto factory = std::make_shared<ScriptedFactory>(name, action, trace_, &held_);
    factories_.push_back(factory);
    return factory;
  }
  void start() { chain_.start(factories_, services_, request_, info_, sink_); }
  // The events of the requests so far, without the factories' creations (which the reuse tests look at).
  std::vector<std::string> requestEvents() const {
    std::vector<std::string> events;
    for (const auto& event : trace_.events) {
      if (!event.starts_with("create:")) events.push_back(event);
    }
    return events;
  }

  boost::asio::io_context io_;
  NullStore store_;
  filters::WorkerServices services_{io_, store_, store_};
  FilterFactoryList factories_;
  Trace trace_;
  filters::FilterCallbacks* held_ = nullptr;
  filters::RequestHeader request_;
  filters::RequestInfo info_;
  RecordingSink sink_;
  FilterChain chain_;
};

TEST_F(FilterChainTest, RunsFiltersInOrderAndResponsesInReverse) {
  add("a", Action::Continue);
  add("b", Action::Continue);
  add("c", Action::Continue);
  start();
  EXPECT_EQ(sink_.continues, 1);
  filters::ResponseHeader response;
  chain_.onResponse(response);
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a", "request:b", "request:c", "response:c",
                                                       "response:b", "response:a"}));
}

TEST_F(FilterChainTest, StopHoldsTheRequestUntilResumed) {
  add("a", Action::StopResumeLater);
  add("b", Action::Continue);
  start();
  EXPECT_EQ(sink_.continues, 0);
  EXPECT_TRUE(chain_.waiting());
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a"}));
  ASSERT_NE(held_, nullptr);
  held_->resume();
  EXPECT_EQ(sink_.continues, 1);
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a", "request:b"}));
  held_->resume();  // a second resume is ignored
  EXPECT_EQ(sink_.continues, 1);
}

TEST_F(FilterChainTest, ASynchronousResumeInsideOnRequestContinuesExactlyOnce) {
  add("a", Action::StopResumeNow);
  add("b", Action::Continue);
  start();
  EXPECT_EQ(sink_.continues, 1);
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a", "request:b"}));
}

TEST_F(FilterChainTest, ALocalReplyStopsTheChainAndOnlyEarlierFiltersSeeTheResponse) {
  add("a", Action::Continue);
  add("b", Action::StopReplyNow);
  add("c", Action::Continue);
  start();
  EXPECT_EQ(sink_.continues, 0);
  ASSERT_EQ(sink_.replies.size(), 1u);
  EXPECT_EQ(sink_.replies[0].status, boost::beast::http::status::forbidden);
  filters::ResponseHeader response;
  chain_.onResponse(response);
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a", "request:b", "response:a"}));
}

TEST_F(FilterChainTest, AReplyAfterStopIsDelivered) {
  add("a", Action::ReplyLater);
  add("b", Action::Continue);
  start();
  ASSERT_NE(held_, nullptr);
  held_->reply({boost::beast::http::status::too_many_requests, "{}", "application/json", {}});
  ASSERT_EQ(sink_.replies.size(), 1u);
  EXPECT_EQ(sink_.continues, 0);
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a"}));
}

TEST_F(FilterChainTest, CancelTellsTheStoppedFilterAndSuppressesTheOutcome) {
  add("a", Action::Continue);
  add("b", Action::StopResumeLater);
  start();
  chain_.cancel();
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a", "request:b", "cancel:b"}));
  held_->resume();
  EXPECT_EQ(sink_.continues, 0);
}

TEST_F(FilterChainTest, FiltersSeeEachOthersChanges) {
  add("a", Action::Continue);
  add("b", Action::Continue);
  start();
  std::vector<std::string> seen;
  for (const auto& field : request_) {
    if (field.name_string() == "X-Seen-By") seen.emplace_back(field.value());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST_F(FilterChainTest, AnEmptyChainContinuesAtOnce) {
  start();
  EXPECT_EQ(sink_.continues, 1);
}

TEST_F(FilterChainTest, TheNextRequestWithTheSameFactoriesReusesTheFiltersReset) {
  const auto a = add("a", Action::Continue);
  const auto b = add("b", Action::Continue);
  start();
  chain_.reset();
  start();
  chain_.reset();
  EXPECT_EQ(a->created, 1);
  EXPECT_EQ(b->created, 1);
  EXPECT_EQ(sink_.continues, 2);
  EXPECT_EQ(trace_.events,
            (std::vector<std::string>{"create:a", "create:b", "request:a", "request:b", "reset:a", "reset:b",
                                      "request:a", "request:b", "reset:a", "reset:b"}));
}

TEST_F(FilterChainTest, AnEqualButDistinctFactoryListIsReusedToo) {
  // The same factory objects in another vector (two routes with the same filters): the filters fit both.
  const auto a = add("a", Action::Continue);
  start();
  const FilterFactoryList copy = factories_;
  chain_.start(copy, services_, request_, info_, sink_);
  EXPECT_EQ(a->created, 1);
}

TEST_F(FilterChainTest, ADifferentFactoryListCreatesNewFilters) {
  const auto a = add("a", Action::Continue);
  start();
  const FilterFactoryList first = factories_;
  factories_.clear();
  const auto b = add("b", Action::Continue);
  start();
  EXPECT_EQ(b->created, 1);
  factories_ = first;  // back to the first list: its filter was dropped, a new one is made
  start();
  EXPECT_EQ(a->created, 2);
  EXPECT_EQ(b->created, 1);
  EXPECT_EQ(requestEvents(),
            (std::vector<std::string>{"request:a", "reset:a", "request:b", "reset:b", "request:a"}));
}

TEST_F(FilterChainTest, HoldsTheFactoriesOfItsFiltersUntilItReplacesThem) {
  // A config reload replaces the factories: were the old one freed, the allocator could give a new factory
  // its address, and the chain would take the new factory for the one its filters came from.
  std::weak_ptr<ScriptedFactory> old_factory = add("old", Action::Continue);
  start();
  factories_.clear();
  EXPECT_FALSE(old_factory.expired());  // the chain keeps what its filters came from
  const auto fresh = add("new", Action::Continue);
  start();
  EXPECT_EQ(fresh->created, 1);
  EXPECT_TRUE(old_factory.expired());  // and lets go once its filters are replaced
}

TEST_F(FilterChainTest, OtherWorkerServicesCreateNewFilters) {
  const auto a = add("a", Action::Continue);
  start();
  NullStore other_store;
  filters::WorkerServices other{io_, other_store, other_store};
  chain_.start(factories_, other, request_, info_, sink_);
  EXPECT_EQ(a->created, 2);
}

TEST_F(FilterChainTest, AStoppedFilterIsCancelledThenResetBeforeTheNextRequest) {
  add("a", Action::StopResumeLater);
  start();
  filters::FilterCallbacks* first_callbacks = held_;
  chain_.reset();
  first_callbacks->resume();  // the first request's late resume: ignored, no request is running
  EXPECT_EQ(sink_.continues, 0);
  start();
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a", "cancel:a", "reset:a", "request:a"}));
  EXPECT_TRUE(chain_.waiting());
}

TEST_F(FilterChainTest, ResetTwiceResetsTheFiltersOnce) {
  add("a", Action::Continue);
  start();
  chain_.reset();
  chain_.reset();
  start();  // starts with a reset of its own: nothing ran since the last one
  EXPECT_EQ(requestEvents(), (std::vector<std::string>{"request:a", "reset:a", "request:a"}));
}

}  // namespace
}  // namespace gatehouse::proxy
