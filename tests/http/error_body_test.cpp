#include "proxy/http/error_body.h"

#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::string_literals;

TEST(ErrorBody, IsTheDocumentedJson) {
  EXPECT_EQ(errorBody("no route", "abc-123"), R"({"error":"no route","request_id":"abc-123"})");
}

TEST(ErrorBody, EscapesQuotesBackslashesAndControls) {
  const auto error = "say \"hi\"\\ \n\r\t\b\f\x01\x1f end"s;
  const auto body = errorBody(error, "id\"1");
  EXPECT_EQ(body, R"({"error":"say \"hi\"\\ \n\r\t\b\f\u0001\u001f end","request_id":"id\"1"})");
  // And a JSON parser reads back exactly what went in.
  const auto parsed = boost::json::parse(body).as_object();
  EXPECT_EQ(parsed.at("error").as_string(), error);
  EXPECT_EQ(parsed.at("request_id").as_string(), "id\"1");
}

TEST(ErrorBody, KeepsUtf8AndNul) {
  const auto error = "caf\xc3\xa9 \xe2\x9c\x93 a\0b"s;
  const auto body = errorBody(error, "");
  const auto parsed = boost::json::parse(body).as_object();
  EXPECT_EQ(parsed.at("error").as_string(), error);
  EXPECT_EQ(parsed.at("request_id").as_string(), "");
}

TEST(AddRequestId, AppendsItToAJsonObjectThatLacksIt) {
  std::string body = R"({"error":"unauthenticated"})";
  addRequestId(body, "id\"7");
  EXPECT_EQ(body, R"({"error":"unauthenticated","request_id":"id\"7"})");
  EXPECT_EQ(boost::json::parse(body).as_object().at("request_id").as_string(), "id\"7");

  std::string empty = "{ }";
  addRequestId(empty, "abc");
  EXPECT_EQ(empty, R"({ "request_id":"abc"})");
}

TEST(AddRequestId, LeavesOtherBodiesAlone) {
  for (std::string body : {std::string(R"({"error":"x","request_id":"given"})"),
                           std::string("<h1>Forbidden</h1>"), std::string(), std::string("[1,2]")}) {
    const std::string before = body;
    addRequestId(body, "abc");
    EXPECT_EQ(body, before);
  }
}

TEST(ReasonFor, GivesThePhrase) {
  EXPECT_EQ(reasonFor(bhttp::status::too_many_requests), "Too Many Requests");
  EXPECT_EQ(reasonFor(bhttp::status::bad_gateway), "Bad Gateway");
  EXPECT_EQ(reasonFor(404u), "Not Found");
}

TEST(ReasonFor, FallsBackToTheClass) {
  EXPECT_EQ(reasonFor(432u), "Client Error");
  EXPECT_EQ(reasonFor(532u), "Server Error");
  EXPECT_EQ(reasonFor(299u), "Success");
  EXPECT_EQ(reasonFor(42u), "Unknown Status");
}

}  // namespace
}  // namespace gatehouse::http
