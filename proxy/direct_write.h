// A write that continues at once when the kernel takes everything, without a round through the event loop.
//
// Why: asio::async_write also sends at once, but always posts its completion, so the continuation (start
// the next read, end the exchange) waits for the rest of the loop's turn and pays a trip through Asio's
// scheduler. Called straight away it costs ~10 % fewer instructions per request (bench/count.sh). Before
// proxy/drained_read.h this was a loss: the read that the continuation starts came sooner, found the
// socket still empty more often and paid an empty recv() for it.
//
// Whatever the kernel does not take at once (a full socket buffer, a large body) goes through
// asio::async_write as before, and the handler hears of the whole. Continuations can nest (each may start the
// next write: a client pipelining requests), so at most kMaxInlineDepth run inside one another; past that the
// completion is posted. A failed send is also left to asio::async_write, so errors always come as a posted
// completion. The caller must not touch its state after the call: the continuation may already have run.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <span>
#include <utility>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/system/error_code.hpp>

namespace gatehouse::proxy {

inline constexpr unsigned kMaxInlineDepth = 4;

// `buffers` as OutgoingMessage::next gives them (at most a handful). `depth`: the worker's count of
// continuations running inside a direct write (one thread: no atomics).
template <typename Socket, typename Handler>
void writeDirect(Socket& socket, std::span<const boost::asio::const_buffer> buffers, unsigned& depth,
                 Handler&& handler) {
  std::size_t total = 0;
  std::array<iovec, 8> iov{};
  std::size_t count = 0;
  for (const auto& buffer : buffers) {
    if (buffer.size() == 0) continue;
    if (count == iov.size()) {
      count = 0;  // more pieces than expected: let Asio handle it
      break;
    }
    iov[count++] = iovec{const_cast<void*>(buffer.data()), buffer.size()};
    total += buffer.size();
  }
  if (count == 0 || depth >= kMaxInlineDepth) {
    boost::asio::async_write(socket, buffers, std::forward<Handler>(handler));
    return;
  }
  msghdr message{};
  message.msg_iov = iov.data();
  message.msg_iovlen = count;
  ssize_t sent;
  do {
    sent = ::sendmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent == static_cast<ssize_t>(total)) {
    struct Nested {
      unsigned& depth;
      explicit Nested(unsigned& d) : depth(++d) {}
      ~Nested() { --depth; }
    } nested(depth);
    std::forward<Handler>(handler)(boost::system::error_code(), total);
    return;
  }
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    // Let Asio report it, as a completion like any other.
    boost::asio::async_write(socket, buffers, std::forward<Handler>(handler));
    return;
  }
  // Part or none of it went: Asio writes the rest, and the handler hears of the whole.
  const std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
  boost::beast::buffers_suffix<std::span<const boost::asio::const_buffer>> rest(buffers);
  rest.consume(done);
  auto allocator = boost::asio::get_associated_allocator(handler);
  boost::asio::async_write(
      socket, rest,
      boost::asio::bind_allocator(allocator, [handler = std::forward<Handler>(handler), done](
                                                 boost::system::error_code ec, std::size_t bytes) mutable {
        std::move(handler)(ec, done + bytes);
      }));
}

}  // namespace gatehouse::proxy
