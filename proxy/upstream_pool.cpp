#include "proxy/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace gatehouse::proxy {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto kSweepInterval = std::chrono::seconds(1);
// How far the idle list may exceed max_idle between two sweeps.
constexpr std::size_t kBurstFactor = 4;
constexpr std::size_t kReadBufferBytes = 16 * 1024;
// A connection back in the pool for less than this is reused without a liveness probe (a system call): under
// load connections come back within microseconds, and an app that closed one in that instant costs a retry
// for an idempotent request. One that sat idle longer is probed first, since apps close idle connections on
// their own timers (Node.js after 5 s).
constexpr auto kProbeAfterIdle = std::chrono::milliseconds(100);

// One connect in flight, shared by its two handlers: the connect's and its timeout's, whichever runs first.
struct ConnectAttempt {
  ConnectAttempt(asio::io_context& io, config::Duration timeout)
      : connection(std::make_unique<UpstreamConnection>(io)), timer(io, timeout) {}
  UpstreamConnectionPtr connection;
  asio::steady_timer timer;
  bool finished = false;
  bool timed_out = false;
};

void connectResolved(asio::io_context& io, const config::UpstreamConfig& config,
                     asio::generic::stream_protocol::endpoint endpoint, bool tcp, AcquireHandler handler) {
  // Connecting is rare (the pool keeps connections), so it can afford a timer of its own.
  auto attempt = std::make_shared<ConnectAttempt>(io, config.connect_timeout);
  attempt->timer.async_wait([attempt](error_code ec) {
    if (ec || attempt->finished) return;
    attempt->timed_out = true;
    error_code ignored;
    attempt->connection->socket.cancel(ignored);
  });
  auto& socket = attempt->connection->socket;
  socket.async_connect(endpoint, [attempt, tcp, handler = std::move(handler)](error_code ec) mutable {
    attempt->finished = true;
    attempt->timer.cancel();
    if (attempt->timed_out) return handler(asio::error::timed_out, nullptr);
    if (ec) return handler(ec, nullptr);
    auto connection = std::move(attempt->connection);
    // Responses are read through this buffer: room for a typical response in one read, and large bodies in
    // 16 KiB steps instead of Beast's 512-byte default.
    connection->buffer.reserve(kReadBufferBytes);
    if (tcp) {
      error_code ignored;
      connection->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    handler({}, std::move(connection));
  });
}

}  // namespace

UpstreamPool::UpstreamPool(asio::io_context& io, const config::UpstreamConfig& config)
    : io_(io), config_(config), sweep_timer_(io) {
  sweep();
}

UpstreamPool::~UpstreamPool() {
  *alive_ = false;
}

void UpstreamPool::sweep() {
  // Idle connections past idle_timeout are closed here so that their descriptors don't linger until the next
  // acquire; the oldest sit at the front.
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty() && now - idle_.front()->idle_since >= config_.idle_timeout) idle_.pop_front();
  while (idle_.size() > config_.max_idle) idle_.pop_front();
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](error_code ec) {
    if (ec || alive.expired()) return;
    sweep();
  });
}

UpstreamConnectionPtr UpstreamPool::takeIdle() {
  if (idle_.empty()) return nullptr;
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    const auto idle_for = now - connection->idle_since;
    if (idle_for >= config_.idle_timeout) continue;
    if (idle_for >= kProbeAfterIdle && !stillOpen(*connection)) continue;
    connection->reused = true;
    return connection;
  }
  return nullptr;
}

bool UpstreamPool::stillOpen(UpstreamConnection& connection) {
  // An idle upstream connection must have nothing to read: a 0 from recv is the app's FIN, data is a protocol
  // error. Either way it can't carry a request. EAGAIN means open and quiet.
  char byte;
  const auto n = ::recv(connection.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void UpstreamPool::connect(AcquireHandler handler) {
  const auto& address = config_.address;
  if (address.kind == config::Address::Kind::Unix) {
    asio::local::stream_protocol::endpoint unix_endpoint(address.path);
    return connectResolved(io_, config_, asio::generic::stream_protocol::endpoint(unix_endpoint), false,
                           std::move(handler));
  }
  error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (!ec) {
    asio::ip::tcp::endpoint tcp_endpoint(ip, address.port);
    return connectResolved(io_, config_, asio::generic::stream_protocol::endpoint(tcp_endpoint), true,
                           std::move(handler));
  }
  // A name (e.g. a compose service): resolved on each new connection, so a moved app is followed.
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io_);
  resolver->async_resolve(
      address.host, std::to_string(address.port),
      [this, resolver, alive = std::weak_ptr<bool>(alive_), handler = std::move(handler)](
          error_code resolve_ec, asio::ip::tcp::resolver::results_type results) mutable {
        if (alive.expired()) return;
        if (resolve_ec || results.empty())
          return handler(resolve_ec ? resolve_ec : asio::error::host_not_found, nullptr);
        connectResolved(io_, config_, asio::generic::stream_protocol::endpoint(results.begin()->endpoint()),
                        true, std::move(handler));
      });
}

void UpstreamPool::release(UpstreamConnectionPtr connection) {
  if (!connection || config_.max_idle == 0) return;
  connection->idle_since = std::chrono::steady_clock::now();
  if (idle_.size() >= kBurstFactor * config_.max_idle) idle_.pop_front();  // the longest idle goes
  idle_.push_back(std::move(connection));
}

void UpstreamPool::closeIdle() {
  idle_.clear();
}

void UpstreamPool::shutdown() {
  idle_.clear();
  sweep_timer_.cancel();
}

}  // namespace gatehouse::proxy
