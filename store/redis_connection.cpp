#include "store/redis_connection.h"

#include <algorithm>
#include <random>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include "store/decimal_text.h"

namespace gatehouse::store {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::size_t kReadChunk = 16 * 1024;  // hiredis's own buffer compacts in steps of this order

std::string describeEndpoint(const config::RedisUrl& url) {
  if (url.unix_socket) return "unix:" + url.path;
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

bool isNoScript(const RedisReply& reply) {
  return reply.isError() && reply.str.starts_with("NOSCRIPT");
}

}  // namespace

RedisConnection::RedisConnection(asio::io_context& io, RedisClientOptions options,
                                 std::shared_ptr<asio::ssl::context> tls_context, bool reconnect)
    : io_(io),
      options_(std::move(options)),
      tls_context_(std::move(tls_context)),
      reconnect_(reconnect),
      endpoint_(describeEndpoint(options_.url)),
      command_timer_(io),
      connect_timer_(io),
      backoff_(options_.reconnect_min, options_.reconnect_max, std::random_device{}()) {}

// ---- lifecycle --------------------------------------------------------------------------------------------

void RedisConnection::start() {
  if (state_ != State::Idle) return;
  connect();
}

void RedisConnection::stop() {
  if (state_ == State::Stopped) return;
  const bool was_connected = state_ == State::Connected;
  state_ = State::Stopped;
  if (link_) link_->stream.close();
  link_.reset();
  connect_timer_.cancel();
  command_timer_.cancel();
  command_timer_armed_ = false;
  out_.clear();
  failPending(StoreStatus::Unavailable);
  if (was_connected) spdlog::info("redis {}: closed", endpoint_);
  reportFirstAttempt("stopped before the connection was established");
}

void RedisConnection::connect() {
  state_ = State::Connecting;
  auto link = std::make_shared<Link>(io_, options_.url, tls_context_.get());
  link_ = link;
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self = self(), link](const error_code& error) {
    if (error || link != self->link_ || self->state_ == State::Connected) return;
    self->dropLink("no connection within " + std::to_string(self->options_.connect_timeout.count()) + "ms" +
                       (self->state_ == State::Handshaking ? " (the handshake got no answer)" : ""),
                   StoreStatus::Unavailable);
  });
  link->stream.asyncConnect([self = self(), link](const error_code& error, std::string_view stage) {
    self->onStreamConnected(link, error, stage);
  });
}

void RedisConnection::onStreamConnected(const std::shared_ptr<Link>& link, const error_code& error,
                                        std::string_view stage) {
  if (link != link_) return;
  if (error) {
    dropLink(std::string(stage) + ": " + error.message(), StoreStatus::Unavailable);
    return;
  }
  state_ = State::Handshaking;
  link->read_buffer.resize(kReadChunk);
  readMore(link);
  startHandshake();
}

void RedisConnection::startHandshake() {
  // Everything is pipelined: the replies come back in this order, and the first error fails the attempt.
  const auto no_deadline = Clock::time_point::max();  // connect_timer_ bounds the whole handshake
  handshake_replies_left_ = 0;
  const auto send = [&](std::initializer_list<std::string_view> argv, Purpose step) {
    FormattedCommand formatted =
        formatter_.format(std::span<const std::string_view>(argv.begin(), argv.size()));
    enqueue(formatted.bytes(), Pending{nullptr, no_deadline, step, nullptr, {}});
    ++handshake_replies_left_;
  };
  const config::RedisUrl& url = options_.url;
  if (!url.password.empty()) {
    if (url.user.empty()) {
      send({"AUTH", url.password}, Purpose::Auth);
    } else {
      send({"AUTH", url.user, url.password}, Purpose::Auth);
    }
  }
  if (url.db != 0) send({"SELECT", std::to_string(url.db)}, Purpose::Select);
  if (!options_.client_name.empty()) send({"CLIENT", "SETNAME", options_.client_name}, Purpose::SetName);
  if (handshake_replies_left_ == 0) onReady();
}

void RedisConnection::onHandshakeReply(Purpose step, const RedisReply& reply) {
  if (reply.isError()) {
    switch (step) {
      case Purpose::Auth:
        dropLink("authentication failed: " + reply.str, StoreStatus::Unavailable);
        return;
      case Purpose::Select:
        dropLink("SELECT " + std::to_string(options_.url.db) + " failed: " + reply.str,
                 StoreStatus::Unavailable);
        return;
      default:
        if (reply.str.starts_with("NOAUTH")) {
          // The first command after connecting tells whether the server wants a password we were not given.
          dropLink("authentication required but no password is configured: " + reply.str,
                   StoreStatus::Unavailable);
          return;
        }
        // The name only labels the connection in CLIENT LIST; a user without +client can still do the work.
        spdlog::warn("redis {}: CLIENT SETNAME refused ({}); continuing without a name", endpoint_,
                     reply.str);
        break;
    }
  }
  if (--handshake_replies_left_ == 0) onReady();
}

void RedisConnection::onReady() {
  connect_timer_.cancel();
  state_ = State::Connected;
  ++stats_.connects;
  if (logged_current_outage_) {
    spdlog::info("redis {}: connected again after {} failed attempts", endpoint_, backoff_.attempts());
  } else {
    spdlog::info("redis {}: connected", endpoint_);
  }
  logged_current_outage_ = false;
  backoff_.reset();
  reportFirstAttempt(std::nullopt);
}

void RedisConnection::dropLink(const std::string& reason, StoreStatus pending_status) {
  const bool was_connected = state_ == State::Connected;
  if (link_) link_->stream.close();
  link_.reset();
  connect_timer_.cancel();
  command_timer_.cancel();
  command_timer_armed_ = false;
  out_.clear();
  handshake_replies_left_ = 0;
  failPending(pending_status);
  if (was_connected) {
    ++stats_.disconnects;
    spdlog::warn("redis {}: connection lost: {}; reconnecting", endpoint_, reason);
    logged_current_outage_ = true;
  } else if (!logged_current_outage_) {
    // One warning per outage; the retries that follow are logged at debug.
    spdlog::warn("redis {}: {}{}", endpoint_, reason, reconnect_ ? "; retrying in the background" : "");
    logged_current_outage_ = true;
  } else {
    spdlog::debug("redis {}: attempt {} failed: {}", endpoint_, backoff_.attempts(), reason);
  }
  reportFirstAttempt("redis " + endpoint_ + ": " + reason);
  scheduleReconnect();
}

void RedisConnection::scheduleReconnect() {
  if (!reconnect_) {
    state_ = State::Idle;
    return;
  }
  state_ = State::WaitingToReconnect;
  connect_timer_.expires_after(backoff_.next());
  connect_timer_.async_wait([self = self()](const error_code& error) {
    if (error || self->state_ != State::WaitingToReconnect) return;
    self->connect();
  });
}

void RedisConnection::reportFirstAttempt(std::optional<std::string> error) {
  if (!first_attempt_observer_) return;
  auto observer = std::move(first_attempt_observer_);
  first_attempt_observer_ = nullptr;
  observer(std::move(error));
}

// ---- commands ---------------------------------------------------------------------------------------------

bool RedisConnection::admit(RedisCallback& done) {
  if (state_ == State::Connected && pending_.size() < options_.max_pending) return true;
  ++stats_.rejected;
  post(std::move(done), StoreStatus::Unavailable);
  return false;
}

void RedisConnection::command(std::span<const std::string_view> argv, RedisCallback done) {
  if (!admit(done)) return;
  ++stats_.commands;
  formatter_.append(out_, argv);
  track(Pending{std::move(done), Clock::now() + options_.command_timeout, Purpose::User, nullptr, {}});
}

void RedisConnection::eval(const LuaScript& script, std::span<const std::string_view> keys,
                           std::span<const std::string_view> args, RedisCallback done) {
  if (!admit(done)) return;
  ++stats_.commands;
  auto known = scripts_.find(script.sha1);
  if (known == scripts_.end()) known = scripts_.emplace(script.sha1, script).first;

  const DecimalText numkeys(keys.size());
  eval_argv_.clear();
  eval_argv_.push_back("EVALSHA");
  eval_argv_.push_back(known->second.sha1);
  eval_argv_.push_back(numkeys.view());
  eval_argv_.insert(eval_argv_.end(), keys.begin(), keys.end());
  eval_argv_.insert(eval_argv_.end(), args.begin(), args.end());
  std::string command = takeSpareCommand();
  formatter_.append(command, eval_argv_);
  out_.append(command);
  track(Pending{std::move(done), Clock::now() + options_.command_timeout, Purpose::User, &known->second,
                std::move(command)});
}

void RedisConnection::pipeline(std::span<const std::span<const std::string_view>> commands,
                               RedisCallback done) {
  if (!admit(done)) return;
  stats_.commands += commands.size();
  for (const auto& argv : commands) formatter_.append(out_, argv);
  Pending entry{std::move(done), Clock::now() + options_.command_timeout, Purpose::User, nullptr, {}};
  entry.replies = static_cast<std::uint32_t>(commands.size());
  track(std::move(entry));
}

std::string RedisConnection::takeSpareCommand() {
  if (spare_commands_.empty()) return {};
  std::string command = std::move(spare_commands_.back());
  spare_commands_.pop_back();
  return command;
}

void RedisConnection::recycleCommand(std::string command) {
  constexpr std::size_t kMaxSpare = 1024;  // past what is in flight at once, buffers are freed
  // Only a buffer that owns heap memory is worth keeping: an empty std::string (a plain command's retry) has
  // the small-string capacity, and an EVALSHA handed one would allocate anyway.
  static const std::size_t kInlineCapacity = std::string().capacity();
  if (command.capacity() <= kInlineCapacity || spare_commands_.size() >= kMaxSpare) return;
  command.clear();
  spare_commands_.push_back(std::move(command));
}

void RedisConnection::enqueue(std::string_view bytes, Pending entry) {
  out_.append(bytes);
  track(std::move(entry));
}

void RedisConnection::track(Pending entry) {
  const auto deadline = entry.deadline;
  if (pending_.full()) pending_.set_capacity(std::max<std::size_t>(64, pending_.capacity() * 2));
  pending_.push_back(std::move(entry));
  if (deadline != Clock::time_point::max()) armCommandTimer(deadline);
  scheduleFlush();
}

void RedisConnection::scheduleFlush() {
  if (flush_posted_ || (link_ && link_->writing)) return;  // a write in flight flushes out_ when it completes
  flush_posted_ = true;
  asio::post(io_, [self = self()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

void RedisConnection::flush() {
  const auto link = link_;
  if (!link || link->writing || out_.empty()) return;
  // Swapping keeps both buffers' capacity: out_ goes on collecting while the previous batch is on the wire.
  std::swap(out_, link->write_buffer);
  out_.clear();
  link->writing = true;
  ++stats_.writes;
  link->stream.asyncWrite(
      asio::buffer(link->write_buffer),
      [self = self(), link](const error_code& error, std::size_t) { self->onWritten(link, error); });
}

void RedisConnection::onWritten(const std::shared_ptr<Link>& link, const error_code& error) {
  if (link != link_) return;
  link->writing = false;
  if (error) {
    dropLink("write: " + error.message(), StoreStatus::Unavailable);
    return;
  }
  flush();  // whatever accumulated during the write goes out now, as one batch
}

void RedisConnection::readMore(const std::shared_ptr<Link>& link) {
  link->stream.asyncReadSome(asio::buffer(link->read_buffer),
                             [self = self(), link](const error_code& error, std::size_t bytes) {
                               self->onRead(link, error, bytes);
                             });
}

void RedisConnection::onRead(const std::shared_ptr<Link>& link, const error_code& error, std::size_t bytes) {
  if (link != link_) return;
  if (error) {
    dropLink(error == asio::error::eof ? std::string("closed by the server") : "read: " + error.message(),
             StoreStatus::Unavailable);
    return;
  }
  if (!link->reader.feed(std::string_view(link->read_buffer.data(), bytes))) {
    dropLink("protocol error: " + link->reader.error(), StoreStatus::Unavailable);
    return;
  }
  for (;;) {
    const RespReader::Result result = link->reader.next(link->reply);
    if (result == RespReader::Result::NeedMore) break;
    if (result == RespReader::Result::ProtocolError) {
      dropLink("protocol error: " + link->reader.error(), StoreStatus::Unavailable);
      return;
    }
    dispatch(link->reply);
    // A callback may have called stop(), or a handshake error dropped the link: the rest is moot.
    if (link != link_) return;
  }
  readMore(link);
}

void RedisConnection::dispatch(const RedisReply& reply) {
  ++stats_.replies;
  if (pending_.empty()) {
    dropLink("a reply nobody asked for (out of sync)", StoreStatus::Unavailable);
    return;
  }
  if (pending_.front().replies > 1 && !gatherGroupReply(pending_.front(), reply)) return;
  Pending entry = std::move(pending_.front());
  pending_.pop_front();
  switch (entry.purpose) {
    case Purpose::Auth:
    case Purpose::Select:
    case Purpose::SetName:
      onHandshakeReply(entry.purpose, reply);
      return;
    case Purpose::ScriptLoad:
      // A failed load surfaces through the EVALSHA retry right behind it, which then gets NOSCRIPT.
      if (reply.isError()) spdlog::warn("redis {}: SCRIPT LOAD failed: {}", endpoint_, reply.str);
      return;
    case Purpose::User:
      if (entry.replies > 1) {  // a pipeline(), all its replies gathered
        if (entry.done) entry.done(StoreStatus::Ok, group_reply_);
        group_reply_.elements.clear();
        return;
      }
      if (!entry.done) return;  // a tombstone: its caller already got Timeout
      if (entry.script != nullptr && isNoScript(reply)) {
        retryAfterNoScript(std::move(entry));
        return;
      }
      entry.done(StoreStatus::Ok, reply);
      recycleCommand(std::move(entry.retry));
      return;
  }
}

bool RedisConnection::gatherGroupReply(Pending& front, const RedisReply& reply) {
  ++group_received_;
  if (front.done) group_reply_.elements.push_back(reply);  // a tombstone takes its replies, keeps none
  if (group_received_ < front.replies) return false;
  group_received_ = 0;
  return true;
}

void RedisConnection::retryAfterNoScript(Pending entry) {
  // The server lost its script cache (SCRIPT FLUSH, restart, failover). Load the script and send the same
  // EVALSHA again, right behind it in the pipeline; the retry keeps the caller's deadline and callback and is
  // not retried a second time.
  ++stats_.script_loads;
  const std::string_view load_argv[] = {"SCRIPT", "LOAD", entry.script->source};
  const FormattedCommand load = formatter_.format(load_argv);
  enqueue(load.bytes(), Pending{nullptr, entry.deadline, Purpose::ScriptLoad, nullptr, {}});
  enqueue(entry.retry, Pending{std::move(entry.done), entry.deadline, Purpose::User, nullptr, {}});
  recycleCommand(std::move(entry.retry));
}

// ---- deadlines --------------------------------------------------------------------------------------------

void RedisConnection::armCommandTimer(Clock::time_point at) {
  // Deadlines arrive in increasing order except for NOSCRIPT retries, which keep their original deadline:
  // only an earlier deadline moves the timer.
  if (command_timer_armed_ && at >= command_timer_expiry_) return;
  command_timer_armed_ = true;
  command_timer_expiry_ = at;
  const std::uint64_t generation = ++command_timer_generation_;
  command_timer_.expires_at(at);
  command_timer_.async_wait([self = self(), generation](const error_code& error) {
    if (error || generation != self->command_timer_generation_) return;
    self->command_timer_armed_ = false;
    self->onCommandTimer();
  });
}

void RedisConnection::onCommandTimer() {
  if (state_ != State::Connected || pending_.empty()) return;
  const auto now = Clock::now();
  // Scanning every entry (not just the front) is what lets a retry's earlier deadline be honoured; the timer
  // fires at most about once per command_timeout, and pending_ holds only what is in flight.
  std::vector<RedisCallback> expired;
  auto next = Clock::time_point::max();
  for (Pending& entry : pending_) {
    if (!entry.done) continue;
    if (entry.deadline <= now) {
      expired.push_back(std::move(entry.done));
      entry.done = nullptr;
      entry.script = nullptr;  // a late NOSCRIPT must not resurrect it
      recycleCommand(std::move(entry.retry));
      entry.retry = {};
    } else {
      next = std::min(next, entry.deadline);
    }
  }
  stats_.timeouts += expired.size();
  const auto stalled_at = pending_.front().deadline + options_.stall_reset;
  if (stalled_at <= now) {
    // The server is taken for hung: the expired callers get Timeout, and so do the rest, through dropLink.
    for (auto& done : expired) post(std::move(done), StoreStatus::Timeout);
    dropLink("no reply for " + std::to_string(options_.stall_reset.count()) +
                 "ms past the deadline (server hung?)",
             StoreStatus::Timeout);
    return;
  }
  armCommandTimer(std::min(next, stalled_at));
  for (auto& done : expired) done(StoreStatus::Timeout, RedisReply{});
}

void RedisConnection::failPending(StoreStatus status) {
  std::vector<RedisCallback> callbacks;
  for (Pending& entry : pending_) {
    if (entry.done) callbacks.push_back(std::move(entry.done));
  }
  pending_.clear();
  group_received_ = 0;
  group_reply_.elements.clear();
  if (callbacks.empty()) return;
  if (status == StoreStatus::Timeout) {
    stats_.timeouts += callbacks.size();
  } else {
    stats_.failed += callbacks.size();
  }
  // One posted batch, not one post per command: a broken connection may hold tens of thousands of them.
  asio::post(io_, [callbacks = std::move(callbacks), status] {
    for (const auto& done : callbacks) done(status, RedisReply{});
  });
}

void RedisConnection::post(RedisCallback done, StoreStatus status) {
  asio::post(io_, [done = std::move(done), status] { done(status, RedisReply{}); });
}

}  // namespace gatehouse::store
