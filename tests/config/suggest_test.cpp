#include "proxy/config/suggest.h"

#include <gtest/gtest.h>

namespace gatehouse::config {
namespace {

TEST(SuggestTest, EditDistanceCountsASwapAsOneEdit) {
  EXPECT_EQ(editDistance("timeout", "timeout"), 0u);
  EXPECT_EQ(editDistance("tiemout", "timeout"), 1u);
  EXPECT_EQ(editDistance("adress", "address"), 1u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
}

TEST(SuggestTest, SuggestsOnlyPlausibleTypos) {
  const std::vector<std::string> keys{"connect_timeout", "response_timeout", "idle_timeout", "address"};
  EXPECT_EQ(closestMatch("conect_timeout", keys), "connect_timeout");
  EXPECT_EQ(closestMatch("idle_timout", keys), "idle_timeout");
  EXPECT_EQ(closestMatch("adress", keys), "address");
  EXPECT_EQ(closestMatch("port", keys), std::nullopt);
  EXPECT_EQ(closestMatch("", keys), std::nullopt);
}

TEST(SuggestTest, ShortWordsNeedALetterInCommon) {
  EXPECT_EQ(closestMatch("ap", {"app"}), "app");
  EXPECT_EQ(closestMatch("x", {"r"}), std::nullopt);
}

TEST(SuggestTest, MessageHelpers) {
  EXPECT_EQ(didYouMean("jsn", {"json", "text"}), "; did you mean \"json\"?");
  EXPECT_EQ(didYouMean("yaml", {"json", "text"}), "");
  EXPECT_EQ(joinNames({"a", "b", "c"}), "a, b, c");
}

}  // namespace
}  // namespace gatehouse::config
