#include "proxy/worker.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "proxy/downstream_connection.h"
#include "proxy/event_loop.h"
#include "store/store_factory.h"

namespace gatehouse::proxy {
namespace asio = boost::asio;

namespace {

config::StoreConfig memoryOnly(const config::StoreConfig& store) {
  auto local = store;
  local.type = config::StoreConfig::Type::Memory;
  return local;
}

constexpr auto kStoreWaitLimit = std::chrono::seconds(1);
constexpr auto kStoreRetryInterval = std::chrono::milliseconds(20);
// How often connection deadlines are checked: a timeout fires up to this late. One sweep over the worker's
// connections replaces a timer started and cancelled around every socket operation.
constexpr auto kDeadlineSweepInterval = std::chrono::milliseconds(100);

asio::ip::tcp::endpoint listenEndpoint(const config::Address& address) {
  return {asio::ip::make_address(address.host), address.port};
}

}  // namespace

Worker::Worker(int index, std::shared_ptr<const Runtime> runtime, std::shared_ptr<store::MemoryStore> memory,
               AccessLog& access_log)
    : index_(index),
      runtime_(std::move(runtime)),
      memory_(std::move(memory)),
      store_(store::makeWorkerStore(io_, runtime_->config->store, memory_)),
      local_store_(store::makeWorkerStore(io_, memoryOnly(runtime_->config->store), memory_)),
      services_{io_, *store_, *local_store_},
      upstream_(io_, runtime_->config->upstream),
      access_log_(access_log),
      acceptor_(io_),
      ready_timer_(io_),
      deadline_timer_(io_) {}

Worker::~Worker() {
  stop();
}

void Worker::start(std::uint16_t port) {
  auto endpoint = listenEndpoint(runtime_->config->listen);
  endpoint.port(port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  // SO_REUSEPORT: every worker binds its own socket to the same port and the kernel balances new connections
  // across them, so no worker hands connections to another.
  const int one = 1;
  ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  listen_port_ = acceptor_.local_endpoint().port();
  // Connections queue in the listen backlog until this worker's store connection is up (or kStoreWaitLimit
  // has passed): otherwise the first requests after a start would be decided by on_store_error while Redis is
  // healthy.
  awaitStore(std::chrono::steady_clock::now() + kStoreWaitLimit);
  sweepDeadlines();
  thread_ = std::thread([this, busy_poll = runtime_->config->busy_poll] {
    spdlog::debug("worker {} running", index_);
    runEventLoop(io_, busy_poll, requests_in_flight_);
  });
}

void Worker::awaitStore(std::chrono::steady_clock::time_point deadline) {
  store_->ping([this, deadline](store::StoreStatus status) {
    if (status == store::StoreStatus::Ok) return accept();
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("worker {}: store not answering ({}); accepting anyway, on_store_error applies", index_,
                   store::toString(status));
      return accept();
    }
    ready_timer_.expires_after(kStoreRetryInterval);
    ready_timer_.async_wait([this, deadline](boost::system::error_code ec) {
      if (!ec && !draining_) awaitStore(deadline);
    });
  });
}

void Worker::accept() {
  if (!acceptor_.is_open()) return;  // drained before the store answered
  acceptor_.async_accept(io_, [this](boost::system::error_code ec, DownstreamConnection::Socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (connections_.size() >= runtime_->config->limits.max_connections) {
        // Over the cap: refuse by closing at once rather than accept work this worker cannot serve.
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<DownstreamConnection>(std::move(socket), *this)->start();
      }
    } else {
      spdlog::warn("worker {}: accept failed: {}", index_, ec.message());
    }
    accept();
  });
}

void Worker::sweepDeadlines() {
  const auto now = std::chrono::steady_clock::now();
  // A connection's onDeadline may close it, which erases it from connections_: collect first, then act.
  expired_.clear();
  for (auto* connection : connections_) {
    if (connection->deadline() <= now) expired_.push_back(connection);
  }
  for (auto* connection : expired_) {
    if (connections_.count(connection)) connection->onDeadline();
  }
  deadline_timer_.expires_after(kDeadlineSweepInterval);
  deadline_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) sweepDeadlines();
  });
}

void Worker::add(DownstreamConnection* connection) {
  connections_.insert(connection);
}

void Worker::remove(DownstreamConnection* connection) {
  connections_.erase(connection);
  if (draining_) checkDrained();
}

void Worker::drain() {
  asio::post(io_, [this] {
    if (draining_) return;
    draining_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    ready_timer_.cancel();
    upstream_.closeIdle();
    // drain() may close a connection, which erases it from the set: iterate over a copy.
    const std::vector<DownstreamConnection*> live(connections_.begin(), connections_.end());
    for (auto* connection : live) {
      if (connections_.count(connection)) connection->drain();
    }
    checkDrained();
  });
}

void Worker::checkDrained() {
  if (connections_.empty()) drained_.store(true, std::memory_order_release);
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
  // Whatever is still open (past drain_timeout) is aborted here, on this thread now that the worker's is
  // gone, and the cancelled handlers are run so that every connection is destroyed while the worker is still
  // whole.
  const std::vector<DownstreamConnection*> live(connections_.begin(), connections_.end());
  for (auto* connection : live) {
    if (connections_.count(connection)) connection->abort();
  }
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  ready_timer_.cancel();
  deadline_timer_.cancel();
  upstream_.shutdown();
  io_.restart();
  for (int round = 0; round < 100 && io_.poll() > 0; ++round) {
  }
}

}  // namespace gatehouse::proxy
