#include "proxy/config/address.h"

#include <gtest/gtest.h>

namespace gatehouse::config {
namespace {

TEST(AddressTest, HostAndPort) {
  const auto address = parseAddress("127.0.0.1:3000", PortZero::Rejected);
  ASSERT_TRUE(address) << address.error;
  EXPECT_EQ(address.value->kind, Address::Kind::Tcp);
  EXPECT_EQ(address.value->host, "127.0.0.1");
  EXPECT_EQ(address.value->port, 3000);
  EXPECT_EQ(address.value->text, "127.0.0.1:3000");
}

TEST(AddressTest, DnsName) {
  const auto address = parseAddress("app.internal:80", PortZero::Rejected);
  ASSERT_TRUE(address) << address.error;
  EXPECT_EQ(address.value->host, "app.internal");
}

TEST(AddressTest, BracketedIpv6LosesItsBrackets) {
  const auto address = parseAddress("[::1]:8080", PortZero::Rejected);
  ASSERT_TRUE(address) << address.error;
  EXPECT_EQ(address.value->host, "::1");
  EXPECT_EQ(address.value->port, 8080);
}

TEST(AddressTest, UnixSocket) {
  const auto address = parseAddress("unix:/run/app.sock", PortZero::Rejected);
  ASSERT_TRUE(address) << address.error;
  EXPECT_EQ(address.value->kind, Address::Kind::Unix);
  EXPECT_EQ(address.value->path, "/run/app.sock");
}

TEST(AddressTest, PortZeroOnlyWhereAllowed) {
  EXPECT_TRUE(parseAddress("127.0.0.1:0", PortZero::Allowed));
  const auto rejected = parseAddress("127.0.0.1:0", PortZero::Rejected);
  ASSERT_FALSE(rejected);
  EXPECT_NE(rejected.error.find("out of range"), std::string::npos) << rejected.error;
}

TEST(AddressTest, RejectsBadAddresses) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:65536", "127.0.0.1:http", ":8080", "::1:8080", "[::1]",
                           "[::g]:80", "[::1]x:80", "300.1.1.1:80", "bad host:80", "unix:", "127.0.0.1:-1"}) {
    EXPECT_FALSE(parseAddress(text, PortZero::Allowed)) << text;
  }
}

TEST(RedisUrlTest, HostPortAndDb) {
  const auto url = parseRedisUrl("redis://cache.internal:6380/2");
  ASSERT_TRUE(url) << url.error;
  EXPECT_FALSE(url.value->tls);
  EXPECT_EQ(url.value->host, "cache.internal");
  EXPECT_EQ(url.value->port, 6380);
  EXPECT_EQ(url.value->db, 2);
  EXPECT_TRUE(url.value->password.empty());
}

TEST(RedisUrlTest, DefaultsPortAndDb) {
  const auto url = parseRedisUrl("redis://localhost");
  ASSERT_TRUE(url) << url.error;
  EXPECT_EQ(url.value->port, 6379);
  EXPECT_EQ(url.value->db, 0);
}

TEST(RedisUrlTest, UserAndPercentEncodedPassword) {
  const auto url = parseRedisUrl("rediss://gate:p%40ss:w@10.0.0.5:6379/0");
  ASSERT_TRUE(url) << url.error;
  EXPECT_TRUE(url.value->tls);
  EXPECT_EQ(url.value->user, "gate");
  EXPECT_EQ(url.value->password, "p@ss:w");
  EXPECT_EQ(url.value->host, "10.0.0.5");
}

TEST(RedisUrlTest, PasswordOnlyMeansLegacyAuth) {
  const auto url = parseRedisUrl("redis://:secret@127.0.0.1:6379/0");
  ASSERT_TRUE(url) << url.error;
  EXPECT_EQ(url.value->user, "");
  EXPECT_EQ(url.value->password, "secret");
}

TEST(RedisUrlTest, Ipv6Host) {
  const auto url = parseRedisUrl("redis://[::1]:6379/1");
  ASSERT_TRUE(url) << url.error;
  EXPECT_EQ(url.value->host, "::1");
  EXPECT_EQ(formatRedisUrl(*url.value, false), "redis://[::1]:6379/1");
}

TEST(RedisUrlTest, UnixSocketWithDb) {
  const auto url = parseRedisUrl("unix:///var/run/redis.sock?db=3");
  ASSERT_TRUE(url) << url.error;
  EXPECT_TRUE(url.value->unix_socket);
  EXPECT_EQ(url.value->path, "/var/run/redis.sock");
  EXPECT_EQ(url.value->db, 3);
}

TEST(RedisUrlTest, RejectsBadUrls) {
  for (const char* text :
       {"http://localhost:6379", "localhost:6379", "redis://", "redis://host:0", "redis://host:70000/0",
        "redis://host:6379/x", "redis://user@host:6379", "redis://host:6379/0?timeout=1",
        "unix://relative.sock", "unix:///s.sock?db=x", "unix:///s.sock?password=x", "redis://:p%zz@host"}) {
    EXPECT_FALSE(parseRedisUrl(text)) << text;
  }
}

TEST(RedisUrlTest, FormatRedactsOnlyThePassword) {
  const auto url = parseRedisUrl("redis://gate:hunter2@127.0.0.1:6379/0");
  ASSERT_TRUE(url);
  const std::string redacted = formatRedisUrl(*url.value, true);
  EXPECT_EQ(redacted, "redis://gate:<redacted>@127.0.0.1:6379/0");
  const auto reparsed = parseRedisUrl(redacted);
  ASSERT_TRUE(reparsed) << reparsed.error;
  EXPECT_EQ(reparsed.value->user, "gate");
  EXPECT_EQ(formatRedisUrl(*url.value, false), "redis://gate:hunter2@127.0.0.1:6379/0");
}

}  // namespace
}  // namespace gatehouse::config
