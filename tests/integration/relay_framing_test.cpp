// How the relay frames what it passes on when a peer's framing is unusual: a body that ends when the app
// closes, HTTP/1.0 clients, a head whose body has not come yet, and chunk framing that is malformed or never
// ends. Real sockets both ways; every wait is bounded.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <boost/asio/write.hpp>

#include "tests/integration/hand_written_app.h"
#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {
namespace asio = boost::asio;

tcp::socket connectTo(asio::io_context& io, std::uint16_t port) {
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return socket;
}

// Blocking reads on `socket` fail once `timeout` passes without a byte.
void setReadTimeout(tcp::socket& socket, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

std::string bodyOf(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

const std::string kThousandBytes(1000, 'x');

TEST(RelayFraming, BodyWithoutLengthEndsWhenTheAppClosesNotAtTheResponseTimeout) {
  // The app sends head and body in one write and closes at once, so its last bytes and its FIN reach the
  // proxy together: a relay that takes a short read for "the socket is empty" never sees the end and cuts
  // the response off at response_timeout (2 s here) without its last chunk.
  constexpr int kRequests = 5;
  HandWrittenApp app;
  std::thread app_thread([&] {
    for (int i = 0; i < kRequests; ++i) {
      tcp::socket socket(app.io());
      if (!app.acceptRequest(socket)) return;
      asio::write(socket,
                  asio::buffer("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + kThousandBytes));
      socket.close();
    }
  });
  {
    ProxyInstance proxy(testConfig(app.address(), kCatchAll));
    asio::io_context io;
    tcp::socket client = connectTo(io, proxy.port());
    setReadTimeout(client, 1000ms);  // half the response timeout
    for (int i = 0; i < kRequests; ++i) {
      asio::write(client, asio::buffer(std::string("GET /report HTTP/1.1\r\nHost: x\r\n\r\n")));
      std::string received;
      if (!readUntilContains(client, received, "\r\n0\r\n\r\n")) {
        ADD_FAILURE() << "request " << i << ": no last chunk within 1 s; got " << received.size() << " bytes";
        break;  // not ASSERT: the app thread must be joined below
      }
      EXPECT_EQ(firstStatus(received), 200u);
      EXPECT_NE(received.find("Transfer-Encoding: chunked\r\n"), std::string::npos)
          << received.substr(0, 300);
      EXPECT_EQ(bodyOf(received), "3e8\r\n" + kThousandBytes + "\r\n0\r\n\r\n");
    }
  }
  app_thread.join();
}

TEST(RelayFraming, Http10ClientGetsABodyOfUnknownLengthDelimitedByTheClose) {
  // HTTP/1.0 has no chunked framing: the relay must end such a body by closing, whether the app sent it
  // chunked or delimited by its own close.
  TestUpstream upstream([](const ReceivedRequest& request) {
    UpstreamReply reply;
    reply.body = kThousandBytes;
    reply.chunked = request.target == "/chunked";
    return reply;
  });
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  const auto result = rawExchange(proxy.port(), "GET /chunked HTTP/1.0\r\nHost: x\r\n\r\n", 2s);
  EXPECT_EQ(firstStatus(result.data), 200u) << result.data;
  EXPECT_EQ(result.data.rfind("HTTP/1.0 200", 0), 0u) << result.data.substr(0, 100);
  EXPECT_EQ(result.data.find("Transfer-Encoding"), std::string::npos) << result.data.substr(0, 300);
  EXPECT_EQ(bodyOf(result.data), kThousandBytes);
  EXPECT_TRUE(result.closed);

  HandWrittenApp app;
  std::thread app_thread([&] {
    tcp::socket socket(app.io());
    if (!app.acceptRequest(socket)) return;
    asio::write(socket, asio::buffer("HTTP/1.1 200 OK\r\n\r\n" + kThousandBytes));
    socket.close();
  });
  ProxyInstance close_delimited(testConfig(app.address(), kCatchAll));
  const auto until_close = rawExchange(
      close_delimited.port(), "GET /stream HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", 2s);
  app_thread.join();
  EXPECT_EQ(firstStatus(until_close.data), 200u) << until_close.data;
  EXPECT_EQ(until_close.data.find("Transfer-Encoding"), std::string::npos) << until_close.data.substr(0, 300);
  EXPECT_EQ(bodyOf(until_close.data), kThousandBytes);
  EXPECT_TRUE(until_close.closed);
}

TEST(RelayFraming, Http10KeepAliveIsAnsweredWithConnectionKeepAlive) {
  // An HTTP/1.0 connection closes after each response unless the response says "Connection: keep-alive".
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  const auto result = rawExchange(proxy.port(),
                                  "GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
                                  "GET /b HTTP/1.0\r\nHost: x\r\n\r\n",
                                  2s);
  const auto second = result.data.find("HTTP/1.0 200", 1);
  ASSERT_NE(second, std::string::npos) << result.data;
  const auto first = result.data.substr(0, second);
  EXPECT_NE(first.find("\r\nConnection: keep-alive\r\n"), std::string::npos) << first;
  EXPECT_NE(first.find("\r\nContent-Length: 11\r\n"), std::string::npos) << first;
  EXPECT_EQ(result.data.find("\r\nConnection: keep-alive\r\n", second), std::string::npos) << result.data;
  EXPECT_TRUE(result.closed);  // after the second response, whose request did not ask to keep the connection
  EXPECT_EQ(upstream.requestCount(), 2u);
}

TEST(RelayFraming, ResponseHeadIsRelayedBeforeTheFirstBodyByte) {
  // The app sends its head, and its body only once the client has the head (or after 3 s).
  HandWrittenApp app;
  std::promise<void> client_saw_head;
  auto saw_head = client_saw_head.get_future();
  std::atomic<bool> body_sent{false};
  std::thread app_thread([&] {
    tcp::socket socket(app.io());
    if (!app.acceptRequest(socket)) return;
    asio::write(
        socket,
        asio::buffer(std::string(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")));
    saw_head.wait_for(3s);
    body_sent = true;
    asio::write(socket, asio::buffer(std::string("5\r\nhello\r\n0\r\n\r\n")));
    HandWrittenApp::holdUntilClosed(socket);
  });
  {
    ProxyInstance proxy(testConfig(app.address(), kCatchAll));
    asio::io_context io;
    tcp::socket client = connectTo(io, proxy.port());
    setReadTimeout(client, 5000ms);
    asio::write(client, asio::buffer(std::string("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::string received;
    EXPECT_TRUE(readUntilContains(client, received, "\r\n\r\n"));
    EXPECT_FALSE(body_sent.load()) << "the head reached the client only after the app sent the body";
    EXPECT_EQ(firstStatus(received), 200u) << received;
    client_saw_head.set_value();
    EXPECT_TRUE(readUntilContains(client, received, "5\r\nhello\r\n0\r\n\r\n")) << received;
  }
  app_thread.join();
}

TEST(RelayFraming, MalformedChunkFromTheAppBeforeAnyByteIsRelayedIs502) {
  HandWrittenApp app;
  std::thread app_thread([&] {
    app.answerOnce(
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"));
  });
  {
    ProxyInstance proxy(testConfig(app.address(), kCatchAll));
    const auto result = rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
    EXPECT_EQ(firstStatus(result.data), 502u) << result.data;
    EXPECT_NE(result.data.find("\"error\":\"upstream error\""), std::string::npos) << result.data;
    EXPECT_TRUE(result.closed);
  }
  app_thread.join();
}

TEST(RelayFraming, ATransferCodingOtherThanChunkedFromTheAppIs502) {
  // The relay drops the app's Transfer-Encoding and frames the body itself: a gzip coding under it would
  // reach the client undeclared.
  HandWrittenApp app;
  std::thread app_thread([&] {
    app.answerOnce("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  });
  {
    ProxyInstance proxy(testConfig(app.address(), kCatchAll));
    const auto result = rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
    EXPECT_EQ(firstStatus(result.data), 502u) << result.data;
    EXPECT_EQ(result.data.find("hello"), std::string::npos) << result.data;
  }
  app_thread.join();
}

TEST(RelayFraming, AResponseCutShortIsStillInTheAccessLog) {
  // The app promises 100000 bytes, sends 10 and closes: the client's response is cut off, and the access log
  // must still say so (it used to log only exchanges that ended well).
  HandWrittenApp app;
  std::thread app_thread([&] {
    tcp::socket socket(app.io());
    if (!app.acceptRequest(socket)) return;
    asio::write(socket,
                asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789")));
  });
  std::string yaml = testConfig(app.address(), kCatchAll);
  yaml.replace(yaml.find("access: off"), 11, "access: json");
  const auto port = freePort();
  ProxyProcess proxy(withPort(yaml, port), port);
  const auto result =
      rawExchange(port, "GET /cut-short HTTP/1.1\r\nHost: x\r\nX-Request-ID: cut-1\r\n\r\n", 2s);
  app_thread.join();
  EXPECT_EQ(firstStatus(result.data), 200u);
  EXPECT_TRUE(result.closed);
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(5s), 0);
  const auto log = proxy.stderrText();
  const auto line_start = log.find(R"({"method":"GET","target":"/cut-short")");
  ASSERT_NE(line_start, std::string::npos) << log;
  const auto line = log.substr(line_start, log.find('\n', line_start) - line_start);
  EXPECT_NE(line.find(R"("status":200)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("request_id":"cut-1")"), std::string::npos) << line;
}

TEST(RelayFraming, EndlessChunkLineFromTheAppCutsTheResponseOff) {
  // A chunk-size line that never ends: the relay must not buffer it without limit (nor wait for the response
  // timeout). The head may have gone already, so the response is cut off: no last chunk, connection closed.
  HandWrittenApp app;
  std::thread app_thread([&] {
    app.answerOnce("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + std::string(64 * 1024, 'a'));
  });
  {
    ProxyInstance proxy(testConfig(app.address(), kCatchAll));
    const auto result = rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1500ms);
    EXPECT_TRUE(result.closed) << "still open after 1.5 s";
    EXPECT_EQ(result.data.find("0\r\n\r\n"), std::string::npos) << result.data.substr(0, 300);
    EXPECT_EQ(result.data.find("aaaa"), std::string::npos);
  }
  app_thread.join();
}

TEST(RelayFraming, AnUploadRefusedAtItsHeadCanStillBeSentWholeAndItsAnswerRead) {
  // 413 goes out as soon as the head declares too large a body, while the client is still sending it.
  // Closing with those bytes unread would reset the connection under the client's write (and can take the
  // answer with it); the proxy drains the client for a few seconds first, as nginx's lingering close does.
  TestUpstream upstream;
  ProxyInstance proxy(
      testConfig(upstream.address(), "  - name: app\n    match: {prefix: /}\n    body_bytes: 1KiB\n"));
  asio::io_context io;
  tcp::socket client = connectTo(io, proxy.port());
  setReadTimeout(client, 3000ms);
  const std::string body(4 * 1024 * 1024, 'b');
  boost::system::error_code write_error;
  asio::write(client,
              asio::buffer("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body),
              write_error);
  EXPECT_FALSE(write_error) << "the proxy reset the connection under the upload: " << write_error.message();
  std::string received;
  readUntilContains(client, received, "}");
  EXPECT_EQ(firstStatus(received), 413u) << received.substr(0, 300);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

// A request body whose chunk framing is refused: 400, closed, at once (well before idle_timeout).
struct BadChunks {
  const char* name;
  std::string body;
};

// Names the vector in test output instead of dumping its 64 KiB.
void PrintTo(const BadChunks& vector, std::ostream* out) {
  *out << vector.name;
}

class BadRequestChunks : public ::testing::TestWithParam<BadChunks> {};

TEST_P(BadRequestChunks, AreAnswered400AndClosed) {
  TestUpstream upstream;
  ProxyInstance proxy(testConfig(upstream.address(), kCatchAll));
  const auto result = rawExchange(
      proxy.port(),
      "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + GetParam().body, 2s);
  EXPECT_EQ(firstStatus(result.data), 400u) << result.data.substr(0, 300);
  EXPECT_TRUE(result.closed);
  EXPECT_EQ(upstream.requestCount(), 0u);  // the app never answered a request it did not get whole
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, BadRequestChunks,
    ::testing::Values(BadChunks{"BareLineFeeds", "5\nhello\n0\n\n"},
                      BadChunks{"EndlessChunkLine", "5;" + std::string(64 * 1024, 'a')},
                      BadChunks{"EndlessTrailer", "0\r\nX-Trailer: " + std::string(64 * 1024, 'a')},
                      BadChunks{"MalformedTrailer", "0\r\nBad Trailer\r\n\r\n"}),
    [](const ::testing::TestParamInfo<BadChunks>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace gatehouse::testing
