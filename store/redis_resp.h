// RESP on the wire, through hiredis: commands are formatted with redisFormatCommandArgv (binary-safe: every
// argument carries its length) and replies are parsed with hiredis's redisReader, then copied into
// store::RedisReply so that nothing above this file sees a hiredis type. The socket is not hiredis's
// business: Asio owns it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis_reply.h"

struct redisReader;
struct redisReply;

namespace gatehouse::store {

// Converts a hiredis reply tree (not taking ownership).
RedisReply toRedisReply(const redisReply& reply);

// One command in RESP form. The bytes are hiredis's allocation, freed with redisFreeCommand.
class FormattedCommand {
 public:
  FormattedCommand() = default;
  std::string_view bytes() const { return {bytes_.get(), size_}; }
  bool empty() const { return size_ == 0; }

 private:
  friend class CommandFormatter;
  struct Free {
    void operator()(char* command) const;
  };
  std::unique_ptr<char, Free> bytes_;
  std::size_t size_ = 0;
};

// Formats commands; keeps its argument arrays between calls so formatting allocates only the command itself.
class CommandFormatter {
 public:
  // Throws std::bad_alloc when hiredis cannot allocate.
  FormattedCommand format(std::span<const std::string_view> argv);

 private:
  std::vector<const char*> pointers_;
  std::vector<std::size_t> lengths_;
};

// Incremental reply parser: feed whatever the socket delivered, then take complete replies out, oldest first.
class RespReader {
 public:
  enum class Result { Reply, NeedMore, ProtocolError };

  RespReader();
  RespReader(const RespReader&) = delete;
  RespReader& operator=(const RespReader&) = delete;

  // Returns false on a protocol error (error() says which); the connection must then be dropped.
  bool feed(std::string_view bytes);
  // Reply: `reply` holds the next complete reply. NeedMore: feed more bytes first.
  Result next(RedisReply& reply);
  std::string error() const;

 private:
  struct Free {
    void operator()(redisReader* reader) const;
  };
  std::unique_ptr<redisReader, Free> reader_;
};

}  // namespace gatehouse::store
