// Integers to and from decimal text. DecimalText: an integer as decimal text on the stack, for the numbers a
// Redis command carries as arguments (std::to_string would build a std::string per number on the path of
// every request).
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace gatehouse::store {

class DecimalText {
 public:
  template <std::integral Number>
  explicit DecimalText(Number number)
      : size_(static_cast<std::uint8_t>(std::to_chars(digits_, digits_ + sizeof(digits_), number).ptr -
                                        digits_)) {}

  std::string_view view() const { return {digits_, size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: used where an argument's text is wanted

 private:
  char digits_[20];  // the longest 64-bit integer: "-9223372036854775808"
  std::uint8_t size_;
};

// The integer a whole decimal text spells (a sign allowed), as Redis sends numbers in bulk strings; nullopt
// for anything else (empty, trailing bytes, out of range).
inline std::optional<std::int64_t> parseDecimal(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || stop != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace gatehouse::store
