#include "proxy/http/hop_by_hop.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::http {
namespace {

// "Name: value" of every field, in order.
std::vector<std::string> lines(const Fields& fields) {
  std::vector<std::string> out;
  for (const auto& field : fields)
    out.push_back(std::string(field.name_string()) + ": " + std::string(field.value()));
  return out;
}

using Lines = std::vector<std::string>;

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

}  // namespace
}  // namespace gatehouse::http
