// Routing, header rules, keep-alive and the proxy's own error answers, through real sockets.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {

TEST(ProxyBasics, ForwardsAndKeepsBothConnectionsAlive) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  for (int i = 0; i < 5; ++i) {
    const auto response = client.get("/items/" + std::to_string(i) + "?q=1");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), R"({"ok":true})");
  }
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[3].target, "/items/3?q=1");
  // Five requests, one client connection, one upstream connection: both sides were kept alive.
  EXPECT_EQ(upstream.connectionsAccepted(), 1u);
  EXPECT_TRUE(client.isOpen());
}

TEST(ProxyBasics, NoMatchingRouteIs404WithJsonErrorAndRequestId) {
  TestUpstream upstream;
  ProxyInstance proxy(
      testConfig(upstream.address(), "  - name: api\n    match: {prefix: /api/}\n    filters: []\n"));
  HttpClient client(proxy.port());
  const auto response = client.get("/elsewhere");
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  const auto body = boost::json::parse(response.body()).as_object();
  EXPECT_EQ(body.at("error").as_string(), "no route");
  EXPECT_EQ(body.at("request_id").as_string(), response["X-Request-ID"]);
  EXPECT_EQ(upstream.requestCount(), 0u);
  EXPECT_TRUE(client.isOpen());  // a 404 without a body does not cost the connection
  EXPECT_EQ(client.get("/api/x").result_int(), 200);
}

// A local answer on the wire: its length without its body for HEAD (the connection then serves the next
// request), its status line in the client's version, and the close an HTTP/1.0 client expects.
TEST(ProxyBasics, LocalRepliesFollowTheRequestsMethodAndVersion) {
  TestUpstream upstream;
  ProxyInstance proxy(
      testConfig(upstream.address(), "  - name: api\n    match: {prefix: /api/}\n    filters: []\n"));

  const auto get =
      rawExchange(proxy.port(), "GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto get_head_end = get.data.find("\r\n\r\n");
  ASSERT_NE(get_head_end, std::string::npos) << get.data;
  const auto body_size = get.data.size() - get_head_end - 4;
  ASSERT_GT(body_size, 0u);
  EXPECT_NE(get.data.find("Content-Length: " + std::to_string(body_size) + "\r\n"), std::string::npos)
      << get.data;

  const auto head = rawExchange(proxy.port(),
                                "HEAD /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /api/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(head.data.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << head.data;
  EXPECT_NE(head.data.find("Content-Length: " + std::to_string(body_size) + "\r\n"), std::string::npos)
      << head.data;
  const auto second = head.data.find("\r\n\r\n") + 4;
  EXPECT_EQ(head.data.compare(second, 15, "HTTP/1.1 200 OK"), 0) << "no body after the HEAD answer:\n"
                                                                 << head.data;
  EXPECT_TRUE(head.closed);

  const auto old = rawExchange(proxy.port(), "GET /elsewhere HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.data.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << old.data;
  EXPECT_EQ(old.data.size() - old.data.find("\r\n\r\n") - 4, body_size) << "the whole body:\n" << old.data;
  EXPECT_TRUE(old.closed);
  EXPECT_EQ(upstream.requestCount(), 1u);
}

TEST(ProxyBasics, RoutesMatchInOrderOnPrefixExactRegexMethodAndHost) {
  TestUpstream upstream([](const ReceivedRequest&) { return UpstreamReply{}; });
  const std::string routes =
      "  - name: exact\n    match: {exact: /health}\n    filters: [{headers: {response: {set: {X-Route: "
      "exact}}}}]\n"
      "  - name: regex\n    match: {regex: '^/users/[0-9]+$'}\n    filters: [{headers: {response: {set: "
      "{X-Route: regex}}}}]\n"
      "  - name: posts\n    match: {prefix: /items, methods: [POST]}\n    filters: [{headers: {response: "
      "{set: {X-Route: posts}}}}]\n"
      "  - name: host\n    match: {prefix: /, host: api.example.com}\n    filters: [{headers: {response: "
      "{set: {X-Route: host}}}}]\n"
      "  - name: rest\n    match: {prefix: /}\n    filters: [{headers: {response: {set: {X-Route: "
      "rest}}}}]\n";
  ProxyInstance proxy(testConfig(upstream.address(), routes));
  HttpClient client(proxy.port());
  EXPECT_EQ(client.get("/health")["X-Route"], "exact");
  EXPECT_EQ(client.get("/health/x")["X-Route"], "rest");
  EXPECT_EQ(client.get("/users/42")["X-Route"], "regex");
  EXPECT_EQ(client.get("/users/abc")["X-Route"], "rest");
  Request post{http::verb::post, "/items", 11};
  post.body() = "x";
  EXPECT_EQ(client.send(post)["X-Route"], "posts");
  EXPECT_EQ(client.get("/items")["X-Route"], "rest");
  EXPECT_EQ(client.get("/x", {{"Host", "API.example.com:8080"}})["X-Route"], "host");
}

TEST(ProxyBasics, AbsoluteFormTargetsAreRoutedByTheirAuthorityAndForwardedAsOriginForm) {
  // RFC 9112 §3.2.2: the authority of an absolute-form target replaces the Host field.
  TestUpstream upstream;
  const std::string routes =
      "  - name: api\n    match: {prefix: /, host: api.example.com}\n    filters: [{headers: {response: "
      "{set: {X-Route: api}}}}]\n"
      "  - name: rest\n    match: {prefix: /}\n    filters: [{headers: {response: {set: {X-Route: "
      "rest}}}}]\n";
  ProxyInstance proxy(testConfig(upstream.address(), routes));
  HttpClient client(proxy.port());
  Request absolute{http::verb::get, "http://API.example.com:8080/v1/items?page=2", 11};
  absolute.set(http::field::host, "other.example.com");
  const auto response = client.send(absolute);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response["X-Route"], "api");
  const auto received = upstream.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "/v1/items?page=2");
  EXPECT_EQ(received[0].header("host"), "API.example.com:8080");

  const auto no_path = rawExchange(proxy.port(), "GET HTTP://Example.com HTTP/1.1\r\nHost: x\r\n\r\n", 500ms);
  EXPECT_EQ(firstStatus(no_path.data), 200u) << no_path.data;
  EXPECT_EQ(upstream.requests().at(1).target, "/");
  const auto userinfo =
      rawExchange(proxy.port(), "GET http://user@api.example.com/ HTTP/1.1\r\nHost: x\r\n\r\n", 500ms);
  EXPECT_EQ(firstStatus(userinfo.data), 400u) << userinfo.data;
  EXPECT_EQ(upstream.requestCount(), 2u);
}

TEST(ProxyBasics, HopByHopHeadersAreRemovedBothWays) {
  TestUpstream upstream([](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.headers = {{"Connection", "X-Upstream-Private"},
                     {"X-Upstream-Private", "secret"},
                     {"Keep-Alive", "timeout=5"},
                     {"X-App", "kept"}};
    return reply;
  });
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  const auto response = client.get("/", {{"Connection", "keep-alive, X-Private"},
                                         {"X-Private", "1"},
                                         {"Keep-Alive", "timeout=10"},
                                         {"Proxy-Connection", "keep-alive"},
                                         {"TE", "trailers"},
                                         {"Trailer", "X-Sum"},
                                         {"X-End-To-End", "yes"}});
  ASSERT_EQ(upstream.requestCount(), 1u);
  const auto received = upstream.requests()[0];
  for (const char* name : {"x-private", "keep-alive", "proxy-connection", "te", "trailer"}) {
    EXPECT_FALSE(received.has(name)) << name;
  }
  EXPECT_EQ(received.header("x-end-to-end"), "yes");
  EXPECT_EQ(response["X-App"], "kept");
  EXPECT_EQ(response.count("X-Upstream-Private"), 0u);
  EXPECT_EQ(response.count("Keep-Alive"), 0u);
}

TEST(ProxyBasics, ForwardedHeadersFromAnUntrustedPeerAreReplaced) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll, "trusted_proxies: [10.0.0.0/8]\n"));
  HttpClient client(proxy.port());
  client.get("/", {{"X-Forwarded-For", "1.2.3.4"},
                   {"X-Forwarded-Proto", "https"},
                   {"X-Forwarded-Host", "evil.example"},
                   {"Host", "app.local"}});
  const auto received = upstream.requests().at(0);
  EXPECT_EQ(received.header("x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(received.header("x-forwarded-proto"), "http");
  EXPECT_EQ(received.header("x-forwarded-host"), "app.local");
}

TEST(ProxyBasics, ForwardedHeadersFromATrustedPeerAreKeptAndAppended) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll, "trusted_proxies: [127.0.0.1/32]\n"));
  HttpClient client(proxy.port());
  client.get("/",
             {{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}, {"Host", "app.local"}});
  const auto received = upstream.requests().at(0);
  EXPECT_EQ(received.header("x-forwarded-for"), "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(received.header("x-forwarded-proto"), "https");
}

TEST(ProxyBasics, RequestIdIsKeptWhenValidAndGeneratedOtherwise) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  const auto kept = client.get("/", {{"X-Request-ID", "abc-123"}});
  EXPECT_EQ(kept["X-Request-ID"], "abc-123");
  EXPECT_EQ(upstream.requests().at(0).header("x-request-id"), "abc-123");

  const auto replaced = client.get("/", {{"X-Request-ID", "bad id with spaces"}});
  const auto generated = std::string(replaced["X-Request-ID"]);
  EXPECT_FALSE(generated.empty());
  EXPECT_NE(generated, "bad id with spaces");
  EXPECT_EQ(upstream.requests().at(1).header("x-request-id"), generated);
  EXPECT_NE(client.get("/")["X-Request-ID"], generated);
}

TEST(ProxyBasics, HeadersFilterChangesBothSides) {
  TestUpstream upstream([](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.headers = {{"Server", "app/1.0"}};
    return reply;
  });
  const std::string routes =
      "  - name: app\n    match: {prefix: /}\n    filters:\n"
      "      - headers: {request: {remove: [X-Debug], set: {X-Env: test}, add: {X-Added: one}},"
      " response: {set: {Cache-Control: no-store}, remove: [Server]}}\n";
  ProxyInstance proxy(testConfig(upstream.address(), routes));
  HttpClient client(proxy.port());
  const auto response = client.get("/", {{"X-Debug", "1"}, {"X-Env", "prod"}});
  const auto received = upstream.requests().at(0);
  EXPECT_FALSE(received.has("x-debug"));
  EXPECT_EQ(received.header("x-env"), "test");
  EXPECT_EQ(received.header("x-added"), "one");
  EXPECT_EQ(response[http::field::cache_control], "no-store");
  EXPECT_EQ(response.count(http::field::server), 0u);
}

TEST(ProxyBasics, UpstreamDownIs502) {
  const auto dead = "127.0.0.1:" + std::to_string(freePort());
  ProxyInstance proxy(testConfig(dead, kCatchAll));
  HttpClient client(proxy.port());
  const auto response = client.get("/");
  EXPECT_EQ(response.result_int(), 502);
  EXPECT_EQ(boost::json::parse(response.body()).at("error").as_string(), "upstream unavailable");
}

TEST(ProxyBasics, SlowUpstreamIs504WithinResponseTimeout) {
  TestUpstream upstream([](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.delay = 1500ms;
    return reply;
  });
  auto yaml = testConfig(upstream.address(), kCatchAll);
  yaml.replace(yaml.find("response_timeout: 2s"), 20, "response_timeout: 300ms");
  ProxyInstance proxy(yaml);
  HttpClient client(proxy.port());
  const auto start = std::chrono::steady_clock::now();
  const auto response = client.get("/");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.result_int(), 504);
  EXPECT_LT(took, 1200ms);
}

TEST(ProxyBasics, HeadAnd204And304CarryNoBody) {
  TestUpstream upstream([](const ReceivedRequest& request) {
    UpstreamReply reply;
    if (request.target == "/204") reply.status = 204, reply.body.clear();
    if (request.target == "/304") reply.status = 304, reply.body.clear();
    return reply;
  });
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  Request head{http::verb::head, "/", 11};
  const auto head_response = client.send(head);
  EXPECT_EQ(head_response.result_int(), 200);
  EXPECT_TRUE(head_response.body().empty());
  EXPECT_EQ(head_response[http::field::content_length], "11");
  EXPECT_EQ(client.get("/204").result_int(), 204);
  EXPECT_EQ(client.get("/304").result_int(), 304);
  // The connection is still in sync: a body-less response did not swallow the next one.
  EXPECT_EQ(client.get("/").body(), R"({"ok":true})");
}

TEST(ProxyBasics, BodyOverTheRouteLimitIs413) {
  TestUpstream upstream;
  const std::string routes =
      "  - name: small\n    match: {prefix: /small}\n    body_bytes: 10\n    filters: []\n" + kCatchAll;
  ProxyInstance proxy(testConfig(upstream.address(), routes));
  const auto declared =
      rawExchange(proxy.port(), "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890");
  EXPECT_EQ(firstStatus(declared.data), 413u);
  const auto chunked = rawExchange(proxy.port(),
                                   "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "6\r\n012345\r\n6\r\n678901\r\n0\r\n\r\n");
  EXPECT_EQ(firstStatus(chunked.data), 413u);
  HttpClient client(proxy.port());
  Request fine{http::verb::post, "/other", 11};
  fine.body() = std::string(100, 'a');
  EXPECT_EQ(client.send(fine).result_int(), 200);
}

TEST(ProxyBasics, OversizedUriAndHeadersAre414And431) {
  TestUpstream upstream;
  auto yaml = testConfig(upstream.address(), kCatchAll, "limits: {uri_bytes: 100, header_bytes: 1KiB}\n");
  ProxyInstance proxy(yaml);
  const auto uri =
      rawExchange(proxy.port(), "GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(firstStatus(uri.data), 414u);
  const auto headers =
      rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'b') + "\r\n\r\n");
  EXPECT_EQ(firstStatus(headers.data), 431u);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST(ProxyBasics, PipelinedRequestsAreAnsweredInOrder) {
  TestUpstream upstream([](const ReceivedRequest& request) {
    UpstreamReply reply;
    reply.body = request.target;
    // The first is the slowest: answers must still come back in request order.
    if (request.target == "/1") reply.delay = 100ms;
    return reply;
  });
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  const auto result = rawExchange(proxy.port(),
                                  "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                  3s);
  const auto first = result.data.find("\r\n\r\n/1");
  const auto second = result.data.find("\r\n\r\n/2");
  const auto third = result.data.find("\r\n\r\n/3");
  ASSERT_NE(first, std::string::npos) << result.data;
  ASSERT_NE(second, std::string::npos) << result.data;
  ASSERT_NE(third, std::string::npos) << result.data;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_TRUE(result.closed);
}

// Forty requests in one write: each answer's write continues straight into the next buffered request
// (proxy/direct_write.h), and every one must still be answered, once, in order.
TEST(ProxyBasics, ManyPipelinedRequestsInOneWriteAreAllAnsweredInOrder) {
  TestUpstream upstream([](const ReceivedRequest& request) {
    UpstreamReply reply;
    reply.body = request.target;
    return reply;
  });
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  constexpr int kRequests = 40;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) {
    requests += "GET /r" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n";
    requests += i + 1 == kRequests ? "Connection: close\r\n\r\n" : "\r\n";
  }
  const auto result = rawExchange(proxy.port(), requests, 5s);
  std::size_t from = 0;
  for (int i = 0; i < kRequests; ++i) {
    const std::string body = "/r" + std::to_string(i);
    const auto at = result.data.find("\r\n\r\n" + body, from);
    ASSERT_NE(at, std::string::npos) << "answer " << i << " missing or out of order:\n" << result.data;
    from = at + 4 + body.size();
    // The body ends there: the next response's status line, or the end of the stream.
    EXPECT_TRUE(from == result.data.size() || result.data.compare(from, 5, "HTTP/") == 0) << body;
  }
  EXPECT_EQ(upstream.requestCount(), static_cast<std::size_t>(kRequests));
  EXPECT_TRUE(result.closed);
}

TEST(ProxyBasics, SlowlorisGets408AndIsClosed) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll, "limits: {header_timeout: 300ms}\n"));
  const auto start = std::chrono::steady_clock::now();
  const auto result = rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1", 3s);
  EXPECT_EQ(firstStatus(result.data), 408u);
  EXPECT_TRUE(result.closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST(ProxyBasics, StalePooledConnectionIsDetectedAndReplaced) {
  std::atomic<int> served{0};
  TestUpstream upstream([&](const ReceivedRequest&) {
    UpstreamReply reply;
    // The app announces keep-alive but closes right after the first answer, as apps with short idle timeouts
    // do.
    reply.drop_after = served++ == 0;
    return reply;
  });
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  EXPECT_EQ(client.get("/a").result_int(), 200);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(client.get("/b").result_int(), 200);
  EXPECT_EQ(upstream.connectionsAccepted(), 2u);
}

}  // namespace
}  // namespace gatehouse::testing

namespace gatehouse::testing {
namespace {

TEST(ProxyLimits, AnIdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll, "limits: {idle_timeout: 200ms}\n"));
  HttpClient client(proxy.port());
  EXPECT_EQ(client.get("/").result_int(), 200);
  EXPECT_TRUE(client.isOpen());
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (client.isOpen() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(client.isOpen()) << "the idle connection was not closed";
}

TEST(ProxyLimits, ConnectionsPastMaxConnectionsAreClosedAtOnce) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll, "limits: {max_connections: 2}\n"));
  HttpClient first(proxy.port());
  HttpClient second(proxy.port());
  EXPECT_EQ(first.get("/").result_int(), 200);
  EXPECT_EQ(second.get("/").result_int(), 200);
  // A third connection is accepted by the kernel and closed by the worker without an answer.
  const auto refused = rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1s);
  EXPECT_TRUE(refused.closed);
  EXPECT_EQ(firstStatus(refused.data), 0u);
  // The first two still work, and once one goes, a new connection is served again.
  EXPECT_EQ(first.get("/").result_int(), 200);
  {
    HttpClient gone(proxy.port());  // closed at once as well
  }
  second.socket().close();
  std::this_thread::sleep_for(50ms);
  HttpClient third(proxy.port());
  EXPECT_EQ(third.get("/").result_int(), 200);
}

}  // namespace
}  // namespace gatehouse::testing
