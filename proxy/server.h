// The process: the workers, the admin listener, and the shutdown sequence. A SIGTERM or SIGINT stops
// accepting, lets in-flight requests finish for up to limits.drain_timeout, then stops.
#pragma once

#include <memory>
#include <vector>

#include "proxy/access_log.h"
#include "proxy/admin_server.h"
#include "proxy/runtime.h"
#include "proxy/worker.h"

namespace gatehouse::store {
class MemoryStore;
}

namespace gatehouse::proxy {

class Server {
 public:
  explicit Server(std::shared_ptr<const Runtime> runtime);
  ~Server();

  // Binds every listening socket and starts the threads. Throws std::runtime_error when a socket can't be
  // bound ("listen 127.0.0.1:8080: address already in use"), after stopping whatever had started (the server
  // is then stopped: no drain follows).
  void start();
  // Drains (up to drain_timeout) and stops. Safe to call from any thread, once.
  void shutdown();
  // Blocks until SIGTERM or SIGINT, then shuts down.
  void runUntilSignalled();

  std::uint16_t port() const;  // the bound listen port (useful with `listen: 127.0.0.1:0`)
  std::uint16_t adminPort() const { return admin_ ? admin_->port() : 0; }

 private:
  void abandonStart();

  std::shared_ptr<const Runtime> runtime_;
  std::shared_ptr<store::MemoryStore> memory_;
  AccessLog access_log_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminServer> admin_;
  bool stopped_ = false;
};

}  // namespace gatehouse::proxy
