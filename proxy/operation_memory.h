// Memory for the asynchronous reads and writes of a worker's connections, handed to Asio through the
// handler's associated allocator (asio::bind_allocator).
//
// Why: Asio allocates one operation object per read or write and, by default, keeps only two freed blocks per
// thread for reuse. When one Redis reply resumes a batch of requests, each of them starts its upstream write
// inside that one handler, before any write has completed: every write past the second went to malloc
// (bench/count.sh: one heap allocation per rate-limited request). Here a freed block goes back on the pool's
// free list and the next batch takes it again, however large the batch. Reads and writes have pools of their
// own: a write's operation is three times a read's, and an idle keep-alive connection holds a read.
//
// One per worker and kind, used only on its thread: no locks. Declared before the worker's io_context, so
// that operations destroyed with the io_context still have somewhere to return their memory.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace gatehouse::proxy {

class OperationMemory {
 public:
  static constexpr std::size_t kMaxSpare = 1024;  // past this, returned blocks are freed

  // Requests up to `block_bytes` are served from the pool, larger ones from the heap directly.
  explicit OperationMemory(std::size_t block_bytes) : block_bytes_(block_bytes) {
    spare_.reserve(kMaxSpare);  // so that giving a block back never allocates
  }
  OperationMemory(const OperationMemory&) = delete;
  OperationMemory& operator=(const OperationMemory&) = delete;
  ~OperationMemory() {
    for (void* block : spare_) ::operator delete(block);
  }

  void* allocate(std::size_t bytes) {
    if (bytes > block_bytes_) return ::operator new(bytes);
    if (spare_.empty()) {
      ++blocks_created_;
      return ::operator new(block_bytes_);
    }
    void* block = spare_.back();
    spare_.pop_back();
    return block;
  }

  void deallocate(void* block, std::size_t bytes) noexcept {
    if (bytes <= block_bytes_ && spare_.size() < kMaxSpare) {
      spare_.push_back(block);  // within the reserved capacity: cannot throw
      return;
    }
    ::operator delete(block);
  }

  std::size_t blockBytes() const { return block_bytes_; }
  // Blocks taken from the heap so far (the others were reused).
  std::size_t blocksCreated() const { return blocks_created_; }
  std::size_t spareBlocks() const { return spare_.size(); }

 private:
  std::size_t block_bytes_;
  std::vector<void*> spare_;
  std::size_t blocks_created_ = 0;
};

// The allocator Asio sees: `asio::bind_allocator(OperationAllocator<void>(memory), handler)`.
template <typename T>
class OperationAllocator {
 public:
  using value_type = T;

  explicit OperationAllocator(OperationMemory& memory) noexcept : memory_(&memory) {}
  template <typename U>
  OperationAllocator(const OperationAllocator<U>& other) noexcept : memory_(other.memory()) {}

  T* allocate(std::size_t count) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "operator new would misalign it");
    return static_cast<T*>(memory_->allocate(count * sizeof(T)));
  }
  void deallocate(T* pointer, std::size_t count) noexcept { memory_->deallocate(pointer, count * sizeof(T)); }

  OperationMemory* memory() const noexcept { return memory_; }

  template <typename U>
  bool operator==(const OperationAllocator<U>& other) const noexcept {
    return memory_ == other.memory();
  }

 private:
  OperationMemory* memory_;
};

}  // namespace gatehouse::proxy
