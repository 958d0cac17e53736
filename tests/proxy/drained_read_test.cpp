#include "proxy/drained_read.h"

#include <dlfcn.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "proxy/operation_memory.h"

// Counts the recv() calls made on one socket: what drained reads exist to save. This executable's recv()
// comes before libc's (or the sanitizer's) in symbol lookup, for Asio's reads and ours alike.
namespace {
int g_watched_fd = -1;
int g_recv_calls = 0;
}  // namespace

extern "C" ssize_t recv(int fd, void* data, std::size_t size, int flags) {
  using Recv = ssize_t (*)(int, void*, std::size_t, int);
  static const auto next = reinterpret_cast<Recv>(dlsym(RTLD_NEXT, "recv"));
  if (fd == g_watched_fd) ++g_recv_calls;
  return next(fd, data, size, flags);
}

namespace gatehouse::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Socket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;

struct Read {
  boost::system::error_code ec;
  std::string data;
};

class DrainedReadTest : public ::testing::Test {
 protected:
  DrainedReadTest() {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    peer_.connect(acceptor.local_endpoint());
    acceptor.accept(socket_);
    g_watched_fd = socket_.native_handle();
    g_recv_calls = 0;
  }
  ~DrainedReadTest() override { g_watched_fd = -1; }

  void send(std::string_view bytes) { asio::write(peer_, asio::buffer(bytes)); }

  // Starts a drained read into a buffer of `size` bytes; its result lands in `result`.
  void startRead(std::optional<Read>& result, std::size_t size) {
    result.reset();
    reads_.read(socket_, asio::buffer(buffer_.data(), size),
                [this, &result](boost::system::error_code ec, std::size_t bytes) {
                  result = Read{ec, std::string(buffer_.data(), bytes)};
                });
  }

  // Runs the event loop for a short while (loopback delivers at once), even with no read waiting, so that
  // the kernel's events are taken as they come.
  void settle() {
    auto work = asio::make_work_guard(io_);
    io_.restart();
    io_.run_for(std::chrono::milliseconds(20));
  }

  asio::io_context io_;
  DrainedReads reads_{io_};
  Socket socket_{io_};
  tcp::socket peer_{io_};
  std::array<char, 64> buffer_{};
};

TEST_F(DrainedReadTest, ReadsWhatArrives) {
  send("hello");
  std::optional<Read> read;
  startRead(read, buffer_.size());
  settle();
  ASSERT_TRUE(read);
  EXPECT_FALSE(read->ec);
  EXPECT_EQ(read->data, "hello");
}

// The point of it: after a read that emptied the socket, the next one makes no recv() until data arrives.
TEST_F(DrainedReadTest, AfterAShortReadTheNextWaitsForDataWithoutTryingARecv) {
  send("first");
  std::optional<Read> read;
  startRead(read, buffer_.size());
  settle();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->data, "first");
  const int calls_after_first = g_recv_calls;

  startRead(read, buffer_.size());
  settle();
  EXPECT_FALSE(read) << "nothing was sent";
  EXPECT_EQ(g_recv_calls, calls_after_first) << "an empty socket was not tried";

  send("second");
  settle();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->data, "second");
  EXPECT_EQ(g_recv_calls, calls_after_first + 1) << "one recv() for one arrival";
}

// What it saves, and what would show if a Boost upgrade changed the reactor: Asio's own read tries first.
TEST_F(DrainedReadTest, AsiosOwnReadTriesAnEmptySocketFirst) {
  std::optional<std::size_t> got;
  socket_.async_read_some(asio::buffer(buffer_), [&](boost::system::error_code, std::size_t n) { got = n; });
  settle();
  EXPECT_FALSE(got);
  EXPECT_EQ(g_recv_calls, 1) << "the speculative recv() that found nothing";
}

// A read that fills its buffer may have left bytes behind, and edge-triggered epoll will not report them
// again: the next read must take them at once.
TEST_F(DrainedReadTest, AFullReadIsFollowedAtOnceByTheRest) {
  const std::string message(100, 'x');
  send(message);
  settle();  // the arrival's event comes and goes now, with no read waiting: there will be no other
  std::optional<Read> first;
  startRead(first, 64);
  settle();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data.size(), 64u);

  std::optional<Read> rest;
  startRead(rest, 64);
  settle();
  ASSERT_TRUE(rest) << "the 36 bytes left behind were read without a new event";
  EXPECT_EQ(rest->data, std::string(36, 'x'));
}

// Bytes that arrive between the read that emptied the socket and the start of the next read are not lost.
TEST_F(DrainedReadTest, BytesArrivingBeforeTheNextReadStartsAreRead) {
  send("one");
  std::optional<Read> read;
  startRead(read, buffer_.size());
  settle();
  ASSERT_TRUE(read);
  send("two");
  settle();  // the event arrives with no read waiting
  startRead(read, buffer_.size());
  settle();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->data, "two");
}

// Asio's own reads on the same socket (the proxy's tunnel uses them) see the same readiness.
TEST_F(DrainedReadTest, AsiosOwnReadAfterADrainedReadCompletesWhenDataArrives) {
  send("a");
  std::optional<Read> read;
  startRead(read, buffer_.size());
  settle();
  ASSERT_TRUE(read);

  std::optional<std::string> got;
  socket_.async_read_some(asio::buffer(buffer_), [&](boost::system::error_code ec, std::size_t n) {
    if (!ec) got = std::string(buffer_.data(), n);
  });
  settle();
  EXPECT_FALSE(got);
  send("b");
  settle();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "b");
}

TEST_F(DrainedReadTest, AnEmptyBufferReadsNothingAndIsNotTheEndOfTheStream) {
  send("kept");
  std::optional<Read> read;
  startRead(read, 0);
  settle();
  ASSERT_TRUE(read);
  EXPECT_FALSE(read->ec);
  EXPECT_EQ(read->data, "");
  startRead(read, buffer_.size());
  settle();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->data, "kept");
}

TEST_F(DrainedReadTest, TheEndOfTheStreamIsEof) {
  std::optional<Read> read;
  startRead(read, buffer_.size());
  peer_.close();
  settle();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->ec, asio::error::eof);
}

TEST_F(DrainedReadTest, ClosingTheSocketAbortsAPendingRead) {
  std::optional<Read> read;
  startRead(read, buffer_.size());
  settle();
  ASSERT_FALSE(read);
  socket_.close();
  settle();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->ec, asio::error::operation_aborted);
}

TEST_F(DrainedReadTest, AReadOnAClosedSocketFailsAsACompletion) {
  socket_.close();
  std::optional<Read> read;
  startRead(read, buffer_.size());
  EXPECT_FALSE(read) << "never inside the call";
  settle();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->ec, asio::error::bad_descriptor);
}

// The operation's memory comes from the handler's allocator and goes back to it, also when the io_context is
// destroyed before the read completed (then the handler is not called).
TEST(DrainedRead, TakesItsMemoryFromTheHandlersAllocatorAndGivesItBack) {
  OperationMemory memory(256);
  bool called = false;
  {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket peer(io);
    peer.connect(acceptor.local_endpoint());
    Socket socket(io);
    acceptor.accept(socket);
    std::array<char, 16> buffer{};
    DrainedReads reads(io);
    reads.read(socket, asio::buffer(buffer),
               asio::bind_allocator(OperationAllocator<void>(memory),
                                    [&](boost::system::error_code, std::size_t) { called = true; }));
    EXPECT_EQ(memory.blocksCreated(), 1u);
    EXPECT_EQ(memory.spareBlocks(), 0u);
    io.poll();
    // The socket closes with its read pending, and the io_context goes without running the cancelled read.
  }
  EXPECT_FALSE(called);
  EXPECT_EQ(memory.spareBlocks(), 1u);
}

}  // namespace
}  // namespace gatehouse::proxy
