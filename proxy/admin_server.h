// The admin listener (loopback by default): /healthz says the process is alive; /readyz says whether it can
// serve — 200 only when the upstream accepts a connection and the store answers, else 503 with the reason;
// /metrics gives the filters' counters to Prometheus (proxy/metrics.h). Runs on its own thread and io_context
// so that a probe never competes with a worker's requests.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/runtime.h"
#include "proxy/upstream_pool.h"
#include "store/store.h"

namespace gatehouse::store {
class MemoryStore;
}

namespace gatehouse::proxy {

class AdminServer {
 public:
  AdminServer(std::shared_ptr<const Runtime> runtime, std::shared_ptr<store::MemoryStore> memory);
  ~AdminServer();

  void start();  // binds (throws on failure) and starts the thread
  void stop();
  std::uint16_t port() const { return port_; }

  // Called on the admin thread by a request for /readyz: {ready, reason}.
  void checkReady(std::function<void(bool, std::string)> done);
  // From SIGTERM on, /readyz answers 503 ("draining"), so that a load balancer stops sending new connections
  // while in-flight requests finish. Thread-safe.
  void setDraining() { draining_.store(true, std::memory_order_relaxed); }
  // The runtime a reload built: /metrics reads the counters of the filters the workers now use. Thread-safe.
  void setRuntime(std::shared_ptr<const Runtime> runtime);
  // The /metrics page, rendered on the admin thread.
  std::string metrics() const;

 private:
  void accept();

  boost::asio::io_context io_{1};
  std::shared_ptr<const Runtime> runtime_;
  std::shared_ptr<store::MemoryStore> memory_;
  std::unique_ptr<store::Store> store_;
  UpstreamPool upstream_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  mutable std::mutex serving_mutex_;  // guards serving_: set by a reload, read by /metrics
  std::shared_ptr<const Runtime> serving_;
  std::thread thread_;
};

}  // namespace gatehouse::proxy
