// The upstream pool against a real listening socket on loopback: connections it hands out, keeps and closes.
#include "proxy/upstream_pool.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>

#include "tests/support/run_until.h"

namespace gatehouse::proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A listener that accepts every connection and holds it open, counting them.
class Listener {
 public:
  explicit Listener(asio::io_context& io) : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      accepted_.push_back(std::move(socket));
      accept();
    });
  }
  asio::ip::tcp::acceptor acceptor_;
  std::vector<asio::ip::tcp::socket> accepted_;
};

// A pool with `max_idle` in front of a loopback listener.
class PoolTest {
 public:
  explicit PoolTest(std::size_t max_idle) : listener_(io_), config_(upstreamAt(listener_.port(), max_idle)) {}
  ~PoolTest() { pool_.shutdown(); }

  UpstreamPool& pool() { return pool_; }
  asio::io_context& io() { return io_; }

  // Opens `count` connections at once, as a burst of requests would.
  std::vector<UpstreamConnectionPtr> connectMany(std::size_t count) {
    std::vector<UpstreamConnectionPtr> connections;
    std::size_t failed = 0;
    for (std::size_t i = 0; i < count; ++i) {
      pool_.connect([&](boost::system::error_code ec, UpstreamConnectionPtr connection) {
        if (ec) ++failed;
        if (connection) connections.push_back(std::move(connection));
      });
    }
    EXPECT_TRUE(testing::runUntil(
        io_, [&] { return connections.size() + failed == count; }, 5000ms));
    EXPECT_EQ(failed, 0u);
    return connections;
  }

  void releaseAll(std::vector<UpstreamConnectionPtr>& connections) {
    for (auto& connection : connections) pool_.release(std::move(connection));
  }

 private:
  static config::UpstreamConfig upstreamAt(std::uint16_t port, std::size_t max_idle) {
    config::UpstreamConfig config;
    config.address.host = "127.0.0.1";
    config.address.port = port;
    config.address.text = "127.0.0.1:" + std::to_string(port);
    config.max_idle = max_idle;
    config.connect_timeout = 1s;
    return config;
  }

  asio::io_context io_;
  Listener listener_;
  config::UpstreamConfig config_;
  UpstreamPool pool_{io_, config_};
};

TEST(UpstreamPool, ABurstAboveMaxIdleIsKeptUntilTheSweepThenTrimmedToMaxIdle) {
  PoolTest test(4);
  auto burst = test.connectMany(10);
  test.releaseAll(burst);
  // Released together: all kept for now, so the next burst reuses them instead of connecting again.
  EXPECT_EQ(test.pool().idleCount(), 10u);
  std::vector<UpstreamConnectionPtr> again;
  while (auto idle = test.pool().takeIdle()) {
    EXPECT_TRUE(idle->reused);
    again.push_back(std::move(idle));
  }
  EXPECT_EQ(again.size(), 10u);
  test.releaseAll(again);
  // The sweep (once a second) closes the excess, longest idle first.
  EXPECT_TRUE(testing::runUntil(
      test.io(), [&] { return test.pool().idleCount() == 4u; }, 2500ms))
      << test.pool().idleCount();
}

TEST(UpstreamPool, NeverKeepsMoreThanFourTimesMaxIdle) {
  PoolTest test(2);
  auto burst = test.connectMany(12);
  test.releaseAll(burst);
  EXPECT_EQ(test.pool().idleCount(), 8u);
}

TEST(UpstreamPool, MaxIdleZeroKeepsNothing) {
  PoolTest test(0);
  auto burst = test.connectMany(2);
  test.releaseAll(burst);
  EXPECT_EQ(test.pool().idleCount(), 0u);
  EXPECT_EQ(test.pool().takeIdle(), nullptr);
}

TEST(UpstreamPool, TheMostRecentlyReleasedConnectionIsTakenFirst) {
  PoolTest test(4);
  auto pair = test.connectMany(2);
  const auto* last = pair[1].get();
  test.releaseAll(pair);
  EXPECT_EQ(test.pool().takeIdle().get(), last);
}

}  // namespace
}  // namespace gatehouse::proxy
