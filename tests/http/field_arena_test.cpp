#include "proxy/http/field_arena.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sanitizer/asan_interface.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "proxy/http/fields.h"
#include "proxy/http/forwarded.h"
#include "proxy/http/hop_by_hop.h"
#include "proxy/http/request_id.h"

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

TEST(FieldArena, UnderAsanFreedPiecesAndReturnedBlocksArePoisoned) {
#if defined(__SANITIZE_ADDRESS__)
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  auto* erased = static_cast<char*>(arena.allocate(64, 8));
  auto* kept = static_cast<char*>(arena.allocate(64, 8));
  arena.deallocate(erased, 64, 8);
  EXPECT_TRUE(__asan_address_is_poisoned(erased));  // a view into an erased field is reported
  EXPECT_FALSE(__asan_address_is_poisoned(kept));
  arena.deallocate(kept, 64, 8);
  arena.end();
  EXPECT_TRUE(__asan_address_is_poisoned(kept));  // the whole block, while it waits in the pool

  arena.begin();  // lent again: clean
  auto* again = static_cast<char*>(arena.allocate(64, 8));
  EXPECT_EQ(again, erased);
  EXPECT_FALSE(__asan_address_is_poisoned(again));
  arena.deallocate(again, 64, 8);
  arena.end();
#else
  GTEST_SKIP() << "AddressSanitizer is off in this build";
#endif
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

// The block size: a typical browser exchange through the proxy — its request parsed, the fields the proxy
// strips and adds, a typical response — fits in one block with room to spare, so a steady load allocates
// nothing for fields.
TEST(ArenaAllocator, ATypicalExchangeFitsInOneBlock) {
  FieldBlockPool pool;
  FieldArena arena(pool);
  arena.begin();
  {
    const std::string head =
        "GET /api/v1/orders?page=2&sort=-created HTTP/1.1\r\n"
        "Host: shop.example.com\r\n"
        "Connection: keep-alive\r\n"
        "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
        "Accept: application/json, text/plain, */*\r\n"
        "sec-ch-ua-mobile: ?0\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36\r\n"
        "sec-ch-ua-platform: \"Linux\"\r\n"
        "Sec-Fetch-Site: same-origin\r\n"
        "Sec-Fetch-Mode: cors\r\n"
        "Sec-Fetch-Dest: empty\r\n"
        "Referer: https://shop.example.com/orders\r\n"
        "Accept-Encoding: gzip, deflate, br, zstd\r\n"
        "Accept-Language: en-US,en;q=0.9\r\n"
        "Cookie: "
        "connect.sid=s%3AkX2vYq8mN4pL7rT1wZ9bC3dF6gH0jK5s.Qm8XyZ1aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX; "
        "theme=dark\r\n"
        "\r\n";
    bhttp::request_parser<bhttp::empty_body, FieldAllocator> parser(
        std::piecewise_construct, std::make_tuple(), std::make_tuple(FieldAllocator(&arena)));
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(head), ec);
    ASSERT_FALSE(ec) << ec.message();
    auto& request = parser.get();
    removeHopByHop(request.base(), false);
    setForwardedHeaders(request.base(), Peer(boost::asio::ip::make_address("10.0.0.7"), {}), "http",
                        request[bhttp::field::host]);
    request.set(kRequestIdHeader, generateRequestId());
    request.set("X-User", "alice@example.com");
    request.set("X-User-Roles", "admin,billing");
    request.keep_alive(true);

    ResponseHeader response{FieldAllocator(&arena)};
    response.result(bhttp::status::ok);
    response.reason("OK");
    response.set(bhttp::field::server, "nginx/1.22.1");
    response.set(bhttp::field::date, "Thu, 26 Nov 2026 02:40:00 GMT");
    response.set(bhttp::field::content_type, "application/json; charset=utf-8");
    response.set(bhttp::field::content_length, "1532");
    response.set(bhttp::field::cache_control, "no-store");
    response.set(bhttp::field::etag, "W/\"5fc-8sXl0Dc5xK0m4n2b3pQ\"");
    response.set(bhttp::field::vary, "Accept-Encoding, Origin");
    response.set(kRequestIdHeader, request[kRequestIdHeader]);
    response.set("X-RateLimit-Limit", "100");
    response.set("X-RateLimit-Remaining", "97");
    response.set("X-RateLimit-Reset", "41");
  }
  EXPECT_EQ(pool.stats().heap_allocations, 0u);
  // And with room to spare for a longer cookie or a few more fields (it takes 3072 bytes with Beast 1.81).
  EXPECT_LE(arena.usedBytes(), kBlockBytes - 512) << "used " << arena.usedBytes() << " bytes";
  RecordProperty("used_bytes", static_cast<int>(arena.usedBytes()));
  arena.end();
}

}  // namespace
}  // namespace gatehouse::http
