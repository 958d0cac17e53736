#include "proxy/http/forwarded.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/field_lines.h"

namespace gatehouse::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

std::vector<config::Cidr> cidrs(std::initializer_list<const char*> texts) {
  std::vector<config::Cidr> out;
  for (const auto* text : texts) {
    auto cidr = config::Cidr::parse(text);
    EXPECT_TRUE(cidr) << text;
    if (cidr) out.push_back(*cidr);
  }
  return out;
}

Fields withForwardedFor(std::initializer_list<const char*> values) {
  Fields fields;
  for (const auto* value : values) fields.insert(kXForwardedFor, value);
  return fields;
}

const auto kTrusted = cidrs({"127.0.0.1/32", "10.0.0.0/8", "fd00::/8"});

// The connection's peer as Gatehouse classifies it against kTrusted.
Peer peerAt(const char* address) {
  return Peer(asio::ip::make_address(address), kTrusted);
}

TEST(ResolveClientIp, UntrustedPeerIsTheClient) {
  const auto fields = withForwardedFor({"1.1.1.1"});
  EXPECT_EQ(resolveClientIp(fields, peerAt("203.0.113.7"), kTrusted), "203.0.113.7");
}

TEST(Peer, IsFormattedUnmappedAndClassifiedOnce) {
  const Peer mapped = peerAt("::ffff:10.0.0.9");
  EXPECT_EQ(mapped.text, "10.0.0.9");
  EXPECT_TRUE(mapped.address.is_v4());
  EXPECT_TRUE(mapped.trusted);
  const Peer outside = peerAt("2001:db8::5");
  EXPECT_EQ(outside.text, "2001:db8::5");
  EXPECT_FALSE(outside.trusted);
  // A trusted peer's own text is the answer when the list names no one else; the list's client otherwise.
  EXPECT_EQ(resolveClientIp(Fields{}, mapped, kTrusted), "10.0.0.9");
  EXPECT_EQ(resolveClientIp(withForwardedFor({"198.51.100.4"}), mapped, kTrusted), "198.51.100.4");
  EXPECT_EQ(resolveClientIp(withForwardedFor({"198.51.100.4"}), outside, kTrusted), "2001:db8::5");
}

TEST(ResolveClientIp, TrustedPeerWithoutForwardedForIsTheClient) {
  EXPECT_EQ(resolveClientIp(Fields{}, peerAt("10.1.2.3"), kTrusted), "10.1.2.3");
}

TEST(ResolveClientIp, WalksTheChainFromTheRight) {
  // The client forged 6.6.6.6; the first proxy saw 198.51.100.1, then two trusted hops.
  const auto fields = withForwardedFor({"6.6.6.6, 198.51.100.1, 10.0.0.2"});
  EXPECT_EQ(resolveClientIp(fields, peerAt("127.0.0.1"), kTrusted), "198.51.100.1");
}

TEST(ResolveClientIp, JoinsSeveralFields) {
  const auto fields = withForwardedFor({"6.6.6.6, 198.51.100.1", "10.0.0.9"});
  EXPECT_EQ(resolveClientIp(fields, peerAt("127.0.0.1"), kTrusted), "198.51.100.1");
}

TEST(ResolveClientIp, AllTrustedGivesTheLeftmost) {
  const auto fields = withForwardedFor({"10.0.0.1, 10.0.0.2"});
  EXPECT_EQ(resolveClientIp(fields, peerAt("127.0.0.1"), kTrusted), "10.0.0.1");
}

TEST(ResolveClientIp, GarbageStopsTheWalk) {
  const auto fields = withForwardedFor({"198.51.100.1, unknown, 10.0.0.2"});
  EXPECT_EQ(resolveClientIp(fields, peerAt("127.0.0.1"), kTrusted), "10.0.0.2");
}

TEST(ResolveClientIp, HandlesIpv6AndPorts) {
  const auto fields = withForwardedFor({"[2001:db8::1]:4711, fd00::5"});
  EXPECT_EQ(resolveClientIp(fields, peerAt("fd00::1"), kTrusted), "2001:db8::1");

  const auto bare = withForwardedFor({"2001:DB8:0:0::2"});
  EXPECT_EQ(resolveClientIp(bare, peerAt("127.0.0.1"), kTrusted), "2001:db8::2");

  const auto port = withForwardedFor({"198.51.100.1:8080"});
  EXPECT_EQ(resolveClientIp(port, peerAt("127.0.0.1"), kTrusted), "198.51.100.1");
}

TEST(ResolveClientIp, UnmapsIpv4MappedAddresses) {
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; they match IPv4 networks and print as IPv4.
  const auto fields = withForwardedFor({"::ffff:198.51.100.1"});
  EXPECT_EQ(resolveClientIp(fields, peerAt("::ffff:127.0.0.1"), kTrusted), "198.51.100.1");
  EXPECT_EQ(resolveClientIp(Fields{}, peerAt("::ffff:203.0.113.7"), kTrusted), "203.0.113.7");
}

TEST(SetForwardedHeaders, UntrustedPeerReplacesEverything) {
  auto fields = withForwardedFor({"6.6.6.6"});
  fields.insert(kXForwardedProto, "https");
  fields.insert(kXForwardedHost, "forged.example");
  setForwardedHeaders(fields, peerAt("203.0.113.7"), "http", "app.example");
  EXPECT_EQ(fields[kXForwardedFor], "203.0.113.7");
  EXPECT_EQ(fields[kXForwardedProto], "http");
  EXPECT_EQ(fields[kXForwardedHost], "app.example");
  EXPECT_EQ(fields.count(kXForwardedFor), 1u);
}

TEST(SetForwardedHeaders, TrustedPeerKeepsAndAppends) {
  auto fields = withForwardedFor({"198.51.100.1", "10.0.0.2"});
  fields.insert(kXForwardedProto, "https");
  fields.insert(kXForwardedHost, "public.example");
  setForwardedHeaders(fields, peerAt("127.0.0.1"), "http", "internal:8080");
  EXPECT_EQ(fields.count(kXForwardedFor), 1u);
  EXPECT_EQ(fields[kXForwardedFor], "198.51.100.1, 10.0.0.2, 127.0.0.1");
  EXPECT_EQ(fields[kXForwardedProto], "https");
  EXPECT_EQ(fields[kXForwardedHost], "public.example");
}

TEST(SetForwardedHeaders, TrustedPeerWithoutHeadersGetsOurs) {
  Fields fields;
  setForwardedHeaders(fields, peerAt("10.0.0.3"), "http", "app.example");
  EXPECT_EQ(fields[kXForwardedFor], "10.0.0.3");
  EXPECT_EQ(fields[kXForwardedProto], "http");
  EXPECT_EQ(fields[kXForwardedHost], "app.example");
}

TEST(SetForwardedHeaders, WritesIpv6WithoutBracketsAndMappedAsIpv4) {
  Fields v6;
  setForwardedHeaders(v6, peerAt("2001:db8::7"), "http", "a");
  EXPECT_EQ(v6[kXForwardedFor], "2001:db8::7");

  Fields mapped;
  setForwardedHeaders(mapped, peerAt("::ffff:192.0.2.9"), "http", "a");
  EXPECT_EQ(mapped[kXForwardedFor], "192.0.2.9");
}

TEST(SetForwardedHeaders, NoHostRemovesForwardedHost) {
  Fields fields;
  fields.insert(kXForwardedHost, "forged.example");
  setForwardedHeaders(fields, peerAt("203.0.113.7"), "http", "");
  EXPECT_EQ(fields.count(kXForwardedHost), 0u);
}

TEST(SetForwardedHeaders, HostMayPointIntoTheSameFields) {
  // The data plane passes request[Host] itself.
  Fields fields;
  fields.insert(bhttp::field::host, "app.example");
  setForwardedHeaders(fields, peerAt("203.0.113.7"), "http", fields[bhttp::field::host]);
  EXPECT_EQ(fields[kXForwardedHost], "app.example");
}

using testing::lines;

// The rule as first written, with a lookup and a set by name per field. The one-pass rewrite must leave the
// same fields in the same order.
void referenceSetForwardedHeaders(Fields& fields, const Peer& peer, std::string_view proto,
                                  std::string_view host) {
  if (peer.trusted && fields.count(kXForwardedFor) > 0) {
    std::string joined;
    const auto [first, last] = fields.equal_range(kXForwardedFor);
    for (auto it = first; it != last; ++it) {
      auto value = it->value();
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (value.empty()) continue;
      joined.append(value).append(", ");
    }
    joined.append(peer.text);
    fields.set(kXForwardedFor, joined);
  } else {
    fields.set(kXForwardedFor, peer.text);
  }
  if (!peer.trusted || fields.count(kXForwardedProto) == 0) fields.set(kXForwardedProto, proto);
  if (!peer.trusted || fields.count(kXForwardedHost) == 0) {
    if (host.empty()) {
      fields.erase(kXForwardedHost);
    } else {
      fields.set(kXForwardedHost, host);
    }
  }
}

TEST(SetForwardedHeaders, AgreesWithTheReferenceRule) {
  using NameValues = std::vector<std::pair<std::string, std::string>>;
  const std::vector<NameValues> cases = {
      {},
      {{"Host", "app.example"}},
      {{"x-forwarded-for", "1.1.1.1"}, {"Host", "h"}, {"X-FORWARDED-FOR", " 2.2.2.2 , 3.3.3.3"}},
      {{"X-Forwarded-Proto", "https"}, {"Accept", "*/*"}, {"x-forwarded-proto", "http"}},
      {{"X-Forwarded-Host", "a.example"}, {"X-Forwarded-Hosts", "not ours"}, {"X-Forwarded-For", ""}},
      {{"X-Forwarded-For", "1.1.1.1"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "a"}, {"Z", "z"}},
      {{"X-Forwarded-For", "\t"}, {"X-Forwarded-For", "4.4.4.4"}},
  };
  for (const auto* address : {"127.0.0.1", "203.0.113.7"}) {
    const auto peer = peerAt(address);
    for (const std::string_view host : {"app.example", ""}) {
      for (const auto& input : cases) {
        Fields ours;
        Fields reference;
        for (const auto& [name, value] : input) {
          ours.insert(name, value);
          reference.insert(name, value);
        }
        setForwardedHeaders(ours, peer, "http", host);
        referenceSetForwardedHeaders(reference, peer, "http", host);
        EXPECT_EQ(lines(ours), lines(reference))
            << "peer " << address << " host '" << host << "' case " << (&input - cases.data());
        // The name index agrees with the list.
        EXPECT_EQ(ours.count(kXForwardedFor), reference.count(kXForwardedFor));
        EXPECT_EQ(ours.count(kXForwardedProto), reference.count(kXForwardedProto));
        EXPECT_EQ(ours.count(kXForwardedHost), reference.count(kXForwardedHost));
      }
    }
  }
}

}  // namespace
}  // namespace gatehouse::http
