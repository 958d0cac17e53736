// Numbers with units as config files write them: durations ("250ms", "2s", "5m", "1h") and byte sizes ("512",
// "16KiB", "10MiB", "1GB"). Whole numbers only: "1.5s" is an error that suggests "1500ms".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/config/config.h"
#include "proxy/config/parse_result.h"

namespace gatehouse::config {

// Decimal digits only: no sign, no spaces, no hex. Fails past 2^64-1.
ParseResult<std::uint64_t> parseUnsigned(std::string_view text);

// The longest duration a config may give: a year. Timeouts are added to steady_clock time points counted in
// nanoseconds, which overflow past 292 years into nonsense (a timeout firing at once); nothing Gatehouse
// waits for, and no session TTL or rate-limit window, needs more than a year.
inline constexpr Duration kMaxDuration = std::chrono::hours(24 * 365);

// <digits><unit>, unit one of ms, s, m, h. A bare number is an error, because "30" could mean seconds or ms.
// Fails past the range of Duration; YamlReader::duration bounds it to kMaxDuration.
ParseResult<Duration> parseDuration(std::string_view text);

// A spin time for busy polling: "off", or <digits>us / <digits>ms. Microseconds, because the useful values
// (tens to hundreds of µs: about one loopback round trip) are below a millisecond.
ParseResult<std::chrono::microseconds> parseSpinTime(std::string_view text);
// busy_poll: "auto" (adaptive), or a spin time: "off"/0 → off, else that fixed time. The loader bounds it.
ParseResult<BusyPoll> parseBusyPoll(std::string_view text);

// <digits>[unit]: no unit or B = bytes; KiB, MiB, GiB = powers of 1024; KB, MB, GB = powers of 1000.
ParseResult<std::uint64_t> parseSize(std::string_view text);

// The inverse of the parsers, in the largest unit that is exact: 90000ms → "90s", 3600000ms → "1h".
std::string formatDuration(Duration duration);
std::string formatSize(std::uint64_t bytes);                 // 16384 → "16KiB", 1000 → "1000"
std::string formatSpinTime(std::chrono::microseconds spin);  // 0 → "off", 2000us → "2ms", 50us → "50us"
std::string formatBusyPoll(const BusyPoll& busy_poll);       // "auto", "off" or the fixed time

}  // namespace gatehouse::config
