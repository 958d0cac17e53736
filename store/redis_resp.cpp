#include "store/redis_resp.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <new>

namespace gatehouse::store {

RedisReply toRedisReply(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::String;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::Status;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::Error;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::Integer;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::Array;
      out.elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i)
        out.elements.push_back(toRedisReply(*reply.element[i]));
      break;
    case REDIS_REPLY_NIL:
    default:
      out.type = RedisReply::Type::Nil;
      break;
  }
  return out;
}

namespace {

constexpr std::size_t kMaxNumberChars = 20;  // the digits of the largest std::size_t

// "<marker><number>\r\n"
void appendLengthLine(std::string& out, char marker, std::size_t number) {
  char digits[kMaxNumberChars];
  const auto end = std::to_chars(digits, digits + sizeof(digits), number).ptr;
  out.push_back(marker);
  out.append(digits, static_cast<std::size_t>(end - digits));
  out.append("\r\n", 2);
}

}  // namespace

FormattedCommand CommandFormatter::format(std::span<const std::string_view> argv) {
  std::size_t size = 1 + kMaxNumberChars + 2;
  for (std::string_view arg : argv) size += 1 + kMaxNumberChars + 2 + arg.size() + 2;
  FormattedCommand command;
  auto& out = command.bytes_;
  out.reserve(size);
  appendLengthLine(out, '*', argv.size());
  for (std::string_view arg : argv) {
    appendLengthLine(out, '$', arg.size());
    // An empty view may carry a null pointer: append nothing rather than read through it.
    if (!arg.empty()) out.append(arg.data(), arg.size());
    out.append("\r\n", 2);
  }
  return command;
}

void RespReader::Free::operator()(redisReader* reader) const {
  redisReaderFree(reader);
}

RespReader::RespReader() : reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

bool RespReader::feed(std::string_view bytes) {
  return redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) == REDIS_OK;
}

RespReader::Result RespReader::next(RedisReply& reply) {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) return Result::ProtocolError;
  if (raw == nullptr) return Result::NeedMore;
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> owned(static_cast<redisReply*>(raw),
                                                                &freeReplyObject);
  reply = toRedisReply(*owned);
  return Result::Reply;
}

std::string RespReader::error() const {
  return reader_->errstr;
}

}  // namespace gatehouse::store
