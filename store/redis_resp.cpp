#include "store/redis_resp.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <new>
#include <utility>

namespace gatehouse::store {

namespace {

constexpr std::size_t kMaxNumberChars = 20;  // the digits of the largest std::size_t

// Writes "<marker><number>\r\n" at `at`, which has room for it; returns the end.
char* writeLengthLine(char* at, char marker, std::size_t number) {
  *at++ = marker;
  at = std::to_chars(at, at + kMaxNumberChars, number).ptr;
  *at++ = '\r';
  *at++ = '\n';
  return at;
}

}  // namespace

void CommandFormatter::append(std::string& out, std::span<const std::string_view> argv) {
  std::size_t bound = 1 + kMaxNumberChars + 2;
  for (std::string_view arg : argv) bound += 1 + kMaxNumberChars + 2 + arg.size() + 2;
  // Grows geometrically, as appending would: `out` is usually the connection's output buffer, which collects
  // a whole batch and keeps its capacity, and an exact reserve per command would reallocate it again and
  // again.
  const std::size_t start = out.size();
  if (out.capacity() < start + bound) out.reserve(std::max(start + bound, 2 * out.capacity()));
  // Written through a pointer into room made for the longest encoding, then trimmed: one resize instead of
  // three appends per argument (each checks capacity and length), on the path of every Redis command.
  out.resize(start + bound);
  char* at = out.data() + start;
  at = writeLengthLine(at, '*', argv.size());
  for (std::string_view arg : argv) {
    at = writeLengthLine(at, '$', arg.size());
    // An empty view may carry a null pointer: copy nothing rather than read through it.
    if (!arg.empty()) at = std::copy(arg.begin(), arg.end(), at);
    *at++ = '\r';
    *at++ = '\n';
  }
  out.resize(static_cast<std::size_t>(at - out.data()));
}

FormattedCommand CommandFormatter::format(std::span<const std::string_view> argv) {
  FormattedCommand command;
  append(command.bytes_, argv);
  return command;
}

void RespReader::Free::operator()(redisReader* reader) const {
  redisReaderFree(reader);
}

namespace {

// hiredis builds a reply by calling these, one call per element, parents before children. They write straight
// into the RespReader's reply tree, reusing its strings' and arrays' capacity, instead of hiredis's default
// of one malloc'd redisReply per element that would then be copied and freed. The tree belongs to the
// RespReader, so hiredis never frees anything (freeObject does nothing).
RedisReply& nodeFor(const redisReadTask* task) {
  if (task->parent == nullptr) return *static_cast<RedisReply*>(task->privdata);
  auto* parent = static_cast<RedisReply*>(task->parent->obj);
  return parent->elements[static_cast<std::size_t>(task->idx)];
}

void* createString(const redisReadTask* task, char* bytes, std::size_t length) {
  RedisReply& node = nodeFor(task);
  switch (task->type) {
    case REDIS_REPLY_STATUS:
      node.type = RedisReply::Type::Status;
      break;
    case REDIS_REPLY_ERROR:
      node.type = RedisReply::Type::Error;
      break;
    default:
      node.type = RedisReply::Type::String;
      break;
  }
  node.str.assign(bytes, length);
  node.elements.clear();
  return &node;
}

void* createArray(const redisReadTask* task, int count) {
  RedisReply& node = nodeFor(task);
  node.type = RedisReply::Type::Array;
  node.str.clear();
  node.elements.resize(static_cast<std::size_t>(count));
  return &node;
}

void* createInteger(const redisReadTask* task, long long value) {
  RedisReply& node = nodeFor(task);
  node.type = RedisReply::Type::Integer;
  node.integer = value;
  node.str.clear();
  node.elements.clear();
  return &node;
}

void* createNil(const redisReadTask* task) {
  RedisReply& node = nodeFor(task);
  node.type = RedisReply::Type::Nil;
  node.str.clear();
  node.elements.clear();
  return &node;
}

void freeNothing(void* /*reply*/) {}

redisReplyObjectFunctions kBuildIntoTree{createString, createArray, createInteger, createNil, freeNothing};

}  // namespace

RespReader::RespReader() : reader_(redisReaderCreateWithFunctions(&kBuildIntoTree)) {
  if (!reader_) throw std::bad_alloc();
  reader_->privdata = &building_;
}

bool RespReader::feed(std::string_view bytes) {
  return redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) == REDIS_OK;
}

RespReader::Result RespReader::next(RedisReply& reply) {
  void* complete = nullptr;
  if (redisReaderGetReply(reader_.get(), &complete) != REDIS_OK) return Result::ProtocolError;
  if (complete == nullptr) return Result::NeedMore;
  // hiredis is done with the tree: hand it over, and build the next reply into what the caller gave back.
  std::swap(reply, building_);
  return Result::Reply;
}

std::string RespReader::error() const {
  return reader_->errstr;
}

}  // namespace gatehouse::store
