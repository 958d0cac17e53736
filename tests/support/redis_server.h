// A real redis-server for integration tests, started on a free loopback port and stopped by PID.
#pragma once

#include <sys/types.h>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config/config.h"
#include "store/redis_reply.h"

namespace gatehouse::testing {

struct RedisServerOptions {
  bool tls = false;                     // also listen with TLS (certs generated with openssl into a temp dir)
  std::string requirepass;              // legacy AUTH password
  std::vector<std::string> acl_users;   // ACL SETUSER argument strings, e.g. "alice on >secret ~* +@all"
  std::vector<std::string> extra_args;  // more redis-server arguments
  bool unix_socket = false;             // also listen on <temp dir>/redis.sock (unixSocketPath())
};

class RedisServer {
 public:
  // Starts redis-server (the one on PATH) on a free 127.0.0.1 port with no persistence, and waits until it
  // answers PING. Throws std::runtime_error when it cannot.
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();  // SIGKILL by PID, then removes its temp dir
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const;
  std::uint16_t tlsPort() const;       // 0 without tls
  std::string url() const;             // redis://127.0.0.1:<port>/0
  config::RedisUrl redisUrl() const;   // the same, parsed (with the password when requirepass is set)
  std::string tlsDir() const;          // ca.crt, ca.key, client.crt, client.key, server.crt, server.key
  std::string unixSocketPath() const;  // empty without unix_socket

  void kill();     // SIGKILL; the port stays reserved for restart()
  void restart();  // starts again on the same port(s) (after kill()); waits for PING
  void pause();    // SIGSTOP: a hung Redis
  void resume();   // SIGCONT

  // A blocking command on a fresh hiredis connection (authenticated when requirepass is set), for assertions.
  store::RedisReply command(const std::vector<std::string>& argv) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace gatehouse::testing
