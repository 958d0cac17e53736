// A store's rate-limit answers against the C++ math's, over random histories: one answer against another,
// field by field, and the histories both are driven through.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

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

// 40 random histories of 50 steps, 0 to 150 ms apart from around today: every other one with two limits (7/1
// s, 20/5 s) and costs from min_cost to 3, the others one limit (5/1 s) with costs up to 6 — above the limit
// at times, which is never admitted. At each step `evaluate(states, limits, cost, now_ms)` is the math and
// `answer(check, now_ms)` the store; their results must be identical, and the histories must reject often.
template <typename State, typename Evaluate, typename Answer>
void compareRandomHistories(std::uint64_t seed, RateLimitAlgorithm algorithm, int min_cost, Evaluate evaluate,
                            Answer answer) {
  std::mt19937_64 random(seed);
  int rejections = 0;
  for (int history = 0; history < 40; ++history) {
    WindowLimits limits{{7, std::chrono::seconds(1)}, {20, std::chrono::seconds(5)}};
    int max_cost = 3;
    if (history % 2 == 1) {
      limits = {{5, std::chrono::seconds(1)}};
      max_cost = 6;
    }
    const RateLimitCheck base{"h" + std::to_string(history), algorithm, limits, 1};
    std::vector<State> states(base.limits.size());
    std::vector<State*> pointers;
    for (State& state : states) pointers.push_back(&state);
    std::int64_t now = 1'764'000'000'000 + std::uniform_int_distribution<std::int64_t>(0, 100'000)(random);
    for (int step = 0; step < 50; ++step) {
      now += std::uniform_int_distribution<std::int64_t>(0, 150)(random);
      RateLimitCheck check = base;
      check.cost = static_cast<std::uint32_t>(std::uniform_int_distribution<int>(min_cost, max_cost)(random));
      const RateLimitResult expected = evaluate(pointers, check.limits, check.cost, now);
      const RateLimitResult actual = answer(check, now);
      rejections += expected.allowed ? 0 : 1;
      expectSameResult(actual, expected,
                       "history " + std::to_string(history) + " step " + std::to_string(step));
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(rejections, 100) << "the histories must exercise rejections";
}

}  // namespace gatehouse::store::testing
