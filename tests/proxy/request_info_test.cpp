#include <string>

#include <gtest/gtest.h>

#include "filters/filter.h"

namespace gatehouse::filters {
namespace {

// The connection reuses one RequestInfo across the requests of a keep-alive connection: nothing of a request
// may reach the next one (a user above all), and the strings keep their memory.
TEST(RequestInfo, ResetClearsEveryFieldAndKeepsTheStringsMemory) {
  RequestInfo info;
  info.client_ip = "2001:db8:0:0:0:0:0:1234";
  info.route_name = "a-route-with-a-long-name";
  info.request_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  info.path = "/a/path/longer/than/the/inline/buffer";
  info.wants_json = true;
  info.user = "alice";
  info.roles = {"admin", "editor", "viewer"};
  info.predicted_user = "alice";
  const auto roles_capacity = info.roles.capacity();
  const auto id_capacity = info.request_id.capacity();
  const auto path_capacity = info.path.capacity();

  info.reset();

  EXPECT_TRUE(info.client_ip.empty());
  EXPECT_TRUE(info.route_name.empty());
  EXPECT_TRUE(info.request_id.empty());
  EXPECT_TRUE(info.path.empty());
  EXPECT_FALSE(info.wants_json);
  EXPECT_FALSE(info.user);
  EXPECT_TRUE(info.roles.empty());
  EXPECT_FALSE(info.predicted_user);
  EXPECT_EQ(info.request_id.capacity(), id_capacity);
  EXPECT_EQ(info.path.capacity(), path_capacity);
  EXPECT_EQ(info.roles.capacity(), roles_capacity);  // the session filter fills it again without allocating
}

}  // namespace
}  // namespace gatehouse::filters
