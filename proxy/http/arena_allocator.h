// The allocator of Gatehouse's header fields: a pointer to the exchange's FieldArena, or none for the plain
// heap. A default-constructed allocator is the heap, so a header built without a connection (tests, code
// that makes one up locally, a header that must outlive its exchange) just works and owns its memory.
//
// Beast's basic_fields rebinds it to its element storage and to char (method, target, reason), and asks the
// traits below when it copies, moves or swaps a header. Each choice keeps arena memory from leaking into a
// header that does not belong to the exchange:
//   - Copy construction gives the copy the heap (select_on_container_copy_construction): a copy is how a
//     filter or a log keeps a header, and it may outlive the exchange. Copies are rare on the request path.
//   - Copy assignment keeps the destination's allocator (propagate_on_container_copy_assignment = false):
//     assigning an exchange's header into a longer-lived one copies the fields into that one's memory.
//   - Move assignment and swap carry the allocator with the fields (propagate_on_* = true): the fields stay
//     where they were allocated, so nothing is copied and each is freed by the arena it came from. Moving an
//     exchange's header into a longer-lived one therefore moves the arena's memory with it: don't.
//   - Two allocators are equal when they use the same arena (or both the heap): only then can one free what
//     the other allocated. A FieldArena frees heap memory as well, but the heap cannot free arena memory.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>

#include "proxy/http/field_arena.h"

namespace gatehouse::http {

template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::false_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  ArenaAllocator() noexcept = default;  // the heap
  explicit ArenaAllocator(FieldArena* arena) noexcept : arena_(arena) {}
  // Implicit, as the allocator requirements want: containers rebind an allocator by converting it.
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena()) {}  // NOLINT

  T* allocate(std::size_t count) {
    if (arena_ == nullptr) return std::allocator<T>().allocate(count);
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(arena_->allocate(count * sizeof(T), alignof(T)));
  }

  void deallocate(T* pointer, std::size_t count) noexcept {
    if (arena_ != nullptr) return arena_->deallocate(pointer, count * sizeof(T), alignof(T));
    std::allocator<T>().deallocate(pointer, count);
  }

  ArenaAllocator select_on_container_copy_construction() const noexcept { return ArenaAllocator(); }

  FieldArena* arena() const noexcept { return arena_; }

  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_ == other.arena();
  }

 private:
  FieldArena* arena_ = nullptr;
};

}  // namespace gatehouse::http
