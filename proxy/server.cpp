#include "proxy/server.h"

#include <cctype>
#include <chrono>
#include <csignal>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>

#include "proxy/config/error_report.h"
#include "proxy/config/units.h"
#include "store/store_factory.h"

namespace gatehouse::proxy {
using namespace std::chrono_literals;

namespace {

// Runs `bind`; a socket error comes out as "listen 127.0.0.1:8080: address already in use": the config key
// and the address, and the reason without Boost's source location.
template <typename Bind>
void bindAs(std::string_view key, const config::Address& address, Bind&& bind) {
  try {
    bind();
  } catch (const boost::system::system_error& e) {
    auto reason = e.code().message();
    if (!reason.empty())
      reason.front() = static_cast<char>(std::tolower(static_cast<unsigned char>(reason.front())));
    throw std::runtime_error(std::string(key) + " " + address.text + ": " + reason);
  }
}

// SO_REUSEPORT lets every worker bind the listen port, and would as well let a second Gatehouse of the same
// user join a port that another one serves, silently taking half of its connections. A socket bound without
// it first fails when anything listens there already; it is closed before the workers bind. (A program that
// takes the port between the two binds is not caught: the window is a few system calls.)
void checkPortIsFree(const config::Address& address) {
  if (address.port == 0) return;  // the kernel picks a free port
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io);
  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(address.host), address.port);
  probe.open(endpoint.protocol());
  // Connections of a previous run still in TIME_WAIT do not hold the port; only a listener (or a bound
  // socket without SO_REUSEADDR) does.
  probe.set_option(boost::asio::socket_base::reuse_address(true));
  probe.bind(endpoint);
}

}  // namespace

struct Server::Signals {
  boost::asio::io_context io;
  boost::asio::signal_set set{io, SIGTERM, SIGINT, SIGHUP};
};

Server::Server(std::shared_ptr<const Runtime> runtime)
    : runtime_(std::move(runtime)),
      current_(runtime_->config),
      memory_(store::makeMemoryStore(runtime_->config->store)),
      access_log_(runtime_->config->log.access) {
  for (int i = 0; i < runtime_->config->workers; ++i) {
    worker_runtimes_.push_back(std::make_shared<Runtime>(*runtime_));
    workers_.push_back(std::make_unique<Worker>(i, worker_runtimes_.back(), memory_, access_log_));
  }
  if (runtime_->config->admin) admin_ = std::make_unique<AdminServer>(runtime_, memory_);
}

Server::~Server() {
  shutdown();
}

void Server::start() {
  // With `listen: host:0` the first worker's socket picks the port and the others join it (SO_REUSEPORT).
  std::uint16_t port = runtime_->config->listen.port;
  try {
    bindAs("listen", runtime_->config->listen, [&] { checkPortIsFree(runtime_->config->listen); });
    for (auto& worker : workers_) {
      bindAs("listen", runtime_->config->listen, [&] { worker->start(port); });
      port = worker->listenPort();
    }
    if (admin_) bindAs("admin", *runtime_->config->admin, [&] { admin_->start(); });
  } catch (...) {
    abandonStart();
    throw;
  }
  spdlog::info("gatehouse listening on {}:{} with {} worker(s), upstream {}, store {}",
               runtime_->config->listen.host, port, workers_.size(), runtime_->config->upstream.address.text,
               runtime_->config->store.type == config::StoreConfig::Type::Redis ? "redis" : "memory");
  const auto& busy_poll = runtime_->config->busy_poll;
  if (busy_poll.mode == config::BusyPoll::Mode::Fixed) {
    spdlog::info("busy polling: each worker polls for {} after its last event before it sleeps",
                 config::formatSpinTime(busy_poll.time));
  } else if (busy_poll.mode == config::BusyPoll::Mode::Adaptive) {
    spdlog::debug("busy polling: auto (each worker polls up to {} while recent waits were that short)",
                  config::formatSpinTime(busy_poll.time));
  }
}

void Server::abandonStart() {
  // Nothing was served yet: no drain, so that a failed start exits at once instead of after drain_timeout
  // (a worker that never started would never report drained). Workers that did start stop here.
  stopped_ = true;
  for (auto& worker : workers_) worker->stop();
  if (admin_) admin_->stop();
}

std::uint16_t Server::port() const {
  return workers_.empty() ? 0 : workers_.front()->listenPort();
}

void Server::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (admin_) admin_->setDraining();
  const auto drain_timeout = [this] {
    std::lock_guard lock(current_mutex_);
    return current_->limits.drain_timeout;
  }();
  spdlog::info("draining: up to {} ms for in-flight requests", drain_timeout.count());
  for (auto& worker : workers_) worker->drain();
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  auto all_drained = [this] {
    for (auto& worker : workers_) {
      if (!worker->drained()) return false;
    }
    return true;
  };
  while (!all_drained() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  if (!all_drained()) spdlog::warn("drain timeout: closing the connections still open");
  for (auto& worker : workers_) worker->stop();
  if (admin_) admin_->stop();
  spdlog::info("stopped");
}

void Server::reload(std::shared_ptr<const config::Config> config) {
  auto next = keepRestartOnlySettings(*runtime_->config, *config);
  for (const auto& key : next.kept) {
    spdlog::warn("reload: {} cannot change without a restart; keeping the running value", key);
  }
  std::shared_ptr<const Runtime> runtime;
  try {
    runtime = buildRuntime(next.config);
  } catch (const std::exception& e) {
    spdlog::error("reload failed: {}; still serving the previous configuration", e.what());
    return;
  }
  spdlog::set_level(spdlog::level::from_str(next.config->log.level));
  // Each worker takes the new runtime on its own thread, between two handlers: a request's route and filters
  // come from one configuration, chosen when its head is read (the filter chain holds the factories it was
  // made from, so a request in flight keeps the old ones alive); limits and timeouts read later in an
  // exchange come from the newest.
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    boost::asio::post(workers_[i]->io(), [target = worker_runtimes_[i], runtime] { *target = *runtime; });
  }
  if (admin_) admin_->setRuntime(runtime);
  {
    std::lock_guard lock(current_mutex_);
    current_ = next.config;
  }
  spdlog::info("configuration reloaded: {} route(s)", next.config->routes.size());
}

void Server::reloadFrom(const ConfigSource& source) {
  if (!source) {
    spdlog::warn("SIGHUP: reload is not supported here; ignored");
    return;
  }
  spdlog::info("SIGHUP: loading the configuration again");
  const auto loaded = source();
  if (!loaded.errors.empty()) {
    for (const auto& error : loaded.errors) {
      spdlog::error("reload: {}", config::formatError(loaded.source_name, error));
    }
    spdlog::error("reload failed: {} error(s) in {}; still serving the previous configuration",
                  loaded.errors.size(), loaded.source_name);
    return;
  }
  reload(loaded.config);
}

void Server::catchSignals() {
  if (!signals_) signals_ = std::make_unique<Signals>();
}

void Server::runUntilSignalled(ConfigSource source) {
  catchSignals();
  std::function<void()> wait_for_signal = [&] {
    signals_->set.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reloadFrom(source);
        return wait_for_signal();
      }
      spdlog::info("signal {}: shutting down", signal);
    });
  };
  wait_for_signal();
  signals_->io.run();  // returns once a SIGTERM or SIGINT has been handled: nothing waits any more
  shutdown();
}

}  // namespace gatehouse::proxy
