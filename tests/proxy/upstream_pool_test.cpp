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

config::UpstreamConfig upstreamAt(std::uint16_t port, std::size_t max_idle) {
  config::UpstreamConfig config;
  config.address.host = "127.0.0.1";
  config.address.port = port;
  config.address.text = "127.0.0.1:" + std::to_string(port);
  config.max_idle = max_idle;
  config.connect_timeout = 1s;
  return config;
}

// Opens `count` connections at once, as a burst of requests would.
std::vector<UpstreamConnectionPtr> connectMany(asio::io_context& io, UpstreamPool& pool, std::size_t count) {
  std::vector<UpstreamConnectionPtr> connections;
  std::size_t failed = 0;
  for (std::size_t i = 0; i < count; ++i) {
    pool.connect([&](boost::system::error_code ec, UpstreamConnectionPtr connection) {
      if (ec) ++failed;
      if (connection) connections.push_back(std::move(connection));
    });
  }
  EXPECT_TRUE(testing::runUntil(
      io, [&] { return connections.size() + failed == count; }, 5000ms));
  EXPECT_EQ(failed, 0u);
  return connections;
}

TEST(UpstreamPool, ABurstAboveMaxIdleIsKeptUntilTheSweepThenTrimmedToMaxIdle) {
  asio::io_context io;
  Listener listener(io);
  const auto config = upstreamAt(listener.port(), 4);
  UpstreamPool pool(io, config);
  auto burst = connectMany(io, pool, 10);
  for (auto& connection : burst) pool.release(std::move(connection));
  // Released together: all kept for now, so the next burst reuses them instead of connecting again.
  EXPECT_EQ(pool.idleCount(), 10u);
  std::vector<UpstreamConnectionPtr> again;
  std::size_t reused = 0;
  while (auto idle = pool.takeIdle()) {
    EXPECT_TRUE(idle->reused);
    again.push_back(std::move(idle));
    ++reused;
  }
  EXPECT_EQ(reused, 10u);
  for (auto& connection : again) pool.release(std::move(connection));
  // The sweep (once a second) closes the excess, longest idle first.
  EXPECT_TRUE(testing::runUntil(
      io, [&] { return pool.idleCount() == 4u; }, 2500ms))
      << pool.idleCount();
  pool.shutdown();
}

TEST(UpstreamPool, NeverKeepsMoreThanFourTimesMaxIdle) {
  asio::io_context io;
  Listener listener(io);
  const auto config = upstreamAt(listener.port(), 2);
  UpstreamPool pool(io, config);
  auto burst = connectMany(io, pool, 12);
  for (auto& connection : burst) pool.release(std::move(connection));
  EXPECT_EQ(pool.idleCount(), 8u);
  pool.shutdown();
}

TEST(UpstreamPool, MaxIdleZeroKeepsNothing) {
  asio::io_context io;
  Listener listener(io);
  const auto config = upstreamAt(listener.port(), 0);
  UpstreamPool pool(io, config);
  auto burst = connectMany(io, pool, 2);
  for (auto& connection : burst) pool.release(std::move(connection));
  EXPECT_EQ(pool.idleCount(), 0u);
  EXPECT_EQ(pool.takeIdle(), nullptr);
  pool.shutdown();
}

TEST(UpstreamPool, TheMostRecentlyReleasedConnectionIsTakenFirst) {
  asio::io_context io;
  Listener listener(io);
  const auto config = upstreamAt(listener.port(), 4);
  UpstreamPool pool(io, config);
  auto pair = connectMany(io, pool, 2);
  const auto* last = pair[1].get();
  pool.release(std::move(pair[0]));
  pool.release(std::move(pair[1]));
  EXPECT_EQ(pool.takeIdle().get(), last);
  pool.shutdown();
}

}  // namespace
}  // namespace gatehouse::proxy
