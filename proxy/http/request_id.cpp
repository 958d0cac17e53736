#include "proxy/http/request_id.h"

#include <array>
#include <cstdint>
#include <random>

namespace gatehouse::http {
namespace {

constexpr std::array<bool, 256> kIdChar = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("-_.:+/=")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

std::mt19937_64 seededGenerator() {
  std::random_device device;
  std::array<std::uint32_t, 8> seed{};
  for (auto& word : seed) word = device();
  std::seed_seq sequence(seed.begin(), seed.end());
  return std::mt19937_64(sequence);
}

}  // namespace

bool isValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (!kIdChar[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

void generateRequestId(std::string& out) {
  thread_local std::mt19937_64 generator = seededGenerator();
  std::uint64_t high = generator();
  std::uint64_t low = generator();
  high = (high & ~std::uint64_t{0xf000}) | 0x4000;                         // version 4
  low = (low & ~(std::uint64_t{0xc} << 60)) | (std::uint64_t{0x8} << 60);  // variant 10xx

  constexpr std::string_view kHex = "0123456789abcdef";
  std::array<char, 36> id;
  id.fill('-');
  std::size_t pos = 0;
  auto put = [&](std::uint64_t bits, int nibbles) {
    for (int shift = (nibbles - 1) * 4; shift >= 0; shift -= 4) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;  // keep the dashes
      id[pos++] = kHex[(bits >> shift) & 0xf];
    }
  };
  put(high, 16);
  put(low, 16);
  out.assign(id.data(), id.size());
}

std::string generateRequestId() {
  std::string id;
  generateRequestId(id);
  return id;
}

}  // namespace gatehouse::http
