#include "filters/headers_filter.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "store/store.h"
#include "tests/support/field_lines.h"

namespace gatehouse::filters {
namespace {

namespace bhttp = boost::beast::http;
using testing::Lines;
using testing::lines;

// The headers filter never calls back: any call is a failure.
class NoCallbacks final : public FilterCallbacks {
 public:
  void resume() override { ADD_FAILURE() << "headers filter called resume()"; }
  void reply(LocalReply /*reply*/) override { ADD_FAILURE() << "headers filter called reply()"; }
};

// The headers filter never asks the store: any call is a failure.
class UnusedStore final : public store::Store {
 public:
  void lookupSession(const store::SessionLookup& /*lookup*/, store::SessionCallback /*done*/) override {
    ADD_FAILURE() << "headers filter used the store";
  }
  void checkRateLimit(const store::RateLimitCheck& /*check*/, store::RateLimitCallback /*done*/) override {
    ADD_FAILURE() << "headers filter used the store";
  }
  void ping(store::StatusCallback /*done*/) override { ADD_FAILURE() << "headers filter used the store"; }
};

class HeadersFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Filter> make(const config::HeadersFilterConfig& config) {
    factory_ = std::make_unique<HeadersFilterFactory>(config);
    return factory_->create(services());
  }

  WorkerServices& services() { return services_; }

  RequestInfo info_;
  NoCallbacks callbacks_;

 private:
  boost::asio::io_context io_;
  UnusedStore store_;
  WorkerServices services_{io_, store_, store_};
  std::unique_ptr<HeadersFilterFactory> factory_;
};

TEST_F(HeadersFilterTest, RequestOpsRunRemoveThenSetThenAdd) {
  config::HeadersFilterConfig config;
  config.request.remove = {"X-Debug", "x-replaced"};
  config.request.set = {{"X-Env", "prod"}, {"Accept", "application/json"}};
  config.request.add = {{"X-Replaced", "new"}, {"Via", "1.1 gatehouse"}};
  auto filter = make(config);

  RequestHeader request;
  request.method(bhttp::verb::get);
  request.target("/api");
  request.insert(bhttp::field::host, "app.example");
  request.insert("X-Debug", "1");
  request.insert("X-Debug", "2");
  request.insert("X-Replaced", "old");
  request.insert("X-Env", "dev");
  request.insert("X-Env", "test");
  request.insert(bhttp::field::accept, "*/*");
  request.insert(bhttp::field::via, "1.0 edge");

  EXPECT_EQ(filter->onRequest(request, info_, callbacks_), FilterStatus::Continue);
  // Beast inserts a field after the last one of the same name, so the two Via fields stay together, in order.
  EXPECT_EQ(lines(request), (Lines{"Host: app.example", "Via: 1.0 edge", "Via: 1.1 gatehouse", "X-Env: prod",
                                   "Accept: application/json", "X-Replaced: new"}));
}

TEST_F(HeadersFilterTest, ResponseOpsApplyToTheResponseOnly) {
  config::HeadersFilterConfig config;
  config.response.remove = {"Server"};
  config.response.set = {{"Cache-Control", "no-store"}};
  config.response.add = {{"X-Frame-Options", "DENY"}};
  auto filter = make(config);

  RequestHeader request;
  request.insert(bhttp::field::server, "client-sent");
  EXPECT_EQ(filter->onRequest(request, info_, callbacks_), FilterStatus::Continue);
  EXPECT_EQ(lines(request), (Lines{"Server: client-sent"}));

  ResponseHeader response;
  response.result(bhttp::status::ok);
  response.insert(bhttp::field::server, "express");
  response.insert(bhttp::field::cache_control, "public, max-age=60");
  response.insert(bhttp::field::content_type, "text/html");
  filter->onResponse(response, info_);
  EXPECT_EQ(lines(response),
            (Lines{"Content-Type: text/html", "Cache-Control: no-store", "X-Frame-Options: DENY"}));
}

TEST_F(HeadersFilterTest, AddAppendsASecondField) {
  config::HeadersFilterConfig config;
  config.response.add = {{"Set-Cookie", "gh=1; Path=/"}};
  auto filter = make(config);

  ResponseHeader response;
  response.insert(bhttp::field::set_cookie, "app=2; Path=/");
  filter->onResponse(response, info_);
  EXPECT_EQ(lines(response), (Lines{"Set-Cookie: app=2; Path=/", "Set-Cookie: gh=1; Path=/"}));
}

TEST_F(HeadersFilterTest, EmptyConfigChangesNothing) {
  auto filter = make(config::HeadersFilterConfig{});
  RequestHeader request;
  request.insert("X-A", "1");
  EXPECT_EQ(filter->onRequest(request, info_, callbacks_), FilterStatus::Continue);
  EXPECT_EQ(lines(request), (Lines{"X-A: 1"}));
}

TEST_F(HeadersFilterTest, FiltersOutliveTheirFactory) {
  config::HeadersFilterConfig config;
  config.request.set = {{"X-Env", "prod"}};
  std::unique_ptr<Filter> filter;
  {
    HeadersFilterFactory factory(config);
    filter = factory.create(services());
  }
  RequestHeader request;
  EXPECT_EQ(filter->onRequest(request, info_, callbacks_), FilterStatus::Continue);
  EXPECT_EQ(lines(request), (Lines{"X-Env: prod"}));
}

TEST(HeadersFilterFactory, IsNamedHeaders) {
  HeadersFilterFactory factory(config::HeadersFilterConfig{});
  EXPECT_EQ(factory.name(), "headers");
}

TEST(HeadersFilterFactory, RejectsInvalidConfig) {
  auto rejects = [](config::HeadersFilterConfig config) {
    EXPECT_THROW(HeadersFilterFactory{config}, std::invalid_argument);
  };
  config::HeadersFilterConfig bad_name;
  bad_name.request.set = {{"X Bad", "v"}};
  rejects(bad_name);

  config::HeadersFilterConfig empty_name;
  empty_name.response.remove = {""};
  rejects(empty_name);

  config::HeadersFilterConfig injection;
  injection.response.add = {{"X-A", "v\r\nSet-Cookie: evil=1"}};
  rejects(injection);

  for (const auto* framing :
       {"Content-Length", "transfer-encoding", "Connection", "Upgrade", "Keep-Alive", "TE"}) {
    config::HeadersFilterConfig config;
    config.response.set = {{framing, "1"}};
    rejects(config);
  }
}

}  // namespace
}  // namespace gatehouse::filters
