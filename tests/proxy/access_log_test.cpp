#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "proxy/access_log.h"

namespace gatehouse::proxy {
namespace {

AccessRecord sample() {
  AccessRecord record;
  record.method = "GET";
  record.target = "/a \"quoted\" path";
  record.route = "api";
  record.status = 200;
  record.bytes = 1234;
  record.upstream_time = std::chrono::microseconds(1500);
  record.total_time = std::chrono::milliseconds(2);
  record.request_id = "req-1";
  record.client = "203.0.113.9";
  return record;
}

TEST(AccessLog, JsonLineHasEveryFieldAndEscapesValues) {
  const auto line = AccessLog::formatJson(sample());
  const auto json = boost::json::parse(line).as_object();
  EXPECT_EQ(json.at("method").as_string(), "GET");
  EXPECT_EQ(json.at("target").as_string(), "/a \"quoted\" path");
  EXPECT_EQ(json.at("route").as_string(), "api");
  EXPECT_EQ(json.at("status").as_int64(), 200);
  EXPECT_EQ(json.at("bytes").as_int64(), 1234);
  EXPECT_DOUBLE_EQ(json.at("upstream_ms").as_double(), 1.5);
  EXPECT_DOUBLE_EQ(json.at("total_ms").as_double(), 2.0);
  EXPECT_EQ(json.at("request_id").as_string(), "req-1");
  EXPECT_EQ(json.at("client").as_string(), "203.0.113.9");
}

TEST(AccessLog, TextLineReadsLikeACommonLogLine) {
  EXPECT_EQ(
      AccessLog::formatText(sample()),
      "203.0.113.9 \"GET /a \"quoted\" path\" 200 1234 route=api upstream=1.500ms total=2.000ms id=req-1");
}

}  // namespace
}  // namespace gatehouse::proxy
