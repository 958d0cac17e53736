// The memory of one exchange's header fields (request and response), as nginx's per-request pool: allocation
// bumps a pointer through a block lent by the worker's FieldBlockPool, and freeing a field inside the block
// does nothing — the whole block goes back at the end of the exchange. Beast's fields otherwise cost a
// malloc and a free per field, the largest share of a pass-through request's allocations.
//
// Lifetime rules (the connection that owns the arena keeps them):
//   - begin() when a request head is about to be parsed; end() when the exchange is over (response sent,
//     local reply sent, connection closed). Between exchanges the arena holds no block.
//   - Every header allocated from the block must be destroyed or cleared before end(): the block then goes
//     back to the pool at once. If one is still alive, the block is kept until its last field is freed (and
//     the owner's destruction frees it at the latest), so a late header is a leak of one block for a
//     while, never a use-after-free. Tests check that the block is back right after an exchange.
//   - The arena must outlive every header that uses it; it is not movable, so pointers to it stay valid.
//
// Correctness never depends on the block size: an allocation that does not fit, or that comes while no
// block is lent (outside an exchange), goes to ::operator new, and its deallocate to ::operator delete.
// One arena per connection, used on the worker's thread only.
#pragma once

#include <cstddef>
#include <cstdint>

#include <sanitizer/asan_interface.h>

#include "proxy/http/field_block_pool.h"

namespace gatehouse::http {

class FieldArena {
 public:
  explicit FieldArena(FieldBlockPool& pool) : pool_(pool) {}
  FieldArena(const FieldArena&) = delete;
  FieldArena& operator=(const FieldArena&) = delete;
  ~FieldArena() { giveBack(); }

  // An exchange begins: later allocations come from a block. A block still held from the previous exchange
  // (a header that outlived it) is kept and bumped on from where it was.
  void begin() {
    in_exchange_ = true;
    if (!block_) {
      block_ = pool_.take();
      used_ = 0;
    }
  }

  // The exchange is over: the block goes back to the pool once nothing allocated from it is alive — at once
  // when the owner kept the rules. Later allocations go to the heap until the next begin().
  void end() {
    in_exchange_ = false;
    if (live_ == 0) giveBack();
  }

  void* allocate(std::size_t bytes, std::size_t alignment) {
    if (in_exchange_) {
      // Align the bump pointer (alignment is a power of two, as every alignof is).
      const auto start = (used_ + alignment - 1) & ~(alignment - 1);
      if (start + bytes <= FieldBlockPool::kBlockBytes && bytes > 0) {
        used_ = start + bytes;
        ++live_;
        return block_->bytes + start;
      }
    }
    return allocateOnHeap(bytes, alignment);
  }

  void deallocate(void* pointer, std::size_t bytes, std::size_t alignment) noexcept {
    if (inBlock(pointer)) {
      // Nothing to free: the space is reclaimed with the whole block. Only count, to know when the block is
      // unused. Under ASan the piece is poisoned (it is never handed out again before the block goes back),
      // so a view into an erased field is caught as it would be on the heap.
      ASAN_POISON_MEMORY_REGION(pointer, bytes);
      if (--live_ == 0 && !in_exchange_) giveBack();
      return;
    }
    deallocateOnHeap(pointer, bytes, alignment);
  }

  // For tests and checks.
  bool holdsBlock() const { return block_ != nullptr; }
  std::size_t usedBytes() const { return used_; }
  std::size_t liveAllocations() const { return live_; }
  FieldBlockPool& pool() const { return pool_; }

 private:
  bool inBlock(const void* pointer) const {
    // Compared as integers: relational operators on pointers into different objects are unspecified.
    const auto address = reinterpret_cast<std::uintptr_t>(pointer);
    const auto begin = reinterpret_cast<std::uintptr_t>(block_.get());
    return block_ && address >= begin && address < begin + FieldBlockPool::kBlockBytes;
  }

  // The fallback, out of line: it is the rare path, and the compiler then does not mistake a pointer into the
  // block for one it could see being freed on the heap.
  void* allocateOnHeap(std::size_t bytes, std::size_t alignment);
  static void deallocateOnHeap(void* pointer, std::size_t bytes, std::size_t alignment) noexcept;

  void giveBack() {
    if (block_) pool_.giveBack(std::move(block_), used_);
    used_ = 0;
  }

  FieldBlockPool& pool_;
  FieldBlockPool::Block block_;
  std::size_t used_ = 0;  // bytes of the block handed out (freed ones included: they are not reused)
  std::size_t live_ = 0;  // allocations from the block not yet deallocated
  bool in_exchange_ = false;
};

}  // namespace gatehouse::http
