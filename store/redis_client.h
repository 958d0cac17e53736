// An asynchronous Redis client that runs on one worker's io_context: no threads of its own, no locks, no
// blocking calls. hiredis parses replies (redisReader); commands are formatted as RESP in
// store/redis_resp.cpp (hiredis 0.14's formatter sprintf's every length); Asio owns the socket, so TLS goes
// through Asio's SSL stream.
//
// Pipelining: commands issued during one turn of the event loop are written together in one write; replies
// are matched to callers in order. Every command completes exactly once: with a reply, or with an error
// status when its deadline (options.command_timeout) passes, the connection breaks, or the client is down
// (fail fast, no queueing while disconnected). The client reconnects by itself, with exponential backoff
// and jitter.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "proxy/config/config.h"
#include "store/inline_function.h"
#include "store/redis_reply.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gatehouse::store {

struct RedisClientOptions {
  config::RedisUrl url;
  config::TlsConfig tls;
  std::chrono::milliseconds command_timeout{50};
  std::chrono::milliseconds connect_timeout{1000};
  std::string client_name = "gatehouse";
  std::size_t max_pending = 65536;  // commands in flight past this fail at once with Unavailable
  // A connection whose oldest unanswered command is this far past its deadline is taken for hung (a
  // SIGSTOPped server, a half-open TCP connection): it is closed, every pending command fails with Timeout,
  // and the client reconnects. Until then late replies are simply discarded.
  std::chrono::milliseconds stall_reset{1000};
  // Reconnect delays grow from min to max (exponential, jittered).
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{1000};
};

// Counters since create(), for metrics and tests.
struct RedisClientStats {
  std::uint64_t commands = 0;  // accepted into the pipeline (a NOSCRIPT retry is not counted again; each
                               // command of a pipeline() is)
  std::uint64_t writes = 0;    // socket writes started: one per flush of the pipeline
  std::uint64_t replies = 0;   // replies read, including discarded late ones and handshake replies
  std::uint64_t timeouts = 0;  // commands completed with Timeout
  std::uint64_t rejected = 0;  // failed fast with Unavailable: not connected or max_pending reached
  std::uint64_t failed = 0;    // completed with Unavailable because the connection broke or stop() was called
  std::uint64_t connects = 0;  // handshakes completed
  std::uint64_t disconnects = 0;   // established connections lost (or reset as hung)
  std::uint64_t script_loads = 0;  // NOSCRIPT recoveries (SCRIPT LOAD + EVALSHA retry)
};

// A Lua script, sent as EVALSHA; on NOSCRIPT the client loads it (SCRIPT LOAD) and retries, invisibly to
// the caller.
struct LuaScript {
  std::string source;
  std::string sha1;  // hex, computed from source
  static LuaScript fromSource(std::string source);
};

// The reply is valid only during the call (the connection reuses it for the next one): copy what you keep.
// Inline up to 128 bytes: enough for the store's handlers, which capture the caller's callback and a check's
// limits, so that a command allocates nothing for its callback.
using RedisCallback = InlineFunction<void(StoreStatus status, const RedisReply& reply), 128>;

class RedisClient : public std::enable_shared_from_this<RedisClient> {
 public:
  // Throws std::runtime_error when the TLS files of a rediss:// url cannot be loaded. Not thread-safe: every
  // call is made on io's thread. Call stop() when done: pending operations keep the client alive until then.
  static std::shared_ptr<RedisClient> create(boost::asio::io_context& io, RedisClientOptions options);
  virtual ~RedisClient() = default;

  // Connects (AUTH, SELECT, CLIENT SETNAME) in the background; reconnects on failure.
  virtual void start() = 0;
  virtual void stop() = 0;  // close; pending commands complete with Unavailable
  virtual bool connected() const = 0;
  virtual RedisClientStats stats() const = 0;

  // argv elements are sent as RESP bulk strings (binary-safe). The callback runs on the io_context, never
  // inside this call. A reply of type Error arrives with status Ok: the server answered.
  virtual void command(std::span<const std::string_view> argv, RedisCallback done) = 0;
  void command(std::initializer_list<std::string_view> argv, RedisCallback done) {
    command(std::span<const std::string_view>(argv.begin(), argv.size()), std::move(done));
  }
  virtual void eval(const LuaScript& script, std::span<const std::string_view> keys,
                    std::span<const std::string_view> args, RedisCallback done) = 0;
  // Several commands, back to back in the pipeline, answered together: `done` gets one Array reply holding
  // each command's reply in order (a command that failed is an element of type Error). One deadline covers
  // them all. For a caller that needs the answers of a few plain commands at once: Redis runs plain
  // commands for a fraction of the CPU of a Lua script call. `commands` must not be empty.
  virtual void pipeline(std::span<const std::span<const std::string_view>> commands, RedisCallback done) = 0;

  // Connects once with the given options and runs the handshake, blocking, on a private io_context: for
  // startup checks (a wrong password must stop Gatehouse with a clear message). Returns the error text,
  // or nullopt.
  static std::optional<std::string> probe(const RedisClientOptions& options,
                                          std::chrono::milliseconds timeout);
};

}  // namespace gatehouse::store
