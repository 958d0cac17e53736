#include "filters/cookie.h"

#include <array>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace gatehouse::filters {
namespace {

using Status = CookieLookup::Status;

CookieLookup find(std::string_view header, std::string_view name) {
  const std::array<std::string_view, 1> fields{header};
  return findCookie(fields, name);
}

// The session filter hands over the last request's id: the value is written into that memory, and a value
// that needs no decoding allocates nothing.
TEST(CookieParsing, TheFoundValueTakesOverTheMemoryItIsGiven) {
  std::string reuse = "an-id-of-an-earlier-request-long-enough-to-be-on-the-heap";
  const char* const memory = reuse.data();
  const std::array<std::string_view, 1> fields{"theme=dark; sid=0123456789abcdef0123456789abcdef"};
  const CookieLookup found = findCookie(fields, "sid", std::move(reuse));
  ASSERT_EQ(found.status, Status::Found);
  EXPECT_EQ(found.value, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(found.value.data(), memory);

  const CookieLookup absent = findCookie(fields, "other", std::string("leftover-text-that-must-not-show"));
  EXPECT_EQ(absent.status, Status::Absent);
  EXPECT_TRUE(absent.value.empty());
}

TEST(CookieParsing, FindsTheNamedCookieAmongOthers) {
  const CookieLookup found = find("theme=dark; connect.sid=abc; lang=en", "connect.sid");
  EXPECT_EQ(found.status, Status::Found);
  EXPECT_EQ(found.value, "abc");
}

TEST(CookieParsing, TrimsSpacesAndTabsAroundNamesAndValues) {
  const CookieLookup found = find("a=1;\t connect.sid \t=  \tabc \t;b=2", "connect.sid");
  EXPECT_EQ(found.status, Status::Found);
  EXPECT_EQ(found.value, "abc");
}

TEST(CookieParsing, AbsentWhenOnlyAPrefixOrADifferentCaseMatches) {
  EXPECT_EQ(find("connect.sid2=abc; xconnect.sid=def", "connect.sid").status, Status::Absent);
  EXPECT_EQ(find("Connect.Sid=abc", "connect.sid").status, Status::Absent);
  EXPECT_EQ(find("", "connect.sid").status, Status::Absent);
}

TEST(CookieParsing, PairsWithoutEqualsAreIgnored) {
  const CookieLookup found = find("connect.sid; flag; connect.sid=abc", "connect.sid");
  EXPECT_EQ(found.status, Status::Found);
  EXPECT_EQ(found.value, "abc");
}

TEST(CookieParsing, ValueKeepsEqualsSignsAfterTheFirst) {
  EXPECT_EQ(find("token=a=b==", "token").value, "a=b==");
}

TEST(CookieParsing, EmptyValueIsFoundAndEmpty) {
  const CookieLookup found = find("connect.sid=; other=1", "connect.sid");
  EXPECT_EQ(found.status, Status::Found);
  EXPECT_EQ(found.value, "");
}

TEST(CookieParsing, QuotedValuesAreUnquoted) {
  EXPECT_EQ(find(R"(connect.sid="abc")", "connect.sid").value, "abc");
  EXPECT_EQ(find(R"(connect.sid= "a b" ;x=1)", "connect.sid").value, "a b");
  // A lone quote is not a quoted value: kept as sent.
  EXPECT_EQ(find(R"(connect.sid="abc)", "connect.sid").value, R"("abc)");
}

TEST(CookieParsing, PercentEncodedValuesAreDecoded) {
  const CookieLookup found = find("connect.sid=s%3Aabc.d%2Be%2Ff", "connect.sid");
  EXPECT_EQ(found.value, "s:abc.d+e/f");
  EXPECT_EQ(find(R"(connect.sid="s%3Aabc")", "connect.sid").value, "s:abc");
}

TEST(CookieParsing, MalformedPercentEscapesKeepTheRawValue) {
  EXPECT_EQ(find("connect.sid=s%3Aabc%zz", "connect.sid").value, "s%3Aabc%zz");
  EXPECT_EQ(find("connect.sid=abc%4", "connect.sid").value, "abc%4");
  EXPECT_EQ(find("connect.sid=abc%", "connect.sid").value, "abc%");
}

TEST(CookieParsing, TwoCookiesWithTheNameInOneFieldAreADuplicate) {
  const CookieLookup found = find("connect.sid=first; connect.sid=second", "connect.sid");
  EXPECT_EQ(found.status, Status::Duplicate);
  EXPECT_EQ(found.value, "");
}

TEST(CookieParsing, TwoCookiesWithTheNameAcrossFieldsAreADuplicate) {
  const std::array<std::string_view, 3> fields{"a=1", "connect.sid=first", "b=2; connect.sid=second"};
  EXPECT_EQ(findCookie(fields, "connect.sid").status, Status::Duplicate);
}

TEST(CookieParsing, ReadsEveryCookieFieldOfARequest) {
  RequestHeader request;
  request.insert(boost::beast::http::field::cookie, "a=1");
  request.insert(boost::beast::http::field::cookie, "connect.sid=abc");
  EXPECT_EQ(findCookie(request, "connect.sid").value, "abc");
  request.insert(boost::beast::http::field::cookie, "connect.sid=abc");
  EXPECT_EQ(findCookie(request, "connect.sid").status, Status::Duplicate);
}

TEST(PercentCoding, DecodeRejectsTruncatedOrNonHexEscapes) {
  EXPECT_EQ(percentDecode("a%20b%2fc"), std::optional<std::string>("a b/c"));
  EXPECT_EQ(percentDecode("%"), std::nullopt);
  EXPECT_EQ(percentDecode("%2"), std::nullopt);
  EXPECT_EQ(percentDecode("%g0"), std::nullopt);
}

TEST(PercentCoding, EncodeComponentEscapesLikeEncodeURIComponent) {
  EXPECT_EQ(percentEncodeComponent("/admin/users?page=2&q=a b"), "%2Fadmin%2Fusers%3Fpage%3D2%26q%3Da%20b");
  EXPECT_EQ(percentEncodeComponent("AZaz09-_.!~*'()"), "AZaz09-_.!~*'()");
  EXPECT_EQ(percentEncodeComponent("\xC3\xA9#"), "%C3%A9%23");
}

}  // namespace
}  // namespace gatehouse::filters
