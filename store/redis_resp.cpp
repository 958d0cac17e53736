#include "store/redis_resp.h"

#include <hiredis/hiredis.h>

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

void FormattedCommand::Free::operator()(char* command) const {
  redisFreeCommand(command);
}

FormattedCommand CommandFormatter::format(std::span<const std::string_view> argv) {
  pointers_.clear();
  lengths_.clear();
  for (std::string_view arg : argv) {
    // An empty view may carry a null pointer; even a zero-byte memcpy from it is undefined behaviour.
    pointers_.push_back(arg.data() != nullptr ? arg.data() : "");
    lengths_.push_back(arg.size());
  }
  char* bytes = nullptr;
  const int size =
      redisFormatCommandArgv(&bytes, static_cast<int>(argv.size()), pointers_.data(), lengths_.data());
  if (size < 0 || bytes == nullptr) throw std::bad_alloc();
  FormattedCommand command;
  command.bytes_.reset(bytes);
  command.size_ = static_cast<std::size_t>(size);
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
