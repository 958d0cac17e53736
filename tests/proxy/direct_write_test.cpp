#include "proxy/direct_write.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

namespace gatehouse::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Socket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;

struct Written {
  boost::system::error_code ec;
  std::size_t bytes = 0;
};

class DirectWriteTest : public ::testing::Test {
 protected:
  DirectWriteTest() {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    socket_.connect(acceptor.local_endpoint());
    acceptor.accept(peer_);
  }

  std::string receive(std::size_t bytes) {
    std::string data(bytes, '\0');
    asio::read(peer_, asio::buffer(data));
    return data;
  }

  asio::io_context io_;
  Socket socket_{io_};
  tcp::socket peer_{io_};
  unsigned depth_ = 0;
};

TEST_F(DirectWriteTest, WhatTheKernelTakesAtOnceCompletesBeforeTheCallReturns) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  const std::string body = "{}";
  const std::array<asio::const_buffer, 3> parts{asio::buffer(head), asio::const_buffer(), asio::buffer(body)};
  std::optional<Written> written;
  writeDirect(socket_, std::span<const asio::const_buffer>(parts), depth_,
              [&](boost::system::error_code ec, std::size_t n) {
                EXPECT_EQ(depth_, 1u) << "counted as a nested continuation while it runs";
                written = Written{ec, n};
              });
  ASSERT_TRUE(written) << "no round through the event loop";
  EXPECT_FALSE(written->ec);
  EXPECT_EQ(written->bytes, head.size() + body.size());
  EXPECT_EQ(depth_, 0u);
  EXPECT_EQ(receive(head.size() + body.size()), head + body);
}

// A body larger than the socket buffers: the rest goes later, through Asio, in order and whole.
TEST_F(DirectWriteTest, WhatTheKernelDoesNotTakeFollowsLaterInOrder) {
  socket_.set_option(asio::socket_base::send_buffer_size(4096));
  std::string first(1 << 20, '\0');
  std::string second(1 << 20, '\0');
  for (std::size_t i = 0; i < first.size(); ++i) {
    first[i] = static_cast<char>('a' + i % 26);
    second[i] = static_cast<char>('A' + i % 26);
  }
  const std::array<asio::const_buffer, 2> parts{asio::buffer(first), asio::buffer(second)};
  std::optional<Written> written;
  writeDirect(socket_, std::span<const asio::const_buffer>(parts), depth_,
              [&](boost::system::error_code ec, std::size_t n) {
                written = Written{ec, n};
              });
  EXPECT_FALSE(written) << "the kernel could not take 2 MiB at once";

  std::string received(first.size() + second.size(), '\0');
  asio::async_read(peer_, asio::buffer(received), [](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message() << " after " << n;
  });
  io_.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(written);
  EXPECT_FALSE(written->ec);
  EXPECT_EQ(written->bytes, first.size() + second.size());
  EXPECT_TRUE(received == first + second);
}

// A client pipelining requests makes each continuation start the next write: only a few nest, the rest
// are posted.
TEST_F(DirectWriteTest, ContinuationsNestOnlyUpToTheLimit) {
  const std::string message = "x";
  const std::array<asio::const_buffer, 1> parts{asio::buffer(message)};
  constexpr unsigned kWrites = kMaxInlineDepth + 3;
  std::vector<unsigned> depth_seen;
  std::function<void()> write_next = [&] {
    writeDirect(socket_, std::span<const asio::const_buffer>(parts), depth_,
                [&](boost::system::error_code ec, std::size_t) {
                  ASSERT_FALSE(ec);
                  depth_seen.push_back(depth_);
                  if (depth_seen.size() < kWrites) write_next();
                });
  };
  write_next();
  EXPECT_EQ(depth_seen.size(), kMaxInlineDepth) << "completed inside the first call";
  io_.run_for(std::chrono::seconds(5));
  ASSERT_EQ(depth_seen.size(), kWrites);
  for (unsigned i = 0; i < kMaxInlineDepth; ++i) EXPECT_EQ(depth_seen[i], i + 1);
  EXPECT_EQ(depth_seen[kMaxInlineDepth], 0u) << "posted, so it starts a fresh nesting";
  EXPECT_EQ(receive(kWrites), std::string(kWrites, 'x'));
}

TEST_F(DirectWriteTest, AFailedWriteIsReportedAsACompletion) {
  // The peer resets the connection (linger 0); writing then fails with EPIPE or ECONNRESET.
  peer_.set_option(asio::socket_base::linger(true, 0));
  peer_.close();
  const std::string message(1024, 'x');
  const std::array<asio::const_buffer, 1> parts{asio::buffer(message)};
  std::optional<Written> written;
  for (int attempt = 0; attempt < 10 && !(written && written->ec); ++attempt) {
    written.reset();
    writeDirect(socket_, std::span<const asio::const_buffer>(parts), depth_,
                [&](boost::system::error_code ec, std::size_t n) {
                  written = Written{ec, n};
                });
    EXPECT_FALSE(written && written->ec) << "an error never completes inside the call";
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(written);
  EXPECT_TRUE(written->ec == asio::error::broken_pipe || written->ec == asio::error::connection_reset)
      << written->ec.message();
}

}  // namespace
}  // namespace gatehouse::proxy
