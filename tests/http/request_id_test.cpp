#include "proxy/http/request_id.h"

#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::http {
namespace {

TEST(IsValidRequestId, AcceptsCommonFormats) {
  EXPECT_TRUE(isValidRequestId("3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"));
  EXPECT_TRUE(isValidRequestId("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_TRUE(isValidRequestId("svc:host-1:42"));
  EXPECT_TRUE(isValidRequestId("YWJjZGVm+/=="));
  EXPECT_TRUE(isValidRequestId("a"));
  EXPECT_TRUE(isValidRequestId(std::string(kMaxRequestIdLength, 'x')));
}

TEST(IsValidRequestId, RejectsUnsafeOrOversizedIds) {
  EXPECT_FALSE(isValidRequestId(""));
  EXPECT_FALSE(isValidRequestId(std::string(kMaxRequestIdLength + 1, 'x')));
  EXPECT_FALSE(isValidRequestId("a b"));
  EXPECT_FALSE(isValidRequestId("a\"b"));
  EXPECT_FALSE(isValidRequestId("a\\b"));
  EXPECT_FALSE(isValidRequestId("a,b"));
  EXPECT_FALSE(isValidRequestId("a;b"));
  EXPECT_FALSE(isValidRequestId("a\nlevel=error"));
  EXPECT_FALSE(isValidRequestId("caf\xc3\xa9"));
}

TEST(GenerateRequestId, IsAValidUuidV4) {
  for (int i = 0; i < 100; ++i) {
    const auto id = generateRequestId();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t pos : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[pos], '-') << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    for (std::size_t pos = 0; pos < id.size(); ++pos) {
      if (id[pos] == '-') continue;
      EXPECT_NE(std::string("0123456789abcdef").find(id[pos]), std::string::npos) << id;
    }
    EXPECT_TRUE(isValidRequestId(id));
  }
}

TEST(GenerateRequestId, IsUniqueOverTenThousandIds) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(generateRequestId());
  EXPECT_EQ(seen.size(), 10'000u);
}

TEST(GenerateRequestId, ThreadsDrawDifferentSequences) {
  // Each thread seeds its own generator: two threads must not produce the same ids.
  constexpr int kPerThread = 1'000;
  std::vector<std::string> first;
  std::vector<std::string> second;
  std::thread a([&] {
    for (int i = 0; i < kPerThread; ++i) first.push_back(generateRequestId());
  });
  std::thread b([&] {
    for (int i = 0; i < kPerThread; ++i) second.push_back(generateRequestId());
  });
  a.join();
  b.join();
  std::unordered_set<std::string> all(first.begin(), first.end());
  all.insert(second.begin(), second.end());
  EXPECT_EQ(all.size(), 2u * kPerThread);
}

}  // namespace
}  // namespace gatehouse::http
