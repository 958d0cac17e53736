// The RedisClient implementation: one connection (TCP, unix or TLS) on the caller's io_context.
//
// Life of a connection: Connecting (resolve, connect, TLS) → Handshaking (AUTH, SELECT, CLIENT SETNAME,
// pipelined in one write) → Connected. Any failure closes it, completes every pending command, and — unless
// stopped — waits a jittered exponential backoff before the next attempt. Commands are accepted only while
// Connected; otherwise they fail fast with Unavailable, so a Redis outage never builds a queue.
//
// The pipeline: command() formats into out_ and posts one flush the first time out_ becomes non-empty, so
// every command of one event-loop turn leaves in one write; while a write is in flight, commands accumulate
// and go out together when it completes. Replies are matched to pending_ in order. One steady_timer serves
// all deadlines: it sleeps until the earliest deadline, and when it fires it completes the overdue commands
// with Timeout and leaves their entries as tombstones, because the server will still answer them and replies
// must stay matched in order.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/circular_buffer.hpp>

#include "store/redis_backoff.h"
#include "store/redis_client.h"
#include "store/redis_resp.h"
#include "store/redis_stream.h"

namespace gatehouse::store {

class RedisConnection final : public RedisClient {
 public:
  using Clock = std::chrono::steady_clock;
  // The outcome of the first connection attempt: nullopt when the handshake succeeded, else the error text.
  using AttemptObserver = std::function<void(std::optional<std::string> error)>;

  // tls_context is required for rediss:// urls. reconnect = false (probe()): a failed connection stays down.
  RedisConnection(boost::asio::io_context& io, RedisClientOptions options,
                  std::shared_ptr<boost::asio::ssl::context> tls_context, bool reconnect);

  // Called once with the outcome of the first attempt; set before start().
  void onFirstAttempt(AttemptObserver observer) { first_attempt_observer_ = std::move(observer); }

  void start() override;
  void stop() override;
  bool connected() const override { return state_ == State::Connected; }
  RedisClientStats stats() const override { return stats_; }
  void command(std::span<const std::string_view> argv, RedisCallback done) override;
  void eval(const LuaScript& script, std::span<const std::string_view> keys,
            std::span<const std::string_view> args, RedisCallback done) override;
  void pipeline(std::span<const std::span<const std::string_view>> commands, RedisCallback done) override;

  // "127.0.0.1:6379" or "unix:/path": how logs and errors name the server (never with credentials).
  const std::string& endpoint() const { return endpoint_; }

 private:
  enum class State { Idle, Connecting, Handshaking, Connected, WaitingToReconnect, Stopped };
  enum class Purpose : std::uint8_t { User, Auth, Select, SetName, ScriptLoad };

  // One socket's worth of state. Handlers hold it by shared_ptr, so the stream and the buffers an operation
  // uses outlive a reset that replaced it; a handler whose link is no longer link_ does nothing.
  struct Link {
    Link(boost::asio::io_context& io, const config::RedisUrl& url, boost::asio::ssl::context* tls)
        : stream(io, url, tls) {}
    RedisStream stream;
    RespReader reader;
    RedisReply reply;  // the reply being dispatched; reused, so that parsing replies allocates nothing
    std::vector<char> read_buffer;
    std::string write_buffer;  // the bytes of the write in flight
    bool writing = false;
  };

  struct Pending {
    RedisCallback done;  // empty: a tombstone (timed out) or an internal command
    Clock::time_point deadline;
    Purpose purpose = Purpose::User;
    // An EVALSHA that may be retried once on NOSCRIPT: the script to load and the command to send again.
    const LuaScript* script = nullptr;
    std::string retry;
    // The replies this entry takes: more than one for a pipeline(), whose replies are gathered in
    // group_reply_ until the last one arrives.
    std::uint32_t replies = 1;
  };
  static_assert(std::is_nothrow_move_constructible_v<Pending>,
                "the pending ring moves entries when it grows");

  std::shared_ptr<RedisConnection> self() {
    return std::static_pointer_cast<RedisConnection>(shared_from_this());
  }

  // Connection lifecycle.
  void connect();
  void onStreamConnected(const std::shared_ptr<Link>& link, const boost::system::error_code& error,
                         std::string_view stage);
  void startHandshake();
  void onHandshakeReply(Purpose step, const RedisReply& reply);
  void onReady();
  // Closes the link, completes every pending command with `pending_status`, and schedules a reconnect.
  void dropLink(const std::string& reason, StoreStatus pending_status);
  void scheduleReconnect();
  void reportFirstAttempt(std::optional<std::string> error);

  // The pipeline.
  bool admit(RedisCallback& done);
  void enqueue(std::string_view bytes, Pending entry);
  void track(Pending entry);  // its command is in out_ already
  std::string takeSpareCommand();
  void recycleCommand(std::string command);
  void scheduleFlush();
  void flush();
  void onWritten(const std::shared_ptr<Link>& link, const boost::system::error_code& error);
  void readMore(const std::shared_ptr<Link>& link);
  void onRead(const std::shared_ptr<Link>& link, const boost::system::error_code& error, std::size_t bytes);
  void dispatch(const RedisReply& reply);
  // Takes one reply for the pipeline() at the front of pending_; true when it was the last one.
  bool gatherGroupReply(Pending& front, const RedisReply& reply);
  void retryAfterNoScript(Pending entry);

  // Deadlines.
  void armCommandTimer(Clock::time_point at);
  void onCommandTimer();

  void failPending(StoreStatus status);
  void post(RedisCallback done, StoreStatus status);

  boost::asio::io_context& io_;
  const RedisClientOptions options_;
  const std::shared_ptr<boost::asio::ssl::context> tls_context_;
  const bool reconnect_;
  const std::string endpoint_;

  State state_ = State::Idle;
  std::shared_ptr<Link> link_;
  // A ring that only grows: after warm-up, queueing a command allocates nothing (a deque would allocate and
  // free a block every few commands).
  boost::circular_buffer<Pending> pending_;
  int handshake_replies_left_ = 0;
  std::string out_;  // formatted commands waiting for the next write; reused
  bool flush_posted_ = false;
  CommandFormatter formatter_;
  std::vector<std::string_view> eval_argv_;  // reused by eval()
  // The replies of the pipeline() being answered, as one Array; its elements keep their capacity, so that
  // gathering the small replies of a steady stream of pipelines allocates nothing.
  RedisReply group_reply_{RedisReply::Type::Array, 0, {}, {}};
  std::uint32_t group_received_ = 0;  // how many of them have arrived
  // Buffers for the copies of EVALSHA commands kept for a NOSCRIPT retry, reused: a rate-limit check then
  // formats and keeps its command without allocating.
  std::vector<std::string> spare_commands_;
  // Scripts seen by eval(), by SHA1: a NOSCRIPT retry needs the source when the caller's copy may be gone.
  std::unordered_map<std::string, LuaScript> scripts_;

  boost::asio::steady_timer command_timer_;
  bool command_timer_armed_ = false;
  Clock::time_point command_timer_expiry_{};
  std::uint64_t command_timer_generation_ = 0;

  boost::asio::steady_timer connect_timer_;  // the connect + handshake deadline, then the reconnect delay
  ReconnectBackoff backoff_;
  bool logged_current_outage_ = false;
  AttemptObserver first_attempt_observer_;
  RedisClientStats stats_;
};

}  // namespace gatehouse::store
