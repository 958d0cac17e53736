// What both stores agree on about a rate-limit check before any counting: whether it is well formed, and the
// name of the key that holds each limit's state. The names are Redis's ("gh:rl:{<key>}:sw:<window_ms>"): the
// base key is the hash tag, so every key of a check lives in one Redis Cluster slot; the algorithm is part of
// the name, so a policy switched from one algorithm to the other starts afresh instead of meeting a key of
// the wrong type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace gatehouse::store {

// The keys of one check, written back to back into one buffer that keeps its capacity: a store builds them
// for every rate-limited request without an allocation per key.
class CheckKeys {
 public:
  void clear() {
    bytes_.clear();
    ends_.clear();
  }
  // Append a key's bytes here, then call endKey().
  std::string& buffer() { return bytes_; }
  void endKey() { ends_.push_back(static_cast<std::uint32_t>(bytes_.size())); }

  std::size_t size() const { return ends_.size(); }
  std::string_view operator[](std::size_t i) const {
    const std::uint32_t start = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(start, ends_[i] - start);
  }

 private:
  std::string bytes_;
  PerLimit<std::uint32_t> ends_;
};

// Why the check cannot be evaluated, or nullopt when it can: a check needs at least one limit, windows > 0, a
// cost > 0 and a key without '{' or '}'.
std::optional<std::string> invalidCheckReason(const RateLimitCheck& check);

std::string rateLimitKey(std::string_view base_key, RateLimitAlgorithm algorithm, Millis window);

// The same name appended to `out`: a store that keeps one buffer for the keys of a check builds them without
// an allocation per check.
void appendRateLimitKey(std::string& out, std::string_view base_key, RateLimitAlgorithm algorithm,
                        Millis window);

}  // namespace gatehouse::store
