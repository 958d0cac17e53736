#include "filters/sharded_counters.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::filters {
namespace {

enum class Counter { Hits, Misses, Count };
using Counters = ShardedCounters<Counter, static_cast<std::size_t>(Counter::Count)>;

TEST(ShardedCounters, ReadAddsUpEveryThreadsCounts) {
  Counters counters;
  constexpr int kThreads = 4;
  constexpr int kBumps = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counters, t] {
      for (int i = 0; i < kBumps; ++i) counters.bump(Counter::Hits);
      for (int i = 0; i < t; ++i) counters.bump(Counter::Misses);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counters.read(Counter::Hits), static_cast<std::uint64_t>(kThreads * kBumps));
  EXPECT_EQ(counters.read(Counter::Misses), 0u + 1u + 2u + 3u);
}

// More threads than slots share slots: the counts stay exact.
TEST(ShardedCounters, StayExactWithMoreThreadsThanSlots) {
  Counters counters;
  constexpr int kThreads = static_cast<int>(Counters::kSlots) + 3;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counters] {
      for (int i = 0; i < 1'000; ++i) counters.bump(Counter::Misses);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counters.read(Counter::Misses), static_cast<std::uint64_t>(kThreads) * 1'000u);
  EXPECT_EQ(counters.read(Counter::Hits), 0u);
}

TEST(ShardedCounters, EachThreadWritesItsOwnCacheLine) {
  EXPECT_GE(alignof(Counters), 64u);
  std::size_t first = 0;
  std::size_t second = 0;
  std::thread([&] { first = counterSlotOfThisThread(); }).join();
  std::thread([&] { second = counterSlotOfThisThread(); }).join();
  EXPECT_NE(first % Counters::kSlots, second % Counters::kSlots);
}

}  // namespace
}  // namespace gatehouse::filters
