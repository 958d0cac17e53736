#include "proxy/config/env_substitution.h"

#include <gtest/gtest.h>

#include "tests/config/test_support.h"

namespace gatehouse::config {
namespace {

using testing::fakeEnvironment;

std::string substituted(std::string_view text, std::map<std::string, std::string> variables = {}) {
  auto result = substituteEnvironment(text, fakeEnvironment(std::move(variables)));
  EXPECT_TRUE(result) << result.error;
  return result.value.value_or("<error>");
}

TEST(EnvSubstitutionTest, ReplacesASetVariable) {
  EXPECT_EQ(substituted("${PORT}", {{"PORT", "9000"}}), "9000");
}

TEST(EnvSubstitutionTest, DefaultAppliesWhenUnsetOrEmpty) {
  EXPECT_EQ(substituted("${PORT:-8080}"), "8080");
  EXPECT_EQ(substituted("${PORT:-8080}", {{"PORT", ""}}), "8080");
  EXPECT_EQ(substituted("${PORT:-8080}", {{"PORT", "9000"}}), "9000");
}

TEST(EnvSubstitutionTest, EmptyDefault) {
  EXPECT_EQ(substituted("${TOKEN:-}"), "");
  EXPECT_EQ(substituted("a${TOKEN:-}b"), "ab");
}

TEST(EnvSubstitutionTest, SubstitutesInsideLongerStrings) {
  EXPECT_EQ(substituted("${WINDOW:-60}s"), "60s");
  EXPECT_EQ(substituted("0.0.0.0:${PORT:-8080}", {{"PORT", "81"}}), "0.0.0.0:81");
  EXPECT_EQ(substituted("${A}-${B}", {{"A", "x"}, {"B", "y"}}), "x-y");
}

TEST(EnvSubstitutionTest, DoubleDollarIsALiteral) {
  EXPECT_EQ(substituted("$${HOME}", {{"HOME", "/root"}}), "${HOME}");
  EXPECT_EQ(substituted("cost: $5 and $$"), "cost: $5 and $$");
}

TEST(EnvSubstitutionTest, SubstitutedValuesAreNotScannedAgain) {
  EXPECT_EQ(substituted("${A}", {{"A", "${B}"}, {"B", "no"}}), "${B}");
}

TEST(EnvSubstitutionTest, MissingVariableWithoutDefaultNamesIt) {
  const auto result = substituteEnvironment("${SESSION_SECRET}", fakeEnvironment({}));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error.find("SESSION_SECRET"), std::string::npos) << result.error;
}

TEST(EnvSubstitutionTest, RejectsMalformedReferences) {
  const auto env = fakeEnvironment({{"A", "1"}});
  for (const char* text : {"${", "${A", "${}", "${1A}", "${A-B}", "${A:-x${B}}"}) {
    EXPECT_FALSE(substituteEnvironment(text, env)) << text;
  }
}

}  // namespace
}  // namespace gatehouse::config
