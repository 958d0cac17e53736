// Fixed-size relay buffers, lent to connections only while they stream a body. An idle keep-alive connection
// holds none, which keeps its memory small; a worker reuses the same few buffers instead of allocating per
// request. One pool per worker: no locks.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace gatehouse::proxy {

class BufferPool {
 public:
  static constexpr std::size_t kBufferBytes = 16 * 1024;
  static constexpr std::size_t kMaxSpare = 256;  // past this, returned buffers are freed

  class Lease {
   public:
    Lease() = default;
    Lease(BufferPool* pool, std::unique_ptr<char[]> data) : pool_(pool), data_(std::move(data)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&& other) noexcept {
      release();
      pool_ = other.pool_;
      data_ = std::move(other.data_);
      return *this;
    }
    ~Lease() { release(); }

    char* data() const { return data_.get(); }
    static constexpr std::size_t size() { return kBufferBytes; }
    explicit operator bool() const { return data_ != nullptr; }
    void release() {
      if (data_ && pool_) pool_->giveBack(std::move(data_));
      data_.reset();
    }

   private:
    BufferPool* pool_ = nullptr;
    std::unique_ptr<char[]> data_;
  };

  Lease take() {
    if (spare_.empty()) return Lease(this, std::make_unique_for_overwrite<char[]>(kBufferBytes));
    auto data = std::move(spare_.back());
    spare_.pop_back();
    return Lease(this, std::move(data));
  }

 private:
  void giveBack(std::unique_ptr<char[]> data) {
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(data));
  }

  std::vector<std::unique_ptr<char[]>> spare_;
};

}  // namespace gatehouse::proxy
