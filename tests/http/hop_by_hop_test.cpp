#include "proxy/http/hop_by_hop.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/beast/core/string.hpp>

#include "tests/support/field_lines.h"

namespace gatehouse::http {
namespace {

using testing::Lines;
using testing::lines;

TEST(RemoveHopByHop, RemovesTheStandardFields) {
  Fields fields;
  fields.insert("Host", "example.com");
  fields.insert("Connection", "keep-alive");
  fields.insert("Keep-Alive", "timeout=5");
  fields.insert("Proxy-Connection", "keep-alive");
  fields.insert("TE", "trailers");
  fields.insert("Trailer", "Expires");
  fields.insert("Transfer-Encoding", "chunked");
  fields.insert("Upgrade", "websocket");
  fields.insert("Accept", "*/*");
  fields.insert("Proxy-Authorization", "Basic eDp5");
  fields.insert("Proxy-Authenticate", "Basic");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), (Lines{"Host: example.com", "Accept: */*", "Proxy-Authorization: Basic eDp5",
                                  "Proxy-Authenticate: Basic"}));
}

TEST(RemoveHopByHop, RemovesFieldsNamedByConnection) {
  Fields fields;
  fields.insert("Connection", "close, X-Secret ,x-other");
  fields.insert("X-Secret", "1");
  fields.insert("X-Other", "2");
  fields.insert("x-secret", "3");
  fields.insert("X-Kept", "4");
  fields.insert("Connection", "X-Second-Field");
  fields.insert("X-Second-Field", "5");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), (Lines{"X-Kept: 4"}));
}

TEST(RemoveHopByHop, NeverRemovesHostOrContentLength) {
  Fields fields;
  fields.insert("Host", "example.com");
  fields.insert("Content-Length", "12");
  fields.insert("Connection", "Host, content-length, Cookie");
  fields.insert("Cookie", "a=b");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), (Lines{"Host: example.com", "Content-Length: 12"}));
}

TEST(RemoveHopByHop, KeepsUpgradeWhenAsked) {
  Fields fields;
  fields.insert("Host", "example.com");
  fields.insert("Connection", "Upgrade, HTTP2-Settings, keep-alive");
  fields.insert("Upgrade", "websocket");
  fields.insert("HTTP2-Settings", "AAMAAABkAAQAAP__");
  fields.insert("Keep-Alive", "timeout=5");
  fields.insert("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  removeHopByHop(fields, true);
  // Connection is gone too: the caller adds back exactly "Connection: Upgrade".
  EXPECT_EQ(lines(fields), (Lines{"Host: example.com", "Upgrade: websocket",
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}));
}

TEST(RemoveHopByHop, DropsUpgradeOtherwise) {
  Fields fields;
  fields.insert("Connection", "Upgrade");
  fields.insert("Upgrade", "websocket");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), Lines{});
}

TEST(RemoveHopByHop, HandlesManyConnectionTokensAndEmptyMembers) {
  Fields fields;
  std::string connection = ", ,";
  for (int i = 0; i < 20; ++i) {
    const auto name = "X-Hop-" + std::to_string(i);
    connection += name + ",";
    fields.insert(name, "v");
  }
  fields.insert("Connection", connection);
  fields.insert("X-End-To-End", "v");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), (Lines{"X-End-To-End: v"}));
}

TEST(RemoveHopByHop, LeavesAnOrdinaryMessageAlone) {
  Fields fields;
  fields.insert("Host", "example.com");
  fields.insert("Accept", "*/*");
  fields.insert("Cookie", "a=b");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), (Lines{"Host: example.com", "Accept: */*", "Cookie: a=b"}));
}

TEST(RemoveHopByHop, ConnectionNamingAFieldTwiceInOddCaseAndWhitespace) {
  Fields fields;
  fields.insert("X-Hop", "1");
  fields.insert("Connection", " x-HOP ,\tX-hop\t, ,X-Hop");
  fields.insert("x-hop", "2");
  fields.insert("X-Hop-Not", "3");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), (Lines{"X-Hop-Not: 3"}));
  EXPECT_EQ(fields.count("X-Hop"), 0u);
  EXPECT_EQ(fields.count("Connection"), 0u);
}

TEST(RemoveHopByHop, ConnectionMayComeAfterTheFieldsItNames) {
  Fields fields;
  fields.insert("X-Early", "1");
  fields.insert("Accept", "*/*");
  fields.insert("Connection", "X-Early, Accept, Connection");
  removeHopByHop(fields, false);
  EXPECT_EQ(lines(fields), Lines{});
}

TEST(RemoveHopByHop, ConnectionAloneIsRemoved) {
  Fields fields;
  fields.insert("Host", "example.com");
  fields.insert("Connection", "");
  fields.insert("connection", "");
  removeHopByHop(fields, true);
  EXPECT_EQ(lines(fields), (Lines{"Host: example.com"}));
  EXPECT_EQ(fields.count("Connection"), 0u);
}

TEST(RemoveHopByHop, UpgradeNamedByConnectionIsKeptWhenAsked) {
  Fields fields;
  fields.insert("Upgrade", "websocket");
  fields.insert("Connection", "upgrade, x-gone");
  fields.insert("X-Gone", "1");
  fields.insert("TE", "trailers");
  removeHopByHop(fields, true);
  EXPECT_EQ(lines(fields), (Lines{"Upgrade: websocket"}));
}

// The rule as first written: a lookup of Connection by name, one pass over the fields, Connection erased by
// name. The rewrite must agree with it on every message.
void referenceRemoveHopByHop(Fields& fields, bool keep_upgrade) {
  namespace bhttp = boost::beast::http;
  std::vector<std::string> nominated;
  const auto [first, last] = fields.equal_range(bhttp::field::connection);
  for (auto it = first; it != last; ++it) {
    std::string_view list = it->value();
    while (true) {
      const auto comma = list.find(',');
      auto token = list.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (!token.empty()) nominated.emplace_back(token);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  for (auto it = fields.begin(); it != fields.end();) {
    const auto name = it->name();
    bool remove = false;
    if (name == bhttp::field::connection || name == bhttp::field::host ||
        name == bhttp::field::content_length) {
      remove = false;
    } else if (name == bhttp::field::upgrade) {
      remove = !keep_upgrade;
    } else if (name == bhttp::field::keep_alive || name == bhttp::field::proxy_connection ||
               name == bhttp::field::te || name == bhttp::field::trailer ||
               name == bhttp::field::transfer_encoding) {
      remove = true;
    } else {
      for (const auto& token : nominated) remove = remove || boost::beast::iequals(it->name_string(), token);
    }
    it = remove ? fields.erase(it) : std::next(it);
  }
  fields.erase(bhttp::field::connection);
}

TEST(RemoveHopByHop, AgreesWithTheReferenceRule) {
  using NameValues = std::vector<std::pair<std::string, std::string>>;
  const std::vector<NameValues> cases = {
      {},
      {{"Host", "h"}, {"Accept", "*/*"}},
      {{"Connection", "keep-alive"}, {"Host", "h"}, {"Keep-Alive", "timeout=5"}},
      {{"Host", "h"}, {"Connection", "close"}, {"Close", "odd but named"}},
      {{"X-A", "1"},
       {"Connection", "x-a, X-B"},
       {"x-b", "2"},
       {"Connection", "x-c"},
       {"X-C", "3"},
       {"X-D", "4"}},
      {{"Connection", "Upgrade, HTTP2-Settings"}, {"Upgrade", "h2c"}, {"HTTP2-Settings", "x"}, {"Host", "h"}},
      {{"Upgrade", "websocket"}, {"Transfer-Encoding", "chunked"}, {"Trailer", "X"}, {"TE", "trailers"}},
      {{"Proxy-Connection", "keep-alive"}, {"Proxy-Authorization", "Basic x"}},
      {{"Connection", "Host, Content-Length, connection, upgrade"}, {"Host", "h"}, {"Content-Length", "1"}},
      {{"Connection", ",,  ,"}, {"X-Empty", ""}},
  };
  for (const auto& input : cases) {
    for (const bool keep_upgrade : {false, true}) {
      Fields ours;
      Fields reference;
      for (const auto& [name, value] : input) {
        ours.insert(name, value);
        reference.insert(name, value);
      }
      removeHopByHop(ours, keep_upgrade);
      referenceRemoveHopByHop(reference, keep_upgrade);
      EXPECT_EQ(lines(ours), lines(reference))
          << "case " << (&input - cases.data()) << " keep_upgrade " << keep_upgrade;
      EXPECT_EQ(ours.count("Connection"), 0u);
    }
  }
}

}  // namespace
}  // namespace gatehouse::http
