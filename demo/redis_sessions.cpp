#include "demo/redis_sessions.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>
#include <iostream>
#include <stdexcept>

#include "demo/session_id.h"

namespace gatehouse::demo {
namespace {

// A Redis call that does not answer within this is treated as a failure: the demo app answers 503 rather than
// hang.
constexpr timeval kRedisTimeout{1, 0};

constexpr std::string_view kKeyPrefix = "session:";

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

template <typename Int>
Int parseNumber(std::string_view text, std::string_view what) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument("redis url: bad " + std::string(what) + " '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

RedisEndpoint RedisEndpoint::parse(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    throw std::invalid_argument("redis url must start with redis:// (got '" + std::string(url) + "')");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisEndpoint endpoint;

  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) endpoint.db = parseNumber<int>(db, "database");
    rest = rest.substr(0, slash);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      endpoint.password = std::string(credentials);  // redis://secret@host: a password, as redis-cli reads it
    } else {
      endpoint.user = std::string(credentials.substr(0, colon));
      endpoint.password = std::string(credentials.substr(colon + 1));
    }
    rest = rest.substr(at + 1);
  }
  std::string_view host = rest;
  if (rest.starts_with('[')) {  // an IPv6 literal: [::1]:6379
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("redis url: unterminated '[' in host");
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw std::invalid_argument("redis url: expected ':' after ']'");
      endpoint.port = parseNumber<std::uint16_t>(after.substr(1), "port");
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    endpoint.port = parseNumber<std::uint16_t>(rest.substr(colon + 1), "port");
  }
  if (!host.empty()) endpoint.host = std::string(host);
  return endpoint;
}

void RedisSessions::ContextDeleter::operator()(redisContext* context) const {
  redisFree(context);
}

RedisSessions::RedisSessions(RedisEndpoint endpoint, std::chrono::milliseconds ttl)
    : endpoint_(std::move(endpoint)), ttl_(ttl) {}

RedisSessions::~RedisSessions() = default;

bool RedisSessions::ensureConnected() {
  if (context_ && context_->err == 0) return true;
  context_.reset(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, kRedisTimeout));
  if (!context_ || context_->err != 0) {
    std::cerr << "demo app: cannot connect to redis " << endpoint_.host << ":" << endpoint_.port << ": "
              << (context_ ? context_->errstr : "out of memory") << "\n";
    context_.reset();
    return false;
  }
  redisSetTimeout(context_.get(), kRedisTimeout);

  const auto command_ok = [this](ReplyPtr reply, std::string_view what) {
    if (reply && reply->type != REDIS_REPLY_ERROR) return true;
    std::cerr << "demo app: redis " << what << " failed: " << (reply ? reply->str : context_->errstr) << "\n";
    context_.reset();
    return false;
  };
  if (!endpoint_.password.empty()) {
    ReplyPtr reply(static_cast<redisReply*>(
        endpoint_.user.empty() ? redisCommand(context_.get(), "AUTH %s", endpoint_.password.c_str())
                               : redisCommand(context_.get(), "AUTH %s %s", endpoint_.user.c_str(),
                                              endpoint_.password.c_str())));
    if (!command_ok(std::move(reply), "AUTH")) return false;
  }
  if (endpoint_.db != 0) {
    ReplyPtr reply(static_cast<redisReply*>(redisCommand(context_.get(), "SELECT %d", endpoint_.db)));
    if (!command_ok(std::move(reply), "SELECT")) return false;
  }
  return true;
}

std::optional<std::string> RedisSessions::create(std::string_view value_json) {
  if (!ensureConnected()) return std::nullopt;
  std::string id = newSessionId();
  const std::string key = std::string(kKeyPrefix) + id;
  const std::string ttl = std::to_string(ttl_.count());
  // %b passes binary-safe arguments: the value is JSON built by the app, but never trust quoting in a format
  // string.
  ReplyPtr reply(
      static_cast<redisReply*>(redisCommand(context_.get(), "SET %b %b PX %s", key.data(), key.size(),
                                            value_json.data(), value_json.size(), ttl.c_str())));
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    std::cerr << "demo app: redis SET failed: " << (reply ? reply->str : context_->errstr) << "\n";
    context_.reset();  // the connection's state is unknown after an I/O error: start again next time
    return std::nullopt;
  }
  return id;
}

bool RedisSessions::remove(std::string_view id) {
  if (!ensureConnected()) return false;
  const std::string key = std::string(kKeyPrefix) + std::string(id);
  ReplyPtr reply(static_cast<redisReply*>(redisCommand(context_.get(), "DEL %b", key.data(), key.size())));
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    std::cerr << "demo app: redis DEL failed: " << (reply ? reply->str : context_->errstr) << "\n";
    context_.reset();
    return false;
  }
  return true;
}

}  // namespace gatehouse::demo
