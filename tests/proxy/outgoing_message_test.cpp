#include "proxy/outgoing_message.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/write.hpp>

namespace gatehouse::proxy {
namespace {

namespace bhttp = boost::beast::http;

// Beast's own rendering of a header: what the formatted head must equal byte for byte.
template <bool isRequest>
std::string beastHead(const bhttp::header<isRequest, http::Fields>& header) {
  std::ostringstream out;
  out << header;
  return out.str();
}

void addAwkwardFields(http::Fields& fields) {
  fields.insert(bhttp::field::host, "example.com");
  fields.insert("X-Empty", "");
  fields.insert("x-trimmed", "  padded value\t");
  fields.insert("X-Long", std::string(3000, 'v'));
  fields.insert("X-Obs-Text", "caf\xc3\xa9");
  fields.insert("X-Empty", "second");  // kept next to the first one
}

TEST(OutgoingMessage, FormatsARequestHeadAsBeastDoes) {
  http::RequestHeader request;
  request.method(bhttp::verb::post);
  request.target("/a?b=c");
  request.version(11);
  addAwkwardFields(request);
  OutgoingMessage message;
  message.startRequest(request);
  EXPECT_EQ(message.head(), beastHead(request));
}

TEST(OutgoingMessage, FormatsAResponseHeadAsBeastDoes) {
  http::ResponseHeader response;
  response.result(bhttp::status::not_found);
  response.version(11);
  addAwkwardFields(response);
  response.erase("X-Long");
  OutgoingMessage message;
  message.startResponse(response);
  EXPECT_EQ(message.head(), beastHead(response));
}

TEST(OutgoingMessage, FormatsAHeadWithoutFields) {
  http::ResponseHeader response;
  response.result(bhttp::status::no_content);
  response.version(10);
  OutgoingMessage message;
  message.startResponse(response);
  EXPECT_EQ(message.head(), "HTTP/1.0 204 No Content\r\n\r\n");
}

TEST(OutgoingMessage, ReusesItsBufferForTheNextHead) {
  http::RequestHeader first;
  first.method(bhttp::verb::get);
  first.target("/first");
  first.version(11);
  addAwkwardFields(first);
  http::RequestHeader second;
  second.method(bhttp::verb::get);
  second.target("/");
  second.version(11);
  second.insert(bhttp::field::host, "h");
  OutgoingMessage message;
  message.startRequest(first);
  message.startRequest(second);
  EXPECT_EQ(message.head(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

}  // namespace
}  // namespace gatehouse::proxy
