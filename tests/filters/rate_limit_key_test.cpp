#include "filters/rate_limit_key.h"

#include <string>
#include <vector>

#include <openssl/evp.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gatehouse::filters {
namespace {

using config::RateLimitKeyPart;
using Kind = config::RateLimitKeyPart::Kind;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

RateLimitKeyPart part(Kind kind, std::string name = {}) {
  return RateLimitKeyPart{kind, std::move(name)};
}

RequestInfo apiRequestInfo() {
  RequestInfo info;
  info.client_ip = "203.0.113.7";
  info.route_name = "api";
  info.request_id = "r1";
  info.path = "/api/x";
  return info;
}

class RateLimitKeyTest : public ::testing::Test {
 protected:
  std::string build(std::vector<RateLimitKeyPart> parts, std::string policy = "per_client") {
    return RateLimitKeyBuilder(policy, std::move(parts)).build(request_, info_, info_.user);
  }

  RequestHeader request_;
  RequestInfo info_ = apiRequestInfo();
};

TEST_F(RateLimitKeyTest, IpPartIsTheClientAddress) {
  EXPECT_EQ(build({part(Kind::Ip)}), "per_client:ip=203.0.113.7");
}

TEST_F(RateLimitKeyTest, EmptyPartListMeansIp) {
  EXPECT_EQ(build({}), "per_client:ip=203.0.113.7");
}

TEST_F(RateLimitKeyTest, Ipv6ClientsAreGroupedByTheirSlash64) {
  info_.client_ip = "2001:db8:1:2:aaaa:bbbb:cccc:dddd";
  const std::string first = build({part(Kind::Ip)});
  info_.client_ip = "2001:db8:1:2::1";
  const std::string same_subnet = build({part(Kind::Ip)});
  info_.client_ip = "2001:db8:1:3::1";
  const std::string other_subnet = build({part(Kind::Ip)});

  EXPECT_EQ(first, "per_client:ip=2001:db8:1:2::/64");
  EXPECT_EQ(first, same_subnet);
  EXPECT_NE(first, other_subnet);
}

TEST(RateLimitClientNetworkTest, NormalisesAddresses) {
  EXPECT_EQ(rateLimitClientNetwork("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(rateLimitClientNetwork("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(rateLimitClientNetwork("2001:db8::ff"), "2001:db8::/64");
  EXPECT_EQ(rateLimitClientNetwork("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(rateLimitClientNetwork("not-an-ip"), "not-an-ip");
}

TEST_F(RateLimitKeyTest, HeaderPartReadsTheHeaderCaseInsensitively) {
  request_.set("X-Api-Key", "k-123");
  EXPECT_EQ(build({part(Kind::Header, "x-api-key")}), "per_client:header=k-123");
}

TEST_F(RateLimitKeyTest, MissingOrEmptyHeaderFallsBackToIp) {
  EXPECT_EQ(build({part(Kind::Header, "X-Api-Key")}), "per_client:ip=203.0.113.7");
  request_.set("X-Api-Key", "");
  EXPECT_EQ(build({part(Kind::Header, "X-Api-Key")}), "per_client:ip=203.0.113.7");
}

TEST_F(RateLimitKeyTest, HeaderCarryingAnIpDoesNotShareTheBucketOfThatIp) {
  request_.set("X-Api-Key", "203.0.113.7");
  EXPECT_NE(build({part(Kind::Header, "X-Api-Key")}), build({part(Kind::Ip)}));
}

TEST_F(RateLimitKeyTest, CookiePartFindsTheNamedCookie) {
  request_.set(boost::beast::http::field::cookie, "xsid=wrong; sid=abc123; theme=dark");
  EXPECT_EQ(build({part(Kind::Cookie, "sid")}), "per_client:cookie=abc123");
}

TEST_F(RateLimitKeyTest, CookiePartSearchesEveryCookieFieldAndUnquotes) {
  request_.insert(boost::beast::http::field::cookie, "theme=dark");
  request_.insert(boost::beast::http::field::cookie, "sid=\"quoted\"");
  EXPECT_EQ(build({part(Kind::Cookie, "sid")}), "per_client:cookie=quoted");
}

TEST_F(RateLimitKeyTest, MissingCookieFallsBackToIp) {
  EXPECT_EQ(build({part(Kind::Cookie, "sid")}), "per_client:ip=203.0.113.7");
  request_.set(boost::beast::http::field::cookie, "other=1; sid=");
  EXPECT_EQ(build({part(Kind::Cookie, "sid")}), "per_client:ip=203.0.113.7");
}

TEST_F(RateLimitKeyTest, SessionUserPartUsesTheUserOrFallsBackToIp) {
  EXPECT_EQ(build({part(Kind::SessionUser)}), "per_client:ip=203.0.113.7");
  info_.user = "alice";
  EXPECT_EQ(build({part(Kind::SessionUser)}), "per_client:user=alice");
}

TEST_F(RateLimitKeyTest, RouteAndMethodParts) {
  request_.method(boost::beast::http::verb::post);
  EXPECT_EQ(build({part(Kind::Route)}), "per_client:route=api");
  EXPECT_EQ(build({part(Kind::Method)}), "per_client:method=POST");
}

TEST_F(RateLimitKeyTest, PartsAreJoinedInConfigOrder) {
  info_.user = "alice";
  request_.method(boost::beast::http::verb::get);
  EXPECT_EQ(build({part(Kind::SessionUser), part(Kind::Route), part(Kind::Method)}, "per_user"),
            "per_user:user=alice|route=api|method=GET");
  EXPECT_EQ(build({part(Kind::Method), part(Kind::SessionUser)}, "per_user"),
            "per_user:method=GET|user=alice");
}

TEST_F(RateLimitKeyTest, BracesAndSeparatorsNeverReachTheKey) {
  request_.set("X-Tenant", "{evil}|ip=1.2.3.4");
  const std::string key = build({part(Kind::Header, "X-Tenant"), part(Kind::Ip)}, "p{1}");
  EXPECT_THAT(key, Not(HasSubstr("{")));
  EXPECT_THAT(key, Not(HasSubstr("}")));
  EXPECT_EQ(key, "p%7B1%7D:header=%7Bevil%7D%7Cip%3D1.2.3.4|ip=203.0.113.7");
}

TEST_F(RateLimitKeyTest, LongKeysAreHashedAndStayBounded) {
  request_.set("X-Api-Key", std::string(500, 'k'));
  const std::string key = build({part(Kind::Header, "X-Api-Key")});
  EXPECT_LE(key.size(), RateLimitKeyBuilder::kMaxKeyBytes);
  EXPECT_THAT(key, MatchesRegex("per_client:#[0-9a-f]{64}"));
  EXPECT_EQ(key, build({part(Kind::Header, "X-Api-Key")}));  // stable

  request_.set("X-Api-Key", std::string(499, 'k') + "j");
  EXPECT_NE(key, build({part(Kind::Header, "X-Api-Key")}));
}

TEST_F(RateLimitKeyTest, KeyJustUnderTheBoundIsKeptReadable) {
  const std::string prefix = "per_client:header=";
  request_.set("X-Api-Key", std::string(RateLimitKeyBuilder::kMaxKeyBytes - prefix.size(), 'k'));
  const std::string key = build({part(Kind::Header, "X-Api-Key")});
  EXPECT_EQ(key.size(), RateLimitKeyBuilder::kMaxKeyBytes);
  EXPECT_THAT(key, StartsWith(prefix));
}

TEST_F(RateLimitKeyTest, TheHashCoversThePartsAfterThePolicyPrefix) {
  // Counters in Redis are keyed by this: the digest's input must not change between versions.
  const std::string value(500, 'k');
  request_.set("X-Api-Key", value);
  const std::string parts = "header=" + value;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ASSERT_EQ(EVP_Digest(parts.data(), parts.size(), digest, &length, EVP_sha256(), nullptr), 1);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0F];
  }
  EXPECT_EQ(build({part(Kind::Header, "X-Api-Key")}), "per_client:#" + hex);
}

TEST_F(RateLimitKeyTest, AReusedBufferHoldsExactlyTheKeyBuildReturns) {
  const RateLimitKeyBuilder builder("per_client", {part(Kind::Header, "X-Api-Key")});
  std::string buffer(300, 'x');  // what a longer key of an earlier request left
  builder.buildInto(buffer, request_, info_, info_.user);
  EXPECT_EQ(buffer, "per_client:ip=203.0.113.7");
  request_.set("X-Api-Key", std::string(500, 'k'));
  builder.buildInto(buffer, request_, info_, info_.user);
  EXPECT_EQ(buffer, builder.build(request_, info_, info_.user));
  EXPECT_THAT(buffer, MatchesRegex("per_client:#[0-9a-f]{64}"));
}

TEST_F(RateLimitKeyTest, HugePolicyNameIsHashedWithTheParts) {
  const std::string key = build({part(Kind::Ip)}, std::string(300, 'p'));
  EXPECT_THAT(key, MatchesRegex("#[0-9a-f]{64}"));
}

}  // namespace
}  // namespace gatehouse::filters
