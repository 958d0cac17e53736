#include "demo/session_id.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string_view>

namespace gatehouse::demo {

std::string newSessionId() {
  // std::random_device reads the kernel's CSPRNG on Linux (getrandom / /dev/urandom). A thread_local engine
  // seeded from it would be predictable from its outputs, so every id draws fresh bits.
  static constexpr std::string_view kHex = "0123456789abcdef";
  thread_local std::random_device random;
  std::string id;
  id.reserve(kSessionIdLength);
  while (id.size() < kSessionIdLength) {
    std::uint32_t bits = random();
    for (int nibble = 0; nibble < 8 && id.size() < kSessionIdLength; ++nibble) {
      id.push_back(kHex[bits & 0xFu]);
      bits >>= 4;
    }
  }
  return id;
}

bool isSessionId(std::string_view text) {
  return text.size() == kSessionIdLength && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace gatehouse::demo
