#include "proxy/config/cidr.h"

#include <gtest/gtest.h>

namespace gatehouse::config {
namespace {

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

TEST(CidrTest, Ipv4NetworkContainsItsAddressesOnly) {
  const auto cidr = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->contains(ip("10.0.0.0")));
  EXPECT_TRUE(cidr->contains(ip("10.255.255.255")));
  EXPECT_FALSE(cidr->contains(ip("11.0.0.0")));
  EXPECT_FALSE(cidr->contains(ip("9.255.255.255")));
  EXPECT_EQ(cidr->toString(), "10.0.0.0/8");
}

TEST(CidrTest, PrefixNotOnAByteBoundary) {
  const auto cidr = Cidr::parse("192.168.4.0/22");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->contains(ip("192.168.7.255")));
  EXPECT_FALSE(cidr->contains(ip("192.168.8.0")));
  EXPECT_FALSE(cidr->contains(ip("192.168.3.255")));
}

TEST(CidrTest, BareAddressIsASingleHost) {
  const auto v4 = Cidr::parse("127.0.0.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->toString(), "127.0.0.1/32");
  EXPECT_TRUE(v4->contains(ip("127.0.0.1")));
  EXPECT_FALSE(v4->contains(ip("127.0.0.2")));

  const auto v6 = Cidr::parse("::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->toString(), "::1/128");
  EXPECT_TRUE(v6->contains(ip("::1")));
  EXPECT_FALSE(v6->contains(ip("::2")));
}

TEST(CidrTest, ZeroPrefixMatchesEverythingOfItsFamily) {
  const auto any_v4 = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(any_v4);
  EXPECT_TRUE(any_v4->contains(ip("203.0.113.9")));
  EXPECT_FALSE(any_v4->contains(ip("2001:db8::1")));
}

TEST(CidrTest, Ipv6Network) {
  const auto cidr = Cidr::parse("2001:db8::/32");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(cidr->contains(ip("2001:db9::1")));
  EXPECT_FALSE(cidr->contains(ip("10.0.0.1")));
}

TEST(CidrTest, Ipv4MappedIpv6AddressMatchesIpv4Network) {
  const auto cidr = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(cidr->contains(ip("::ffff:11.1.2.3")));
}

TEST(CidrTest, MappedNetworkMatchesPlainIpv4Address) {
  const auto cidr = Cidr::parse("::ffff:10.0.0.0/104");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->contains(ip("10.9.9.9")));
  EXPECT_FALSE(cidr->contains(ip("11.0.0.1")));
}

TEST(CidrTest, RejectsHostBitsBelowThePrefix) {
  EXPECT_FALSE(Cidr::parse("10.0.0.1/8"));
  EXPECT_FALSE(Cidr::parse("2001:db8::1/32"));
  EXPECT_TRUE(Cidr::parse("10.0.0.1/32"));
}

TEST(CidrTest, RejectsMalformedText) {
  for (const char* text : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8x",
                           "300.0.0.0/8", "localhost", "10.0.0/8", "fe80::1%1", "10.0.0.0/0008"}) {
    EXPECT_FALSE(Cidr::parse(text)) << text;
  }
}

}  // namespace
}  // namespace gatehouse::config
