// Tells a store callback whether the request that made the store call is still the one its filter serves. A
// filter is reused for the requests of a connection (Filter::reset), so "the filter still exists" is not
// enough: the answer to request N must not act on request N+1. Each store call takes a Ticket; the filter
// advances the generation when a request ends (reset), is abandoned (onCancel) or drops a call it no longer
// wants. A ticket is current only while its filter exists and no advance happened since it was taken.
//
// The counter is allocated once per filter, not per request: the ticket watches it through a weak_ptr, so a
// filter destroyed before the answer arrives is noticed too (its callback must then not touch the filter).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

namespace gatehouse::filters {

class RequestGeneration {
 public:
  class Ticket {
   public:
    // False once the filter that issued it was destroyed or advanced its generation.
    bool isCurrent() const {
      const std::shared_ptr<const std::uint64_t> generation = generation_.lock();
      return generation && *generation == issued_at_;
    }

   private:
    friend class RequestGeneration;
    Ticket(std::weak_ptr<const std::uint64_t> generation, std::uint64_t issued_at)
        : generation_(std::move(generation)), issued_at_(issued_at) {}

    std::weak_ptr<const std::uint64_t> generation_;
    std::uint64_t issued_at_;
  };

  // For a store call made now.
  Ticket ticket() const { return Ticket(current_, *current_); }

  // Every ticket taken so far stops being current: their answers will be ignored.
  void advance() { ++*current_; }

 private:
  std::shared_ptr<std::uint64_t> current_ = std::make_shared<std::uint64_t>(0);
};

}  // namespace gatehouse::filters
