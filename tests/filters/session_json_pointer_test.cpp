#include "filters/json_pointer.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "filters/session_identity.h"

namespace gatehouse::filters {
namespace {

using Strings = std::vector<std::string>;

boost::json::value parse(std::string_view text) {
  return boost::json::parse(text);
}

TEST(JsonPointer, ReadsStringsAndIntegersAsText) {
  const auto doc = parse(R"({"user":{"username":"alice","id":42,"big":18446744073709551615,"ok":true},
                             "a/b":{"m~n":"escaped"}})");
  EXPECT_EQ(readScalarString(doc, "/user/username"), "alice");
  EXPECT_EQ(readScalarString(doc, "/user/id"), "42");
  EXPECT_EQ(readScalarString(doc, "/user/big"), "18446744073709551615");
  EXPECT_EQ(readScalarString(doc, "/a~1b/m~0n"), "escaped");
  EXPECT_EQ(readScalarString(doc, "/user/ok"), std::nullopt);
  EXPECT_EQ(readScalarString(doc, "/user"), std::nullopt);
  EXPECT_EQ(readScalarString(doc, "/user/missing"), std::nullopt);
  EXPECT_EQ(readScalarString(doc, "user/username"), std::nullopt);  // not a pointer
}

TEST(JsonPointer, ReadsAStringOrAnArrayOfStringsAsAList) {
  const auto doc =
      parse(R"({"one":"admin","many":["admin","editor"],"mixed":["a",1,null,"b"],"none":[],"n":3})");
  EXPECT_EQ(readStringList(doc, "/one"), Strings{"admin"});
  EXPECT_EQ(readStringList(doc, "/many"), (Strings{"admin", "editor"}));
  EXPECT_EQ(readStringList(doc, "/mixed"), (Strings{"a", "b"}));
  EXPECT_EQ(readStringList(doc, "/none"), Strings{});
  EXPECT_EQ(readStringList(doc, "/n"), std::nullopt);
  EXPECT_EQ(readStringList(doc, "/absent"), std::nullopt);
  EXPECT_EQ(readStringList(doc, "/many/1"), Strings{"editor"});
}

TEST(JsonPointer, ReadsTimestampsFromNumbersAndIsoStrings) {
  const auto doc = parse(R"({"ms":1700000000123,"float":1700000000123.9,"iso":"2023-11-14T22:13:20.123Z",
                             "text":"soon","flag":true})");
  EXPECT_EQ(readTimestampMillis(doc, "/ms"), 1700000000123);
  EXPECT_EQ(readTimestampMillis(doc, "/float"), 1700000000123);
  EXPECT_EQ(readTimestampMillis(doc, "/iso"), 1700000000123);
  EXPECT_EQ(readTimestampMillis(doc, "/text"), std::nullopt);
  EXPECT_EQ(readTimestampMillis(doc, "/flag"), std::nullopt);
}

TEST(Iso8601, ParsesTheFormsSessionStoresWrite) {
  // date -u -d '2023-11-14T22:13:20Z' +%s → 1700000000
  EXPECT_EQ(parseIso8601Millis("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T22:13:20.5Z"), 1700000000500);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T22:13:20.123456Z"), 1700000000123);
  EXPECT_EQ(parseIso8601Millis("2023-11-15T00:13:20+02:00"), 1700000000000);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T17:13:20-0500"), 1700000000000);
  EXPECT_EQ(parseIso8601Millis("2023-11-14 22:13:20"), 1700000000000);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T22:13Z"), 1699999980000);
  EXPECT_EQ(parseIso8601Millis("1970-01-01"), 0);
  EXPECT_EQ(parseIso8601Millis("1969-12-31T23:59:59Z"), -1000);
}

TEST(Iso8601, RejectsImpossibleOrTrailingText) {
  EXPECT_EQ(parseIso8601Millis("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parseIso8601Millis("2023-13-01"), std::nullopt);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T24:00:00Z"), std::nullopt);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T22:13:20Zjunk"), std::nullopt);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T22:13:20.Z"), std::nullopt);
  EXPECT_EQ(parseIso8601Millis("2023-11-14T22:13:20+25:00"), std::nullopt);
  EXPECT_EQ(parseIso8601Millis("23-11-14"), std::nullopt);
  EXPECT_EQ(parseIso8601Millis(""), std::nullopt);
}

config::SessionPolicy expressPolicy() {
  config::SessionPolicy policy;
  policy.expires_pointer = "/cookie/expires";
  return policy;
}

TEST(SessionIdentity, ReadsAnExpressSession) {
  const auto identity = parseSessionIdentity(
      R"({"cookie":{"originalMaxAge":86400000,"expires":"2026-11-26T20:29:16.751Z","httpOnly":true,"path":"/"},
          "user":{"username":"alice","role":"admin"}})",
      expressPolicy());
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->user, "alice");
  EXPECT_EQ(identity->roles, Strings{"admin"});
  EXPECT_EQ(identity->expires_at_ms, parseIso8601Millis("2026-11-26T20:29:16.751Z"));
}

// The session filter lends the request's roles list to the parse: the result keeps its memory, and nothing
// of what it held before.
TEST(SessionIdentity, TakesOverTheMemoryOfTheIdentityItReuses) {
  SessionIdentity reuse;
  reuse.user = "previous-user-with-a-long-name";
  reuse.roles = {"stale", "roles", "of", "an", "earlier", "request"};
  reuse.expires_at_ms = 1;
  const std::string* const roles_memory = reuse.roles.data();

  const auto identity = parseSessionIdentity(R"({"user":{"username":"alice","role":"admin"}})",
                                             expressPolicy(), std::move(reuse));
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->user, "alice");
  EXPECT_EQ(identity->roles, Strings{"admin"});
  EXPECT_EQ(identity->roles.data(), roles_memory);
  EXPECT_FALSE(identity->expires_at_ms);
}

TEST(JsonPointer, ReadStringListIntoReplacesWhatTheListHeld) {
  const auto doc = boost::json::parse(R"({"many":["admin","editor"],"n":3})");
  std::vector<std::string> out{"old"};
  EXPECT_TRUE(readStringListInto(doc, "/many", out));
  EXPECT_EQ(out, (Strings{"admin", "editor"}));
  EXPECT_FALSE(readStringListInto(doc, "/n", out));
  EXPECT_TRUE(out.empty());
}

TEST(SessionIdentity, ReadsThePlainSeedShape) {
  config::SessionPolicy policy;
  policy.format = config::SessionFormat::Plain;
  policy.user_pointer = "/username";
  policy.roles_pointer = "/permissions";
  policy.expires_pointer = "/expiresAt";
  const auto identity = parseSessionIdentity(
      R"({"username":"bob","role":"user","name":"Bob","permissions":["read","write"],"expiresAt":1700000000000})",
      policy);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->user, "bob");
  EXPECT_EQ(identity->roles, (Strings{"read", "write"}));
  EXPECT_EQ(identity->expires_at_ms, 1700000000000);
}

TEST(SessionIdentity, ReadsASessionFarLargerThanTheParsersStackMemory) {
  // Apps keep carts and flash messages in sessions: 64 KiB of them, the user last.
  std::string stored = R"({"cart":[)";
  for (int i = 0; i < 2000; ++i)
    stored += (i ? "," : "") + std::string(R"({"sku":"item-)") + std::to_string(i) + R"("})";
  stored += R"(],"user":{"username":"carol","role":"buyer"}})";
  ASSERT_GT(stored.size(), 32u * 1024);
  const auto identity = parseSessionIdentity(stored, expressPolicy());
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->user, "carol");
  EXPECT_EQ(identity->roles, Strings{"buyer"});
}

TEST(SessionIdentity, NoUserMeansNoIdentity) {
  const config::SessionPolicy policy = expressPolicy();
  EXPECT_FALSE(parseSessionIdentity(R"({"cookie":{}})", policy));
  EXPECT_FALSE(parseSessionIdentity(R"({"user":{"username":""}})", policy));
  EXPECT_FALSE(parseSessionIdentity(R"({"user":{"username":null}})", policy));
  EXPECT_FALSE(parseSessionIdentity(R"({"user":"alice"})", policy));
  EXPECT_FALSE(parseSessionIdentity("not json", policy));
  EXPECT_FALSE(parseSessionIdentity("", policy));
}

TEST(SessionIdentity, UserThatCouldSplitAHeaderIsRefused) {
  const config::SessionPolicy policy = expressPolicy();
  EXPECT_FALSE(parseSessionIdentity(R"({"user":{"username":"alice\r\nX-User-Roles: admin"}})", policy));
  EXPECT_FALSE(parseSessionIdentity(R"({"user":{"username":"alice\u0000"}})", policy));
  EXPECT_FALSE(parseSessionIdentity(R"({"user":{"username":"alice\u007f"}})", policy));
  // A field value may hold HTAB (RFC 9110 §5.5), and so may the user sent in one.
  const auto tabbed = parseSessionIdentity(R"({"user":{"username":"a\tb"}})", policy);
  ASSERT_TRUE(tabbed);
  EXPECT_EQ(tabbed->user, "a\tb");
}

TEST(SessionIdentity, RolesThatCannotTravelInTheHeaderAreDropped) {
  config::SessionPolicy policy = expressPolicy();
  policy.roles_pointer = "/user/roles";
  const auto identity = parseSessionIdentity(
      R"({"user":{"username":"a","roles":["admin,root","ops","","x\ny","dev"]}})", policy);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->roles, (Strings{"ops", "dev"}));
}

TEST(SessionIdentity, AbsentRolesAndNullExpiryAreAllowed) {
  const auto identity =
      parseSessionIdentity(R"({"cookie":{"expires":null},"user":{"username":"a"}})", expressPolicy());
  ASSERT_TRUE(identity);
  EXPECT_TRUE(identity->roles.empty());
  EXPECT_FALSE(identity->expires_at_ms);
}

TEST(SessionIdentity, UnreadableExpiryFailsClosed) {
  EXPECT_FALSE(
      parseSessionIdentity(R"({"cookie":{"expires":"tomorrow"},"user":{"username":"a"}})", expressPolicy()));
  EXPECT_FALSE(parseSessionIdentity(R"({"cookie":{"expires":{}},"user":{"username":"a"}})", expressPolicy()));
}

}  // namespace
}  // namespace gatehouse::filters
