#include "proxy/http/field_scan.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/beast/http/empty_body.hpp>

#include "proxy/http/request_id.h"
#include "tests/support/field_lines.h"

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;

using testing::Lines;
using testing::lines;
using NameValues = std::vector<std::pair<std::string, std::string>>;

Fields fieldsOf(const NameValues& pairs) {
  Fields fields;
  for (const auto& [name, value] : pairs) fields.insert(name, value);
  return fields;
}

TEST(FieldName, LooksUpTheEnumOnce) {
  EXPECT_EQ(FieldName("content-length").id, bhttp::field::content_length);
  EXPECT_EQ(kRequestIdField.id, bhttp::field::unknown);
  EXPECT_EQ(kRequestIdField.text, kRequestIdHeader);
}

TEST(IsNamed, ComparesKnownNamesByEnumAndOthersCaseInsensitively) {
  const auto fields =
      fieldsOf({{"HOST", "a"}, {"x-request-id", "b"}, {"X-Request-IDs", "c"}, {"X-Request", "d"}});
  auto it = fields.begin();
  EXPECT_TRUE(isNamed(*it, FieldName("Host")));
  EXPECT_FALSE(isNamed(*it, kRequestIdField));
  ++it;
  EXPECT_TRUE(isNamed(*it, kRequestIdField));
  EXPECT_FALSE(isNamed(*it, FieldName("Host")));
  ++it;
  EXPECT_FALSE(isNamed(*it, kRequestIdField));  // longer
  ++it;
  EXPECT_FALSE(isNamed(*it, kRequestIdField));  // shorter
}

TEST(HasField, FindsAnyFieldOfTheName) {
  const auto fields = fieldsOf({{"Accept", "*/*"}, {"transfer-encoding", ""}});
  EXPECT_TRUE(hasField(fields, bhttp::field::accept));
  EXPECT_TRUE(hasField(fields, bhttp::field::transfer_encoding));
  EXPECT_FALSE(hasField(fields, bhttp::field::connection));
  EXPECT_FALSE(hasField(Fields{}, bhttp::field::host));
}

// replaceField must leave the fields exactly as Fields::set does: same fields, same order.
TEST(ReplaceField, DoesWhatSetDoes) {
  const std::vector<NameValues> cases = {
      {},
      {{"Host", "h"}},
      {{"X-Request-ID", "old"}, {"Host", "h"}},
      {{"Host", "h"}, {"x-request-id", "one"}, {"Accept", "*/*"}, {"X-REQUEST-ID", "two"}},
      {{"X-Request-Id", ""}, {"X-Request-IDx", "kept"}, {"X-Request-I", "kept"}},
  };
  for (const auto& input : cases) {
    auto ours = fieldsOf(input);
    auto beasts = fieldsOf(input);
    replaceField(ours, kRequestIdField, "  new-id ");
    beasts.set(kRequestIdHeader, "  new-id ");
    EXPECT_EQ(lines(ours), lines(beasts));
    EXPECT_EQ(ours.count(kRequestIdHeader), 1u);  // the name index agrees with the list
    EXPECT_EQ(ours[kRequestIdHeader], "new-id");
  }
}

TEST(ReplaceField, WorksForKnownNames) {
  auto ours = fieldsOf({{"connection", "close"}, {"Host", "h"}, {"Connection", "x"}});
  auto beasts = fieldsOf({{"connection", "close"}, {"Host", "h"}, {"Connection", "x"}});
  replaceField(ours, FieldName("Connection"), "Upgrade");
  beasts.set(bhttp::field::connection, "Upgrade");
  EXPECT_EQ(lines(ours), lines(beasts));
  EXPECT_EQ(ours.find(bhttp::field::connection)->value(), "Upgrade");
}

// Every value must be what Fields::operator[] gives for that name.
void expectSameAsLookups(const NameValues& input) {
  const auto fields = fieldsOf(input);
  const auto values = scanRequestFields(fields);
  EXPECT_EQ(values.host, fields[bhttp::field::host]);
  EXPECT_EQ(values.accept, fields[bhttp::field::accept]);
  EXPECT_EQ(values.connection, fields[bhttp::field::connection]);
  EXPECT_EQ(values.expect, fields[bhttp::field::expect]);
  EXPECT_EQ(values.request_id, fields[kRequestIdHeader]);
  EXPECT_EQ(values.has_upgrade, fields.count(bhttp::field::upgrade) > 0);
}

TEST(ScanRequestFields, ReadsWhatLookupsByNameRead) {
  expectSameAsLookups({});
  expectSameAsLookups({{"Host", "example.com"}});
  expectSameAsLookups({{"host", "first"},
                       {"Accept", "text/html"},
                       {"HOST", "second"},
                       {"x-request-id", "id-1"},
                       {"X-Request-ID", "id-2"},
                       {"Connection", "Upgrade"},
                       {"connection", "close"},
                       {"Upgrade", ""},
                       {"Expect", "100-continue"},
                       {"X-Request-IDs", "not-an-id"}});
  expectSameAsLookups({{"X-Request-Id", ""}, {"X-Request-ID", "second"}, {"Accept", ""}, {"accept", "b"}});
}

TEST(ScanRequestFields, AbsentFieldsAreEmpty) {
  const auto values = scanRequestFields(fieldsOf({{"Cookie", "a=b"}}));
  EXPECT_TRUE(values.host.empty());
  EXPECT_TRUE(values.request_id.empty());
  EXPECT_FALSE(values.has_upgrade);
}

// setKeepAlive must leave the header exactly as header.keep_alive does, Connection field or not.
TEST(SetKeepAlive, DoesWhatKeepAliveDoes) {
  const std::vector<NameValues> cases = {
      {},
      {{"Host", "h"}},
      {{"Connection", "close"}, {"Host", "h"}},
      {{"Connection", "keep-alive"}},
      {{"Connection", "Upgrade, close"}},
      {{"connection", "x-custom"}, {"Connection", "close"}},
  };
  for (const unsigned version : {10u, 11u}) {
    for (const bool keep_alive : {true, false}) {
      for (const auto& input : cases) {
        bhttp::response<bhttp::empty_body, Fields> ours;
        bhttp::response<bhttp::empty_body, Fields> beasts;
        for (const auto& [name, value] : input) {
          ours.insert(name, value);
          beasts.insert(name, value);
        }
        ours.version(version);
        beasts.version(version);
        setKeepAlive(ours, keep_alive);
        beasts.keep_alive(keep_alive);
        EXPECT_EQ(lines(ours), lines(beasts)) << "HTTP/" << version << " keep_alive=" << keep_alive;
        EXPECT_EQ(ours.count(bhttp::field::connection), beasts.count(bhttp::field::connection));
      }
    }
  }
}

TEST(IsChunked, SaysWhatChunkedSays) {
  const std::vector<NameValues> cases = {
      {},
      {{"Content-Length", "5"}},
      {{"Transfer-Encoding", "chunked"}},
      {{"transfer-encoding", "gzip, CHUNKED"}},
      {{"Transfer-Encoding", "chunked, gzip"}},
      {{"Transfer-Encoding", ""}},
      {{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}},
  };
  for (const auto& input : cases) {
    bhttp::request<bhttp::empty_body, Fields> header;
    for (const auto& [name, value] : input) header.insert(name, value);
    EXPECT_EQ(isChunked(header), header.chunked());
  }
}

}  // namespace
}  // namespace gatehouse::http
