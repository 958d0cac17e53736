#include "proxy/config/units.h"

#include <gtest/gtest.h>

namespace gatehouse::config {
namespace {

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(*parseDuration("250ms").value, 250ms);
  EXPECT_EQ(*parseDuration("2s").value, 2s);
  EXPECT_EQ(*parseDuration("5m").value, 5min);
  EXPECT_EQ(*parseDuration("1h").value, 1h);
  EXPECT_EQ(*parseDuration("0s").value, 0ms);
}

TEST(DurationTest, BareNumberAsksForAUnit) {
  const auto result = parseDuration("30");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error.find("no unit"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("30s"), std::string::npos) << result.error;
}

TEST(DurationTest, RejectsUnknownUnitsFractionsAndJunk) {
  for (const char* text : {"1d", "2 s", "1.5s", "s", "", "-1s", "1S", "10sec", "1m30s", "ms"}) {
    EXPECT_FALSE(parseDuration(text)) << text;
  }
  EXPECT_NE(parseDuration("1.5s").error.find("1500ms"), std::string::npos);
}

TEST(DurationTest, RejectsOverflow) {
  EXPECT_FALSE(parseDuration("99999999999999999999h"));
  EXPECT_FALSE(parseDuration("9223372036854775807h"));
}

TEST(SizeTest, ParsesBytesAndBinaryAndDecimalUnits) {
  EXPECT_EQ(*parseSize("512").value, 512u);
  EXPECT_EQ(*parseSize("512B").value, 512u);
  EXPECT_EQ(*parseSize("16KiB").value, 16u * 1024);
  EXPECT_EQ(*parseSize("10MiB").value, 10u << 20);
  EXPECT_EQ(*parseSize("1GiB").value, 1u << 30);
  EXPECT_EQ(*parseSize("2KB").value, 2000u);
  EXPECT_EQ(*parseSize("3MB").value, 3'000'000u);
  EXPECT_EQ(*parseSize("1GB").value, 1'000'000'000u);
}

TEST(SizeTest, RejectsUnknownUnitsAndJunk) {
  for (const char* text : {"16k", "16kib", "1TiB", "1.5MiB", "", "KiB", "-1", "0x10", "16 KiB"}) {
    EXPECT_FALSE(parseSize(text)) << text;
  }
  EXPECT_FALSE(parseSize("17179869184GiB"));  // 2^34 GiB overflows 64 bits
}

TEST(UnsignedTest, DigitsOnly) {
  EXPECT_EQ(*parseUnsigned("0").value, 0u);
  EXPECT_EQ(*parseUnsigned("18446744073709551615").value, UINT64_MAX);
  for (const char* text : {"", "-1", "+1", "1e3", " 1", "1 ", "0x1", "18446744073709551616"}) {
    EXPECT_FALSE(parseUnsigned(text)) << text;
  }
}

TEST(SpinTimeTest, ParsesOffMicrosecondsAndMilliseconds) {
  EXPECT_EQ(*parseSpinTime("off").value, 0us);
  EXPECT_EQ(*parseSpinTime("0us").value, 0us);
  EXPECT_EQ(*parseSpinTime("50us").value, 50us);
  EXPECT_EQ(*parseSpinTime("2ms").value, 2000us);
  for (const char* text : {"", "50", "us", "1.5us", "-5us", "5 us", "5s", "on", "Off", "2000000ms"}) {
    EXPECT_FALSE(parseSpinTime(text)) << text;
  }
  const auto bare = parseSpinTime("50");
  EXPECT_NE(bare.error.find("expected \"auto\", \"off\" or a time such as 50us"), std::string::npos)
      << bare.error;
}

TEST(FormatTest, UsesTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(0ms), "0s");
  EXPECT_EQ(formatDuration(250ms), "250ms");
  EXPECT_EQ(formatDuration(90s), "90s");
  EXPECT_EQ(formatDuration(5min), "5m");
  EXPECT_EQ(formatDuration(24h), "24h");
  EXPECT_EQ(formatSize(0), "0");
  EXPECT_EQ(formatSize(1000), "1000");
  EXPECT_EQ(formatSize(16 * 1024), "16KiB");
  EXPECT_EQ(formatSize(10u << 20), "10MiB");
  EXPECT_EQ(formatSize(1u << 30), "1GiB");
  EXPECT_EQ(formatSpinTime(0us), "off");
  EXPECT_EQ(formatSpinTime(50us), "50us");
  EXPECT_EQ(formatSpinTime(1500us), "1500us");
  EXPECT_EQ(formatSpinTime(3000us), "3ms");
  EXPECT_EQ(formatBusyPoll(BusyPoll{BusyPoll::Mode::Adaptive, 100us}), "auto");
  EXPECT_EQ(formatBusyPoll(BusyPoll{BusyPoll::Mode::Off, 0us}), "off");
  EXPECT_EQ(formatBusyPoll(BusyPoll{BusyPoll::Mode::Fixed, 80us}), "80us");
}

TEST(FormatTest, FormattedValuesParseBack) {
  for (Duration d : std::initializer_list<Duration>{0ms, 1ms, 999ms, 1000ms, 61s, 3600s, 7200001ms}) {
    EXPECT_EQ(*parseDuration(formatDuration(d)).value, d);
  }
  for (std::uint64_t bytes : {0ull, 1ull, 1023ull, 1024ull, 1536ull, 10ull << 20, 5ull << 30}) {
    EXPECT_EQ(*parseSize(formatSize(bytes)).value, bytes);
  }
  for (auto spin : {0us, 1us, 999us, 1000us, 10000us})
    EXPECT_EQ(*parseSpinTime(formatSpinTime(spin)).value, spin);
}

}  // namespace
}  // namespace gatehouse::config
