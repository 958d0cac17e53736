// The process: the workers, the admin listener, the shutdown sequence and reloads. A SIGTERM or SIGINT stops
// accepting, lets in-flight requests finish for up to limits.drain_timeout, then stops. A SIGHUP loads the
// configuration again and hands it to every worker.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "proxy/access_log.h"
#include "proxy/admin_server.h"
#include "proxy/config/loader.h"
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

  // Applies a newly loaded configuration to the requests that begin from now on, on every worker: routes,
  // filters, session and rate-limit policies, limits, trusted_proxies, upstream.response_timeout, log.level.
  // What only takes effect at start (keepRestartOnlySettings) keeps its running value, with a warning naming
  // the key. Called from the thread that handles signals (not concurrently with itself).
  void reload(std::shared_ptr<const config::Config> config);

  // Where a reload reads the configuration from: main loads the --config file again.
  using ConfigSource = std::function<config::LoadResult()>;
  // Catches SIGTERM, SIGINT and SIGHUP from now on: call it before start(), so that a signal sent as soon as
  // the port answers is not lost (or, for SIGHUP, fatal). runUntilSignalled() acts on them.
  void catchSignals();
  // Blocks until SIGTERM or SIGINT, then shuts down. Each SIGHUP reloads from `source`; a configuration that
  // fails to load is logged (every error, with key and line) and the running one stays. Without a source,
  // SIGHUP is logged and ignored.
  void runUntilSignalled(ConfigSource source = {});

  std::uint16_t port() const;  // the bound listen port (useful with `listen: 127.0.0.1:0`)
  std::uint16_t adminPort() const { return admin_ ? admin_->port() : 0; }

 private:
  struct Signals;
  void abandonStart();
  void reloadFrom(const ConfigSource& source);

  // As started: the settings a reload cannot change come from here, and the upstream pools refer to its
  // config for as long as they live.
  std::shared_ptr<const Runtime> runtime_;
  // One per worker, read by that worker's thread only. A reload replaces its contents on that thread (posted
  // to the worker's io_context, between two handlers), so the request path reads it without a lock.
  std::vector<std::shared_ptr<Runtime>> worker_runtimes_;
  std::mutex current_mutex_;
  std::shared_ptr<const config::Config> current_;  // the latest configuration applied (for drain_timeout)
  std::shared_ptr<store::MemoryStore> memory_;
  AccessLog access_log_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminServer> admin_;
  bool stopped_ = false;
  std::unique_ptr<Signals> signals_;
};

}  // namespace gatehouse::proxy
