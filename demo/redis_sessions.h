// The demo app's session store: a blocking hiredis connection. The demo app is single-threaded and tiny, so a
// blocking call with a short timeout is acceptable here; Gatehouse itself never blocks its event loops on
// Redis.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "demo/session_backend.h"

struct redisContext;

namespace gatehouse::demo {

// redis://[[user]:password@]host[:port][/db]. Throws std::invalid_argument on anything else.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string user;
  std::string password;
  int db = 0;

  static RedisEndpoint parse(std::string_view url);
};

class RedisSessions final : public SessionBackend {
 public:
  RedisSessions(RedisEndpoint endpoint, std::chrono::milliseconds ttl);
  ~RedisSessions() override;
  RedisSessions(const RedisSessions&) = delete;
  RedisSessions& operator=(const RedisSessions&) = delete;

  std::optional<std::string> create(std::string_view value_json) override;
  bool remove(std::string_view id) override;

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  // Connects (AUTH, SELECT) when there is no usable connection; false when Redis cannot be reached.
  bool ensureConnected();

  RedisEndpoint endpoint_;
  std::chrono::milliseconds ttl_;
  ContextPtr context_;
};

}  // namespace gatehouse::demo
