// A socket read that remembers, as nginx does, when it has emptied the socket, so that the next read waits
// for the kernel's readiness event instead of first trying a recv() that fails with EAGAIN.
//
// Why: Asio's async_read_some always tries the read at once ("speculative"), and on epoll it only learns that
// a socket is empty when a read returns 0 bytes (end of stream). A proxy starts most reads right after
// sending something — the request upstream, the response to the client — so the answer is not there yet and
// the try fails: 1.5 empty recv() calls per request (bench/profile.sh), a system call each. nginx does
// not try: a read that returns less than it asked for means the socket is empty, and it waits for the next
// edge-triggered event (ngx_unix_recv: rev->ready = 0).
//
// How: the same Asio reactor, through its own hook for it. An operation's perform() may answer
// done_and_exhausted; the reactor then stops trying that socket's reads at once until epoll reports it
// readable again (epoll_reactor::start_op / perform_io, try_speculative_). This operation answers so for a
// short read. With edge-triggered epoll any byte arriving after that read brings a new event, so nothing is
// missed; at worst a stale event costs one try, as before. Other reads on the socket (Asio's own) follow the
// same flag and stay correct.
//
// It uses Asio's reactor interface (boost::asio::detail), which is not a public API: Boost is pinned to
// Debian's 1.81 (libboost1.81-dev), and tests/proxy/drained_read_test.cpp checks the behaviour the proxy
// relies on, including the one saved system call. Only for sockets of one io_context run by one thread.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

namespace gatehouse::proxy {

namespace drained_read_detail {

namespace adetail = boost::asio::detail;

static_assert(std::is_same_v<adetail::reactor, adetail::epoll_reactor>,
              "drained reads rely on the epoll reactor's readiness flags (edge-triggered, try_speculative_)");

// The operation: reads once into `buffer` when the reactor says so, then calls handler(error_code, bytes).
template <typename Handler>
class Operation : public adetail::reactor_op {
 public:
  using Allocator = typename std::allocator_traits<
      boost::asio::associated_allocator_t<Handler>>::template rebind_alloc<Operation>;

  Operation(int fd, boost::asio::mutable_buffer buffer, Handler handler)
      : reactor_op(boost::system::error_code(), &Operation::perform, &Operation::complete),
        fd_(fd),
        buffer_(buffer),
        handler_(std::move(handler)) {}

 public:
  // A recv() now, whatever the reactor believes of the socket: false when it found nothing yet.
  bool tryNow() { return perform(this) != not_done; }

 private:
  static status perform(reactor_op* base) {
    auto* op = static_cast<Operation*>(base);
    for (;;) {
      const ssize_t n = ::recv(op->fd_, op->buffer_.data(), op->buffer_.size(), MSG_DONTWAIT);
      if (n > 0) {
        op->bytes_transferred_ = static_cast<std::size_t>(n);
        // Less than asked for: the kernel had no more. Wait for the next event before reading again.
        return op->bytes_transferred_ < op->buffer_.size() ? done_and_exhausted : done;
      }
      if (n == 0) {
        op->ec_ = boost::asio::error::eof;
        return done_and_exhausted;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      op->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
      return done;
    }
  }

  // owner is null when the io_context is destroyed with the operation pending: free it, call nothing.
  static void complete(void* owner, adetail::operation* base, const boost::system::error_code&, std::size_t) {
    auto* op = static_cast<Operation*>(base);
    Handler handler(std::move(op->handler_));
    const boost::system::error_code ec = op->ec_;
    const std::size_t bytes = op->bytes_transferred_;
    Allocator allocator(boost::asio::get_associated_allocator(handler));
    op->~Operation();
    std::allocator_traits<Allocator>::deallocate(allocator, op, 1);
    if (owner) std::move(handler)(ec, bytes);
  }

  int fd_;
  boost::asio::mutable_buffer buffer_;
  Handler handler_;
};

// basic_socket keeps its implementation protected; a member pointer taken through a derived class reads it.
template <typename Protocol, typename Executor>
struct ImplementationOf : boost::asio::basic_stream_socket<Protocol, Executor> {
  static auto& of(boost::asio::basic_stream_socket<Protocol, Executor>& socket) {
    return (socket.*(&ImplementationOf::impl_)).get_implementation();
  }
};

}  // namespace drained_read_detail

// Starts drained reads on the sockets of one io_context, run by one thread (a worker's).
class DrainedReads {
 public:
  // Looks the io_context's reactor up once: Asio's service lookup takes a lock and walks a list, which per
  // read cost ~500 instructions a request (bench/count.sh).
  explicit DrainedReads(boost::asio::io_context& io)
      : reactor_(boost::asio::use_service<boost::asio::detail::reactor>(io)) {}

  // Like socket.async_read_some(buffer, handler), minus the recv() known to find nothing. The socket must be
  // of this io_context. The handler's associated allocator provides the operation's memory; it is called as
  // a completion (never inside this call), with (error_code, bytes).
  template <typename Protocol, typename Executor, typename Handler>
  void read(boost::asio::basic_stream_socket<Protocol, Executor>& socket, boost::asio::mutable_buffer buffer,
            Handler&& handler) {
    start(socket, buffer, std::forward<Handler>(handler), false);
  }

  // The same, but it tries the recv() at once even when the last read emptied the socket. For reads where the
  // peer's close matters (a message body: one delimited by the close, or cut short by it): the peer's last
  // bytes and its FIN can arrive under one edge-triggered event, after which no further event comes to say
  // the stream has ended. Costs the recv() that read() saves when nothing has arrived yet.
  template <typename Protocol, typename Executor, typename Handler>
  void readNow(boost::asio::basic_stream_socket<Protocol, Executor>& socket,
               boost::asio::mutable_buffer buffer, Handler&& handler) {
    start(socket, buffer, std::forward<Handler>(handler), true);
  }

 private:
  template <typename Protocol, typename Executor, typename Handler>
  void start(boost::asio::basic_stream_socket<Protocol, Executor>& socket, boost::asio::mutable_buffer buffer,
             Handler&& handler, bool try_now) {
    using Op = drained_read_detail::Operation<std::decay_t<Handler>>;
    typename Op::Allocator allocator(boost::asio::get_associated_allocator(handler));
    Op* op = std::allocator_traits<typename Op::Allocator>::allocate(allocator, 1);
    auto& impl = drained_read_detail::ImplementationOf<Protocol, Executor>::of(socket);
    ::new (op) Op(impl.socket_, buffer, std::forward<Handler>(handler));
    if (!socket.is_open()) {
      op->ec_ = boost::asio::error::bad_descriptor;
      return reactor_.post_immediate_completion(op, false);
    }
    // An empty buffer reads nothing and must not be taken for the end of the stream (recv() returns 0).
    if (buffer.size() == 0) return reactor_.post_immediate_completion(op, false);
    // Found nothing: the socket is empty now, so whatever arrives next raises a new event for the queued op.
    if (try_now && op->tryNow()) return reactor_.post_immediate_completion(op, false);
    reactor_.start_op(boost::asio::detail::reactor::read_op, impl.socket_, impl.reactor_data_, op, false,
                      true);
  }

  boost::asio::detail::reactor& reactor_;
};

}  // namespace gatehouse::proxy
