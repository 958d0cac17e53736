#include "filters/identity_headers.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::filters {
namespace {

std::vector<std::string> fieldNames(const RequestHeader& request) {
  std::vector<std::string> names;
  for (const auto& field : request) names.emplace_back(field.name_string());
  return names;
}

TEST(IdentityHeaders, SameNameIgnoresCaseAndTreatsUnderscoreAsDash) {
  EXPECT_TRUE(isSameHeaderName("x-user", "X-User"));
  EXPECT_TRUE(isSameHeaderName("X_USER", "X-User"));
  EXPECT_TRUE(isSameHeaderName("x_user_roles", "X-User-Roles"));
  EXPECT_FALSE(isSameHeaderName("X-Username", "X-User"));
  EXPECT_FALSE(isSameHeaderName("X-Use", "X-User"));
  EXPECT_FALSE(isSameHeaderName("X.User", "X-User"));
}

TEST(IdentityHeaders, StripsEverySpellingAndKeepsOtherFields) {
  RequestHeader request;
  request.insert("Host", "app");
  request.insert("X-User", "mallory");
  request.insert("x-user", "mallory2");
  request.insert("X_User", "mallory3");
  request.insert("x_user_roles", "admin");
  request.insert("X-User-Roles", "admin");
  request.insert("X-Username", "kept");
  request.insert("Cookie", "a=1");
  const std::vector<std::string> names{"X-User", "X-User-Roles"};
  EXPECT_EQ(stripIdentityHeaders(request, names), 5u);
  EXPECT_EQ(fieldNames(request), (std::vector<std::string>{"Host", "X-Username", "Cookie"}));
  EXPECT_EQ(stripIdentityHeaders(request, names), 0u);
}

TEST(IdentityHeaders, NoNamesStripsNothing) {
  RequestHeader request;
  request.insert("X-User", "mallory");
  EXPECT_EQ(stripIdentityHeaders(request, {}), 0u);
  EXPECT_EQ(request["X-User"], "mallory");
}

TEST(IdentityHeaders, NamesOfEveryPolicyWithoutRepeats) {
  config::Config config;
  config.sessions["app"] = config::SessionPolicy{};
  config::SessionPolicy seed;
  seed.user_header = "x-user";  // the same header as app's X-User
  seed.roles_header = "X-Seed-Roles";
  config.sessions["seed"] = seed;
  EXPECT_EQ(identityHeaderNames(config),
            (std::vector<std::string>{"X-User", "X-User-Roles", "X-Seed-Roles"}));
}

TEST(IdentityHeaders, SetsUserAndCommaSeparatedRoles) {
  RequestHeader request;
  const config::SessionPolicy policy;
  const std::vector<std::string> roles{"admin", "ops"};
  setIdentityHeaders(request, policy, "alice", roles);
  EXPECT_EQ(request["X-User"], "alice");
  EXPECT_EQ(request["X-User-Roles"], "admin,ops");
}

TEST(IdentityHeaders, NoRolesHeaderWithoutRoles) {
  RequestHeader request;
  setIdentityHeaders(request, config::SessionPolicy{}, "alice", {});
  EXPECT_EQ(request["X-User"], "alice");
  EXPECT_EQ(request.count("X-User-Roles"), 0u);
}

}  // namespace
}  // namespace gatehouse::filters
