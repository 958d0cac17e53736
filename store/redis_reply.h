// A Redis reply, copied out of hiredis's reader so that callers never touch hiredis types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gatehouse::store {

struct RedisReply {
  enum class Type { Nil, Status, Error, Integer, String, Array };
  Type type = Type::Nil;
  std::int64_t integer = 0;          // Integer
  std::string str;                   // Status, Error, String
  std::vector<RedisReply> elements;  // Array

  bool isError() const { return type == Type::Error; }
  bool isNil() const { return type == Type::Nil; }
};

}  // namespace gatehouse::store
