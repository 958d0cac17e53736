// The header-field arena through real sockets: a worker lends a connection a block only while an exchange is
// in progress and gets it back however the exchange ends (response, local reply, client gone, shutdown); a
// steady keep-alive load reuses one block; headers larger than the block still arrive whole.
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include "proxy/access_log.h"
#include "proxy/http/field_block_pool.h"
#include "proxy/runtime.h"
#include "proxy/worker.h"
#include "store/store_factory.h"
#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {

using BlockPool = gatehouse::http::FieldBlockPool;
using BlockStats = BlockPool::Stats;

// One worker on its thread, as the server runs it, so that the test can look at that worker's block pool.
class WorkerUnderTest {
 public:
  explicit WorkerUnderTest(const std::string& yaml)
      : runtime_(proxy::buildRuntime(loadTestConfig(yaml))),
        memory_(store::makeMemoryStore(runtime_->config->store)),
        access_log_(runtime_->config->log.access),
        worker_(0, runtime_, memory_, access_log_) {
    worker_.start(0);
  }

  std::uint16_t port() const { return worker_.listenPort(); }
  proxy::Worker& worker() { return worker_; }

  // The pool's figures, read on the worker's thread (the pool has no lock).
  BlockStats blocks() {
    std::promise<BlockStats> stats;
    auto answer = stats.get_future();
    boost::asio::post(worker_.io(), [&] { stats.set_value(worker_.fieldBlocks().stats()); });
    if (answer.wait_for(5s) != std::future_status::ready) throw std::runtime_error("worker not answering");
    return answer.get();
  }

  // Polls blocks() until `done` holds or `timeout` passes; returns the last figures. A connection gives its
  // block back right after its last write completes, which may be just after the client has read it.
  template <class Done>
  BlockStats waitFor(Done&& done, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto stats = blocks();
    while (!done(stats) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      stats = blocks();
    }
    return stats;
  }

 private:
  std::shared_ptr<const proxy::Runtime> runtime_;
  std::shared_ptr<store::MemoryStore> memory_;
  proxy::AccessLog access_log_;
  proxy::Worker worker_;
};

bool noneLent(const BlockStats& stats) {
  return stats.lent == 0;
}

bool oneLent(const BlockStats& stats) {
  return stats.lent == 1;
}

// An app that answers after `delay`: its exchanges stay in progress that long.
TestUpstream::Handler answeringAfter(std::chrono::milliseconds delay) {
  return [delay](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.delay = delay;
    return reply;
  };
}

// A client connection that sends raw bytes and can leave whenever the test says.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }
  void send(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }
  void leave() { socket_.close(); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
};

TEST(FieldArena, KeepAliveExchangesReuseOneBlockAndIdleConnectionsHoldNone) {
  TestUpstream upstream;
  WorkerUnderTest proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  for (int i = 0; i < 20; ++i) {
    const auto response = client.get(
        "/items/" + std::to_string(i),
        {{"Accept", "application/json"}, {"Cookie", "theme=dark"}, {"X-Trace", std::to_string(i)}});
    ASSERT_EQ(response.result_int(), 200);
  }
  // A connection with nothing sent and one with half a head are idle too: no block for them.
  HttpClient silent(proxy.port());
  RawClient partial(proxy.port());
  partial.send("GET /slow HTTP/1.1\r\nHost: loc");

  const auto stats = proxy.waitFor(noneLent);
  EXPECT_EQ(stats.lent, 0u);             // the three connections are open and idle: none holds a block
  EXPECT_EQ(stats.created, 1u);          // twenty exchanges, one block
  EXPECT_EQ(stats.spare, 1u);            // back in the pool
  EXPECT_GT(stats.most_used_bytes, 0u);  // the fields were in it: the parsers used the arena
  EXPECT_EQ(stats.heap_allocations, 0u);
  EXPECT_TRUE(client.isOpen());
  EXPECT_EQ(upstream.requests().back().header("x-trace"), "19");
}

TEST(FieldArena, ALocalReplyGivesTheBlockBack) {
  TestUpstream upstream;
  WorkerUnderTest proxy(
      testConfig(upstream.address(), "  - name: api\n    match: {prefix: /api/}\n    filters: []\n"));
  HttpClient client(proxy.port());
  EXPECT_EQ(client.get("/elsewhere").result_int(), 404);  // the proxy's own answer, kept alive
  auto stats = proxy.waitFor(noneLent);
  EXPECT_EQ(stats.lent, 0u);
  EXPECT_EQ(stats.spare, 1u);
  EXPECT_EQ(stats.heap_allocations, 0u);  // the 404's fields were in the block too

  EXPECT_EQ(client.get("/api/x").result_int(), 200);
  stats = proxy.waitFor(noneLent);
  EXPECT_EQ(stats.lent, 0u);
  EXPECT_EQ(stats.created, 1u);
}

TEST(FieldArena, HeadersLargerThanTheBlockGoToTheHeapAndArriveWhole) {
  TestUpstream upstream([](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.headers = {{"X-Large-Reply", std::string(3000, 'r')}};
    return reply;
  });
  WorkerUnderTest proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  std::vector<std::pair<std::string, std::string>> headers;
  for (int i = 0; i < 24; ++i) {
    headers.emplace_back("X-Big-" + std::to_string(i), std::string(300, static_cast<char>('a' + i)));
  }
  const auto response = client.get("/big", headers);
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response["X-Large-Reply"], std::string(3000, 'r'));
  const auto received = upstream.requests().at(0);
  for (int i = 0; i < 24; ++i) {
    EXPECT_EQ(received.header("x-big-" + std::to_string(i)), std::string(300, static_cast<char>('a' + i)));
  }
  const auto stats = proxy.waitFor(noneLent);
  EXPECT_GT(stats.heap_allocations, 0u);  // ~8 KiB of fields in a 4 KiB block: the rest went to the heap
  EXPECT_LE(stats.most_used_bytes, BlockPool::kBlockBytes);
  EXPECT_EQ(stats.lent, 0u);
  EXPECT_EQ(stats.spare, 1u);
  EXPECT_EQ(client.get("/small").result_int(), 200);  // and the connection goes on as usual
}

TEST(FieldArena, ABlockIsLentOnlyWhileAnExchangeIsInProgress) {
  TestUpstream upstream(answeringAfter(500ms));
  WorkerUnderTest proxy(testConfig(upstream.address(), kCatchAll));
  HttpClient client(proxy.port());
  auto pending = std::async(std::launch::async, [&] { return client.get("/slow").result_int(); });
  EXPECT_EQ(proxy.waitFor(oneLent).lent, 1u);
  EXPECT_EQ(pending.get(), 200u);
  EXPECT_EQ(proxy.waitFor(noneLent).lent, 0u);
}

TEST(FieldArena, AClientThatLeavesMidExchangeGivesTheBlockBack) {
  TestUpstream upstream(answeringAfter(300ms));
  WorkerUnderTest proxy(testConfig(upstream.address(), kCatchAll));
  RawClient client(proxy.port());
  client.send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_EQ(proxy.waitFor(oneLent).lent, 1u);
  client.leave();
  const auto stats = proxy.waitFor(noneLent);
  EXPECT_EQ(stats.lent, 0u);
  EXPECT_EQ(stats.spare, 1u);
}

TEST(FieldArena, AnOpenTunnelHoldsNoBlock) {
  TestUpstream upstream;
  WorkerUnderTest proxy(testConfig(upstream.address(), kCatchAll));
  boost::asio::io_context io;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws(io);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), proxy.port()});
  ws.handshake("localhost", "/ws");
  ws.write(boost::asio::buffer(std::string("hello")));
  boost::beast::flat_buffer echoed;
  ws.read(echoed);
  EXPECT_EQ(boost::beast::buffers_to_string(echoed.data()), "hello");
  // The 101 went out and bytes flow both ways: the exchange is over as far as headers go.
  const auto stats = proxy.waitFor(noneLent);
  EXPECT_EQ(stats.lent, 0u);
  EXPECT_EQ(stats.spare, 1u);
  ws.close(boost::beast::websocket::close_code::normal);
}

TEST(FieldArena, AStopMidExchangeGivesTheBlockBack) {
  TestUpstream upstream(answeringAfter(1s));
  WorkerUnderTest proxy(testConfig(upstream.address(), kCatchAll));
  RawClient client(proxy.port());
  client.send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_EQ(proxy.waitFor(oneLent).lent, 1u);
  proxy.worker().stop();  // past drain_timeout: the connection is aborted and destroyed
  // The worker's thread has been joined: its pool can be read from here.
  const auto stats = proxy.worker().fieldBlocks().stats();
  EXPECT_EQ(stats.lent, 0u);
  EXPECT_EQ(stats.spare, 1u);
}

}  // namespace
}  // namespace gatehouse::testing
