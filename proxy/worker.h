// A worker: one thread, one io_context, and everything a connection needs on it — its own listening socket
// (SO_REUSEPORT: the kernel spreads connections across workers), its own upstream pool and its own store
// connection. Nothing on the request path is shared with another worker, so nothing needs a lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "filters/filter.h"
#include "proxy/buffer_pool.h"
#include "proxy/direct_write.h"
#include "proxy/drained_read.h"
#include "proxy/http/field_block_pool.h"
#include "proxy/operation_memory.h"
#include "proxy/runtime.h"
#include "proxy/upstream_pool.h"
#include "store/store.h"

namespace gatehouse::store {
class MemoryStore;
}

namespace gatehouse::proxy {

class AccessLog;
class DownstreamConnection;

class Worker {
 public:
  Worker(int index, std::shared_ptr<const Runtime> runtime, std::shared_ptr<store::MemoryStore> memory,
         AccessLog& access_log);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds the listening socket to `port` (throws on failure, so a bad `listen` stops startup) and starts the
  // thread.
  void start(std::uint16_t port);
  // Stop accepting; idle keep-alive connections close, in-flight requests finish with `Connection: close`.
  // Thread-safe: posts to the worker.
  void drain();
  // Stops the event loop now (after drain_timeout) and joins the thread.
  void stop();
  // True once draining and no connection is left.
  bool drained() const { return drained_.load(std::memory_order_acquire); }

  // For connections, on the worker thread.
  boost::asio::io_context& io() { return io_; }
  const Runtime& runtime() const { return *runtime_; }
  UpstreamPool& upstream() { return upstream_; }
  filters::WorkerServices& services() { return services_; }
  AccessLog& accessLog() { return access_log_; }
  BufferPool& buffers() { return buffers_; }
  http::FieldBlockPool& fieldBlocks() { return field_blocks_; }
  // The request path's socket I/O: a drained read (proxy/drained_read.h) or a direct write
  // (proxy/direct_write.h), its Asio operation from this worker's pools (proxy/operation_memory.h).
  template <typename Socket, typename Handler>
  void startRead(Socket& socket, boost::asio::mutable_buffer buffer, Handler&& handler) {
    drained_reads_.read(socket, buffer,
                        boost::asio::bind_allocator(readAllocator(), std::forward<Handler>(handler)));
  }
  // A read that tries the socket at once (DrainedReads::readNow): for a body that ends when the peer closes.
  template <typename Socket, typename Handler>
  void startReadNow(Socket& socket, boost::asio::mutable_buffer buffer, Handler&& handler) {
    drained_reads_.readNow(socket, buffer,
                           boost::asio::bind_allocator(readAllocator(), std::forward<Handler>(handler)));
  }
  template <typename Socket, typename Handler>
  void startWrite(Socket& socket, std::span<const boost::asio::const_buffer> buffers, Handler&& handler) {
    writeDirect(socket, buffers, inline_depth_,
                boost::asio::bind_allocator(writeAllocator(), std::forward<Handler>(handler)));
  }
  // For other writes of a connection: asio::bind_allocator(writeAllocator(), handler).
  OperationAllocator<void> writeAllocator() { return OperationAllocator<void>(write_memory_); }
  bool draining() const { return draining_; }
  void add(DownstreamConnection* connection);
  void remove(DownstreamConnection* connection);
  // A request's exchange began (its head was read) or ended: `busy_poll: auto` polls only with few in flight.
  void exchangeBegan() { ++requests_in_flight_; }
  void exchangeEnded() { --requests_in_flight_; }

  std::uint16_t listenPort() const { return listen_port_; }

 private:
  void awaitStore(std::chrono::steady_clock::time_point deadline);
  void accept();
  void checkDrained();
  OperationAllocator<void> readAllocator() { return OperationAllocator<void>(read_memory_); }
  // Enforces every connection's deadline (DownstreamConnection::deadline), every kDeadlineSweepInterval.
  void sweepDeadlines();

  // First, so destroyed last: a connection gives its block back as it goes, whenever that is.
  http::FieldBlockPool field_blocks_;
  // Before io_: operations destroyed with it give their memory back here. The sizes fit a connection's
  // operations (x86-64, GCC 12, Boost 1.81: a read about 150 bytes, a write about 460), with room to spare.
  OperationMemory read_memory_{256};
  OperationMemory write_memory_{640};
  int index_;
  // One thread runs it, and only it touches sockets and timers: the reactor's per-descriptor locks can go
  // (UNSAFE_IO). Posting from other threads (drain, stop) stays safe: the scheduler keeps its lock.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  DrainedReads drained_reads_{io_};
  std::shared_ptr<const Runtime> runtime_;
  std::shared_ptr<store::MemoryStore> memory_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Store> local_store_;
  filters::WorkerServices services_;
  UpstreamPool upstream_;
  AccessLog& access_log_;
  BufferPool buffers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer ready_timer_;  // retries the store check before the first accept
  boost::asio::steady_timer deadline_timer_;
  std::vector<DownstreamConnection*> expired_;  // reused by each sweep
  std::uint16_t listen_port_ = 0;
  std::unordered_set<DownstreamConnection*> connections_;
  std::size_t requests_in_flight_ = 0;  // read by the event loop (runEventLoop), on this thread
  bool draining_ = false;
  unsigned inline_depth_ = 0;  // write continuations running inside one another (proxy/direct_write.h)
  std::atomic<bool> drained_{false};
  std::thread thread_;
};

}  // namespace gatehouse::proxy
