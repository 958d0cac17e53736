#include "proxy/http/field_arena.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/http/fields.h"

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;
constexpr auto kBlockBytes = FieldBlockPool::kBlockBytes;

// Where the arena's block is, found through a first allocation (the block is private).
bool inSameBlock(const void* first, const void* other) {
  const auto base = reinterpret_cast<std::uintptr_t>(first);
  const auto address = reinterpret_cast<std::uintptr_t>(other);
  return address >= base && address < base + kBlockBytes;
}

// ---- the arena ----

TEST(FieldArena, DeallocateInsideTheBlockFreesNothing) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  void* first = arena.allocate(100, 8);
  EXPECT_EQ(arena.usedBytes(), 100u);
  EXPECT_EQ(arena.liveAllocations(), 1u);
  arena.deallocate(first, 100, 8);
  // Counted, not reclaimed: the next allocation comes after it (aligned), in the same block.
  EXPECT_EQ(arena.liveAllocations(), 0u);
  EXPECT_EQ(arena.usedBytes(), 100u);
  void* second = arena.allocate(10, 8);
  EXPECT_EQ(static_cast<char*>(second) - static_cast<char*>(first), 104);
  EXPECT_TRUE(arena.holdsBlock());  // within the exchange the block stays, even with nothing alive in it
  EXPECT_EQ(pool.stats().lent, 1u);
  EXPECT_EQ(pool.stats().heap_allocations, 0u);
  arena.deallocate(second, 10, 8);
  arena.end();
}

TEST(FieldArena, AllocationsAreAligned) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  void* one = arena.allocate(3, 1);
  void* aligned = arena.allocate(16, 16);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % 16, 0u);
  EXPECT_TRUE(inSameBlock(one, aligned));
  arena.deallocate(aligned, 16, 16);
  arena.deallocate(one, 3, 1);
  arena.end();
}

TEST(FieldArena, WhatDoesNotFitGoesToTheHeapAndIsFreedThere) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  void* small = arena.allocate(kBlockBytes - 64, 8);
  void* large = arena.allocate(128, 8);  // 64 bytes left: the heap
  EXPECT_FALSE(inSameBlock(small, large));
  EXPECT_EQ(pool.stats().heap_allocations, 1u);
  EXPECT_EQ(arena.liveAllocations(), 1u);  // only the block's allocation is counted
  void* fits = arena.allocate(64, 8);      // the rest still fits exactly
  EXPECT_TRUE(inSameBlock(small, fits));
  // Under ASan, freeing `large` as if it were in the block (or the reverse) would be reported as a leak or
  // a bad free.
  arena.deallocate(large, 128, 8);
  arena.deallocate(fits, 64, 8);
  arena.deallocate(small, kBlockBytes - 64, 8);
  arena.end();
  EXPECT_EQ(pool.stats().spare, 1u);
}

TEST(FieldArena, WithoutAnExchangeEverythingGoesToTheHeap) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  void* before = arena.allocate(32, 8);
  EXPECT_FALSE(arena.holdsBlock());
  arena.begin();
  arena.end();
  void* after = arena.allocate(32, 8);
  EXPECT_FALSE(arena.holdsBlock());
  EXPECT_EQ(pool.stats().heap_allocations, 2u);
  arena.deallocate(before, 32, 8);
  arena.deallocate(after, 32, 8);
}

TEST(FieldArena, TheBlockGoesBackAfterTheExchangeAndIsReused) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  void* first = arena.allocate(200, 8);
  arena.deallocate(first, 200, 8);
  arena.end();
  EXPECT_FALSE(arena.holdsBlock());
  EXPECT_EQ(pool.stats().lent, 0u);
  EXPECT_EQ(pool.stats().spare, 1u);
  EXPECT_EQ(pool.stats().most_used_bytes, 200u);

  // The next exchange, on this arena or another connection's, gets the same block, from its start.
  FieldArena other(pool);
  other.begin();
  void* again = other.allocate(8, 8);
  EXPECT_EQ(again, first);
  EXPECT_EQ(pool.stats().created, 1u);
  other.deallocate(again, 8, 8);
  other.end();
}

TEST(FieldArena, ALateHeaderKeepsTheBlockUntilItsLastFieldIsFreed) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  void* late = arena.allocate(64, 8);
  arena.end();
  EXPECT_TRUE(arena.holdsBlock());  // not back while something lives in it: no use-after-free
  EXPECT_EQ(pool.stats().lent, 1u);
  arena.deallocate(late, 64, 8);
  EXPECT_FALSE(arena.holdsBlock());
  EXPECT_EQ(pool.stats().lent, 0u);
  EXPECT_EQ(pool.stats().spare, 1u);
}

TEST(FieldArena, DestroyedWithABlockGivesItBack) {
  FieldBlockPool pool;
  {
    FieldArena arena(pool);
    arena.begin();
  }
  EXPECT_EQ(pool.stats().lent, 0u);
  EXPECT_EQ(pool.stats().spare, 1u);
}

TEST(FieldBlockPool, KeepsAtMostMaxSpareBlocks) {
  FieldBlockPool pool;
  std::vector<FieldBlockPool::Block> blocks;
  for (std::size_t i = 0; i < FieldBlockPool::kMaxSpare + 3; ++i) blocks.push_back(pool.take());
  EXPECT_EQ(pool.stats().lent, FieldBlockPool::kMaxSpare + 3);
  for (auto& block : blocks) pool.giveBack(std::move(block), 0);
  EXPECT_EQ(pool.stats().lent, 0u);
  EXPECT_EQ(pool.stats().spare, FieldBlockPool::kMaxSpare);
}

// ---- Beast's fields on the arena ----

TEST(ArenaAllocator, BeastFieldsAllocateFromTheArena) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  {
    RequestHeader request{FieldAllocator(&arena)};
    request.method(bhttp::verb::get);
    request.target("/items/42?q=1");
    for (int i = 0; i < 10; ++i) request.insert("X-Field-" + std::to_string(i), "value");
    EXPECT_EQ(arena.liveAllocations(), 11u);  // ten fields and the target
    request.erase("X-Field-3");
    EXPECT_EQ(arena.liveAllocations(), 10u);
    EXPECT_EQ(request["X-Field-9"], "value");
  }
  EXPECT_EQ(arena.liveAllocations(), 0u);
  EXPECT_EQ(pool.stats().heap_allocations, 0u);
  arena.end();
  EXPECT_EQ(pool.stats().spare, 1u);
}

TEST(ArenaAllocator, DefaultIsTheHeap) {
  Fields fields;
  fields.insert("Host", "example.com");
  EXPECT_EQ(fields.get_allocator().arena(), nullptr);
  EXPECT_EQ(fields["Host"], "example.com");
}

TEST(ArenaAllocator, ACopyTakesTheHeapAndOutlivesTheExchange) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  std::optional<RequestHeader> request(std::in_place, FieldAllocator(&arena));
  request->insert("X-User", "alice");
  const RequestHeader kept = *request;  // copy construction: select_on_container_copy_construction
  RequestHeader assigned;
  assigned = *request;  // copy assignment keeps the destination's (heap) allocator
  EXPECT_EQ(kept.get_allocator().arena(), nullptr);
  EXPECT_EQ(assigned.get_allocator().arena(), nullptr);
  request.reset();
  arena.end();
  EXPECT_EQ(pool.stats().spare, 1u);  // back, although copies of the header are alive
  EXPECT_EQ(kept["X-User"], "alice");
  EXPECT_EQ(assigned["X-User"], "alice");
}

TEST(ArenaAllocator, MoveAssignmentTakesTheArenaWithTheFields) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  RequestHeader request{FieldAllocator(&arena)};
  request.insert("X-User", "alice");
  RequestHeader moved;
  moved = std::move(request);  // nothing copied: the fields stay in the block, freed by their arena
  EXPECT_EQ(moved.get_allocator().arena(), &arena);
  EXPECT_EQ(arena.liveAllocations(), 1u);
  moved = RequestHeader{};  // and back to the heap: the arena's field is freed
  EXPECT_EQ(arena.liveAllocations(), 0u);
  EXPECT_EQ(moved.get_allocator().arena(), nullptr);
  arena.end();
}

TEST(ArenaAllocator, AllocatorsAreEqualWhenTheyShareAnArena) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  FieldArena other(pool);
  EXPECT_EQ(FieldAllocator(&arena), ArenaAllocator<int>(&arena));
  EXPECT_NE(FieldAllocator(&arena), FieldAllocator(&other));
  EXPECT_NE(FieldAllocator(&arena), FieldAllocator());
  EXPECT_EQ(FieldAllocator(), FieldAllocator());
}

}  // namespace
}  // namespace gatehouse::http
