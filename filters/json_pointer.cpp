#include "filters/json_pointer.h"

#include <chrono>
#include <cmath>
#include <limits>

namespace gatehouse::filters {
namespace {

// Reads exactly `digits` decimal digits at `pos`, advancing it.
std::optional<int> readDigits(std::string_view text, std::size_t& pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += digits;
  return value;
}

bool consume(std::string_view text, std::size_t& pos, char expected) {
  if (pos >= text.size() || text[pos] != expected) return false;
  ++pos;
  return true;
}

// The zone designator at `pos` to the end of text, as an offset from UTC in minutes.
std::optional<int> readOffsetMinutes(std::string_view text, std::size_t pos) {
  if (pos == text.size()) return 0;
  if (text[pos] == 'Z' || text[pos] == 'z')
    return pos + 1 == text.size() ? std::optional<int>(0) : std::nullopt;
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  const auto hours = readDigits(text, pos, 2);
  if (!hours) return std::nullopt;
  consume(text, pos, ':');
  const auto minutes = readDigits(text, pos, 2);
  if (!minutes || pos != text.size() || *hours > 23 || *minutes > 59) return std::nullopt;
  return sign * (*hours * 60 + *minutes);
}

}  // namespace

const boost::json::value* findPointer(const boost::json::value& document, std::string_view pointer) {
  boost::system::error_code ec;
  const boost::json::value* found = document.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}

std::optional<std::string> readScalarString(const boost::json::value& document, std::string_view pointer) {
  const boost::json::value* found = findPointer(document, pointer);
  if (found == nullptr) return std::nullopt;
  if (const auto* text = found->if_string()) return std::string(text->data(), text->size());
  if (const auto* number = found->if_int64()) return std::to_string(*number);
  if (const auto* number = found->if_uint64()) return std::to_string(*number);
  return std::nullopt;
}

std::optional<std::vector<std::string>> readStringList(const boost::json::value& document,
                                                       std::string_view pointer) {
  std::vector<std::string> strings;
  if (!readStringListInto(document, pointer, strings)) return std::nullopt;
  return strings;
}

bool readStringListInto(const boost::json::value& document, std::string_view pointer,
                        std::vector<std::string>& out) {
  out.clear();
  const boost::json::value* found = findPointer(document, pointer);
  if (found == nullptr) return false;
  if (const auto* text = found->if_string()) {
    out.emplace_back(text->data(), text->size());
    return true;
  }
  const auto* array = found->if_array();
  if (array == nullptr) return false;
  for (const boost::json::value& element : *array) {
    if (const auto* text = element.if_string()) out.emplace_back(text->data(), text->size());
  }
  return true;
}

std::optional<std::int64_t> readTimestampMillis(const boost::json::value& document,
                                                std::string_view pointer) {
  const boost::json::value* found = findPointer(document, pointer);
  if (found == nullptr) return std::nullopt;
  if (const auto* number = found->if_int64()) return *number;
  if (const auto* number = found->if_uint64()) {
    if (*number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(*number);
  }
  if (const auto* number = found->if_double()) {
    // Beyond ±2^53 ms (year ±285,000) a double is not an instant anyone meant.
    constexpr double kLimit = 9007199254740992.0;
    if (!std::isfinite(*number) || std::fabs(*number) > kLimit) return std::nullopt;
    return static_cast<std::int64_t>(*number);
  }
  if (const auto* text = found->if_string())
    return parseIso8601Millis(std::string_view(text->data(), text->size()));
  return std::nullopt;
}

std::optional<std::int64_t> parseIso8601Millis(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto year = readDigits(text, pos, 4);
  if (!year || !consume(text, pos, '-')) return std::nullopt;
  const auto month = readDigits(text, pos, 2);
  if (!month || !consume(text, pos, '-')) return std::nullopt;
  const auto day = readDigits(text, pos, 2);
  if (!day) return std::nullopt;
  const year_month_day date{std::chrono::year{*year}, std::chrono::month{static_cast<unsigned>(*month)},
                            std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  const auto midnight = duration_cast<milliseconds>(sys_days{date}.time_since_epoch()).count();
  if (pos == text.size()) return midnight;

  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
  ++pos;
  const auto hour = readDigits(text, pos, 2);
  if (!hour || !consume(text, pos, ':')) return std::nullopt;
  const auto minute = readDigits(text, pos, 2);
  if (!minute) return std::nullopt;
  int second = 0;
  int millisecond = 0;
  if (consume(text, pos, ':')) {
    const auto whole = readDigits(text, pos, 2);
    if (!whole) return std::nullopt;
    second = *whole;
    if (consume(text, pos, '.') || consume(text, pos, ',')) {
      // Any number of fraction digits; the first three are milliseconds, the rest are truncated.
      const std::size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (pos - start < 3) millisecond = millisecond * 10 + (text[pos] - '0');
        ++pos;
      }
      if (pos == start) return std::nullopt;
      for (std::size_t scale = pos - start; scale < 3; ++scale) millisecond *= 10;
    }
  }
  if (*hour > 23 || *minute > 59 || second > 59) return std::nullopt;
  const auto offset = readOffsetMinutes(text, pos);
  if (!offset) return std::nullopt;

  const std::int64_t time_of_day =
      ((static_cast<std::int64_t>(*hour) * 60 + *minute - *offset) * 60 + second) * 1000 + millisecond;
  return midnight + time_of_day;
}

}  // namespace gatehouse::filters
