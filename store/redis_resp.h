// RESP on the wire. Replies are parsed with hiredis's redisReader, which builds them directly into
// store::RedisReply (its reply-object hooks), so that nothing above this file sees a hiredis type. Commands
// are formatted here (binary-safe: every argument carries its length): hiredis 0.14's redisFormatCommandArgv
// calls sprintf for every argument's length line, which profiling showed as the largest libc cost of a
// rate-limit check after malloc. The socket is not hiredis's business: Asio owns it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis_reply.h"

struct redisReader;

namespace gatehouse::store {

// One command in RESP form: "*<argc>\r\n" then "$<length>\r\n<bytes>\r\n" per argument.
class FormattedCommand {
 public:
  FormattedCommand() = default;
  std::string_view bytes() const { return bytes_; }
  bool empty() const { return bytes_.empty(); }

 private:
  friend class CommandFormatter;
  std::string bytes_;
};

// Formats commands: into a buffer of the caller's (the connection's output buffer, reused), or into one
// allocation of their own, sized exactly beforehand.
class CommandFormatter {
 public:
  void append(std::string& out, std::span<const std::string_view> argv);
  FormattedCommand format(std::span<const std::string_view> argv);
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
  // Reply: `reply` holds the next complete reply. NeedMore: feed more bytes first. Pass the same object every
  // time: its strings and arrays are swapped with the reader's tree and reused, so that a steady stream of
  // replies of the same shape allocates nothing.
  Result next(RedisReply& reply);
  std::string error() const;

 private:
  struct Free {
    void operator()(redisReader* reader) const;
  };
  RedisReply
      building_;  // where hiredis builds the reply in progress (declared first: the reader points at it)
  std::unique_ptr<redisReader, Free> reader_;
};

}  // namespace gatehouse::store
