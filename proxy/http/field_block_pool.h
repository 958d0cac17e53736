// Fixed-size blocks for the header fields of one exchange (see FieldArena), lent by a worker to a connection
// only while a request is in progress: an idle keep-alive connection holds none, and a steady keep-alive load
// reuses the same few blocks instead of allocating per field. One pool per worker, used on its thread only:
// no locks (the pattern of proxy/buffer_pool.h).
//
// Under AddressSanitizer a block is poisoned while it sits in the pool, so a header that outlived its
// exchange and still points into a returned block is reported at the first touch, not when the next
// request overwrites it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <sanitizer/asan_interface.h>

namespace gatehouse::http {

class FieldBlockPool {
 public:
  // One page, as nginx's request_pool_size. A field costs its text plus 60 bytes of Beast's bookkeeping
  // (list and tree links), and a replaced field's old copy is not reclaimed before the exchange ends. A
  // browser request of 14 fields (~750 bytes with a session cookie), the X-Forwarded-*, X-Request-ID and
  // identity fields the proxy adds, and a response of 13 fields (rate-limit fields included) take 3 KiB
  // (tests/http/field_arena_test.cpp, ATypicalExchangeFitsInOneBlock). What does not fit goes to the heap
  // (FieldArena's fallback): a larger request costs a few allocations, never correctness, and a worker
  // holds at most one page per exchange in flight.
  static constexpr std::size_t kBlockBytes = 4096;
  static constexpr std::size_t kMaxSpare = 256;  // past this, returned blocks are freed

  // Aligned for anything a field allocation may ask (Beast's elements need pointer alignment).
  struct alignas(std::max_align_t) Storage {
    std::byte bytes[kBlockBytes];
  };
  using Block = std::unique_ptr<Storage>;

  // What the pool has done, for tests and tuning the block size.
  struct Stats {
    std::size_t created = 0;             // blocks ever allocated
    std::size_t lent = 0;                // blocks out with a connection now
    std::size_t spare = 0;               // blocks waiting in the pool
    std::uint64_t heap_allocations = 0;  // field allocations that went to the heap (no room, or no block)
    std::size_t most_used_bytes = 0;     // the most of a block one exchange used
  };

  FieldBlockPool() = default;
  FieldBlockPool(const FieldBlockPool&) = delete;
  FieldBlockPool& operator=(const FieldBlockPool&) = delete;
  ~FieldBlockPool() {
    for (auto& block : spare_) unpoison(block.get());  // freed memory must not stay poisoned by us
  }

  Block take() {
    ++lent_;
    if (spare_.empty()) {
      ++created_;
      return std::make_unique_for_overwrite<Storage>();
    }
    auto block = std::move(spare_.back());
    spare_.pop_back();
    unpoison(block.get());
    return block;
  }

  // `used_bytes`: how much of the block the exchange used.
  void giveBack(Block block, std::size_t used_bytes) {
    --lent_;
    most_used_bytes_ = std::max(most_used_bytes_, used_bytes);
    if (spare_.size() >= kMaxSpare) {
      unpoison(block.get());  // pieces the arena poisoned: the allocator gets the memory back clean
      return;                 // freed here
    }
    poison(block.get());
    spare_.push_back(std::move(block));
  }

  void countHeapAllocation() { ++heap_allocations_; }

  Stats stats() const { return Stats{created_, lent_, spare_.size(), heap_allocations_, most_used_bytes_}; }

 private:
  // No-ops without ASan.
  static void poison(Storage* block) { ASAN_POISON_MEMORY_REGION(block, sizeof(Storage)); }
  static void unpoison(Storage* block) { ASAN_UNPOISON_MEMORY_REGION(block, sizeof(Storage)); }

  std::vector<Block> spare_;
  std::size_t created_ = 0;
  std::size_t lent_ = 0;
  std::uint64_t heap_allocations_ = 0;
  std::size_t most_used_bytes_ = 0;
};

}  // namespace gatehouse::http
