// Kept-alive connections from one worker to the upstream app. One pool per worker (no locks): connections are
// created on the worker's io_context and never leave it.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "proxy/config/config.h"

namespace gatehouse::proxy {

// A generic stream socket carries both TCP and unix-domain connections, so one code path serves `host:port`
// and `unix:/path` upstreams. Plain socket on the io_context's own executor: timeouts are the downstream
// connection's deadlines (and a timer of its own while connecting), not a timer per operation.
using UpstreamSocket = boost::asio::basic_stream_socket<boost::asio::generic::stream_protocol,
                                                        boost::asio::io_context::executor_type>;

struct UpstreamConnection {
  explicit UpstreamConnection(boost::asio::io_context& io) : socket(io) {}
  UpstreamSocket socket;
  boost::beast::flat_buffer buffer;  // bytes read past the current response (empty when pooled)
  std::chrono::steady_clock::time_point idle_since{};
  bool reused = false;  // came from the pool: the app may have closed it meanwhile
};

using UpstreamConnectionPtr = std::unique_ptr<UpstreamConnection>;
using AcquireHandler = std::function<void(boost::system::error_code, UpstreamConnectionPtr)>;

class UpstreamPool {
 public:
  UpstreamPool(boost::asio::io_context& io, const config::UpstreamConfig& config);
  ~UpstreamPool();

  // The most recently used idle connection that is still open, or null (then connect()). Synchronous: the
  // common case costs no handler.
  UpstreamConnectionPtr takeIdle();
  // A new connection, connected within connect_timeout (also the retry after a stale pooled connection
  // failed). The handler runs on the worker's io_context, never inside this call.
  void connect(AcquireHandler handler);
  // A connection whose last exchange completed cleanly and may carry another: kept. Beyond max_idle, the
  // longest idle are closed at the next sweep (within a second), not at once: requests released by one batch
  // of store replies come back in bursts, and closing the excess on release made each burst connect anew
  // (HAProxy purges its idle pools progressively for the same reason). Never more than kBurstFactor ×
  // max_idle are kept.
  void release(UpstreamConnectionPtr connection);
  // Closes idle connections (drain).
  void closeIdle();
  // Closes idle connections and stops the sweep timer (worker stop).
  void shutdown();

  std::size_t idleCount() const { return idle_.size(); }

 private:
  void sweep();
  static bool stillOpen(UpstreamConnection& connection);

  boost::asio::io_context& io_;
  const config::UpstreamConfig& config_;
  std::deque<UpstreamConnectionPtr> idle_;  // most recently used at the back
  boost::asio::steady_timer sweep_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gatehouse::proxy
