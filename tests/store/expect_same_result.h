// One rate-limit answer against another, field by field: a store's against the C++ math's.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "store/store.h"

namespace gatehouse::store::testing {

inline void expectSameResult(const RateLimitResult& actual, const RateLimitResult& expected,
                             const std::string& where) {
  ASSERT_EQ(actual.status, StoreStatus::Ok) << where;
  EXPECT_EQ(actual.allowed, expected.allowed) << where;
  EXPECT_EQ(actual.retry_after, expected.retry_after) << where;
  EXPECT_EQ(actual.now_ms, expected.now_ms) << where;
  ASSERT_EQ(actual.limits.size(), expected.limits.size()) << where;
  for (std::size_t i = 0; i < actual.limits.size(); ++i) {
    EXPECT_EQ(actual.limits[i].limit, expected.limits[i].limit) << where << " limit " << i;
    EXPECT_EQ(actual.limits[i].remaining, expected.limits[i].remaining) << where << " limit " << i;
    EXPECT_EQ(actual.limits[i].reset_after, expected.limits[i].reset_after) << where << " limit " << i;
  }
}

}  // namespace gatehouse::store::testing
