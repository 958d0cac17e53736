#include "proxy/config/units.h"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace gatehouse::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t multiplier;
};

constexpr std::array kDurationUnits{Unit{"ms", 1}, Unit{"s", 1000}, Unit{"m", 60'000}, Unit{"h", 3'600'000}};
constexpr std::string_view kDurationHint = "expected a duration such as 250ms, 2s, 5m or 1h";

constexpr std::array kSpinUnits{Unit{"us", 1}, Unit{"ms", 1000}};
constexpr std::string_view kSpinHint = "expected \"auto\", \"off\" or a time such as 50us or 1ms";

constexpr std::uint64_t kKiB = 1024;
constexpr std::array kSizeUnits{
    Unit{"B", 1},     Unit{"KiB", kKiB},     Unit{"MiB", kKiB* kKiB},  Unit{"GiB", kKiB* kKiB* kKiB},
    Unit{"KB", 1000}, Unit{"MB", 1'000'000}, Unit{"GB", 1'000'000'000}};
constexpr std::string_view kSizeHint = "expected a size such as 512, 16KiB, 10MiB or 1GiB";

// Splits "250ms" into "250" and "ms".
std::pair<std::string_view, std::string_view> splitNumber(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  return {text.substr(0, digits), text.substr(digits)};
}

const Unit* findUnit(std::string_view suffix, const auto& units) {
  for (const Unit& unit : units) {
    if (unit.suffix == suffix) return &unit;
  }
  return nullptr;
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

ParseResult<std::uint64_t> parseUnsigned(std::string_view text) {
  if (text.empty()) return ParseResult<std::uint64_t>::fail("expected a whole number, found an empty value");
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) {
    return ParseResult<std::uint64_t>::fail(quoted(text) + " is too large");
  }
  // from_chars accepts no sign or prefix, but it does stop early: "12abc" must not read as 12.
  if (error != std::errc{} || end != text.data() + text.size() || text.front() == '-') {
    return ParseResult<std::uint64_t>::fail("expected a whole number, found " + quoted(text));
  }
  return ParseResult<std::uint64_t>::ok(value);
}

ParseResult<Duration> parseDuration(std::string_view text) {
  const auto [number, suffix] = splitNumber(text);
  if (number.empty())
    return ParseResult<Duration>::fail(std::string(kDurationHint) + ", found " + quoted(text));
  if (suffix.empty()) {
    return ParseResult<Duration>::fail(quoted(text) + " has no unit: add one, e.g. " + std::string(number) +
                                       "s or " + std::string(number) + "ms");
  }
  if (suffix.front() == '.') {
    return ParseResult<Duration>::fail(quoted(text) +
                                       ": fractions are not supported, use a smaller unit (1500ms)");
  }
  const Unit* unit = findUnit(suffix, kDurationUnits);
  if (unit == nullptr) {
    return ParseResult<Duration>::fail("unknown unit in " + quoted(text) + ": " + std::string(kDurationHint));
  }
  const auto count = parseUnsigned(number);
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
  if (!count || *count.value > kMax / unit->multiplier) {
    return ParseResult<Duration>::fail(quoted(text) + " is too large (durations go up to " +
                                       formatDuration(kMaxDuration) + ")");
  }
  return ParseResult<Duration>::ok(Duration(static_cast<Duration::rep>(*count.value * unit->multiplier)));
}

ParseResult<std::chrono::microseconds> parseSpinTime(std::string_view text) {
  using Result = ParseResult<std::chrono::microseconds>;
  if (text == "off") return Result::ok(std::chrono::microseconds(0));
  const auto [number, suffix] = splitNumber(text);
  const Unit* unit = findUnit(suffix, kSpinUnits);
  if (number.empty() || unit == nullptr)
    return Result::fail(std::string(kSpinHint) + ", found " + quoted(text));
  const auto count = parseUnsigned(number);
  if (!count || *count.value > 1'000'000) return Result::fail(quoted(text) + " is too large");
  return Result::ok(std::chrono::microseconds(*count.value * unit->multiplier));
}

ParseResult<std::uint64_t> parseSize(std::string_view text) {
  const auto [number, suffix] = splitNumber(text);
  if (number.empty())
    return ParseResult<std::uint64_t>::fail(std::string(kSizeHint) + ", found " + quoted(text));
  if (!suffix.empty() && suffix.front() == '.') {
    return ParseResult<std::uint64_t>::fail(quoted(text) +
                                            ": fractions are not supported, use a smaller unit");
  }
  const Unit* unit = suffix.empty() ? &kSizeUnits.front() : findUnit(suffix, kSizeUnits);
  if (unit == nullptr) {
    return ParseResult<std::uint64_t>::fail("unknown unit in " + quoted(text) + ": " +
                                            std::string(kSizeHint) +
                                            " (units: B, KiB, MiB, GiB, KB, MB, GB)");
  }
  const auto count = parseUnsigned(number);
  if (!count || *count.value > std::numeric_limits<std::uint64_t>::max() / unit->multiplier) {
    return ParseResult<std::uint64_t>::fail(quoted(text) + " is too large");
  }
  return ParseResult<std::uint64_t>::ok(*count.value * unit->multiplier);
}

std::string formatDuration(Duration duration) {
  const auto ms = static_cast<std::uint64_t>(duration.count());
  if (ms == 0) return "0s";
  for (auto unit = kDurationUnits.rbegin(); unit != kDurationUnits.rend(); ++unit) {
    if (ms % unit->multiplier == 0) return std::to_string(ms / unit->multiplier) + std::string(unit->suffix);
  }
  return std::to_string(ms) + "ms";
}

std::string formatSize(std::uint64_t bytes) {
  if (bytes == 0) return "0";
  for (const Unit unit : {kSizeUnits[3], kSizeUnits[2], kSizeUnits[1]}) {
    if (bytes % unit.multiplier == 0)
      return std::to_string(bytes / unit.multiplier) + std::string(unit.suffix);
  }
  return std::to_string(bytes);
}

ParseResult<BusyPoll> parseBusyPoll(std::string_view text) {
  if (text == "auto") return ParseResult<BusyPoll>::ok(BusyPoll{});
  auto spin = parseSpinTime(text);
  if (!spin) return ParseResult<BusyPoll>::fail(std::move(spin.error));
  const auto mode = spin.value->count() == 0 ? BusyPoll::Mode::Off : BusyPoll::Mode::Fixed;
  return ParseResult<BusyPoll>::ok(BusyPoll{mode, *spin.value});
}

std::string formatBusyPoll(const BusyPoll& busy_poll) {
  switch (busy_poll.mode) {
    case BusyPoll::Mode::Adaptive:
      return "auto";
    case BusyPoll::Mode::Fixed:
      return formatSpinTime(busy_poll.time);
    case BusyPoll::Mode::Off:
      break;
  }
  return "off";
}

std::string formatSpinTime(std::chrono::microseconds spin) {
  const auto count = static_cast<std::uint64_t>(spin.count());
  if (count == 0) return "off";
  if (count % 1000 == 0) return std::to_string(count / 1000) + "ms";
  return std::to_string(count) + "us";
}

}  // namespace gatehouse::config
