// Counters that every worker bumps on every request and that are read rarely (the admin endpoint, tests).
// One shared atomic per counter would bounce its cache line between the cores on every request; here each
// thread writes its own slot (a cache line of its own) and a read adds the slots up — Envoy's thread-local
// stats, in miniature. Threads are given slots round-robin on first use; past kSlots threads, slots are
// shared, which is still correct (the increments stay atomic), only no longer contention-free.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gatehouse::filters {

// Which slot this thread writes: assigned once per thread, shared by every ShardedCounters.
inline std::size_t counterSlotOfThisThread() {
  static std::atomic<std::size_t> next_slot{0};
  thread_local const std::size_t slot = next_slot.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

template <class Counter, std::size_t kCounters>
class ShardedCounters {
 public:
  static constexpr std::size_t kSlots = 16;

  void bump(Counter counter) {
    slots_[counterSlotOfThisThread() % kSlots].values[index(counter)].fetch_add(1, std::memory_order_relaxed);
  }

  std::uint64_t read(Counter counter) const {
    std::uint64_t sum = 0;
    for (const Slot& slot : slots_) sum += slot.values[index(counter)].load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t index(Counter counter) { return static_cast<std::size_t>(counter); }

  struct alignas(64) Slot {
    std::array<std::atomic<std::uint64_t>, kCounters> values{};
  };
  std::array<Slot, kSlots> slots_{};
};

}  // namespace gatehouse::filters
