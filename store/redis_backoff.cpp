#include "store/redis_backoff.h"

#include <algorithm>

namespace gatehouse::store {

ReconnectBackoff::ReconnectBackoff(Millis min, Millis max, std::uint64_t seed)
    : min_(std::max(min, Millis{1})),
      max_(std::max(max, min_)),
      random_(static_cast<std::minstd_rand::result_type>(seed)) {}

ReconnectBackoff::Millis ReconnectBackoff::next() {
  // Doubling stops once the step reaches max, so the shift never overflows however long Redis stays away.
  Millis step = min_;
  for (int i = 0; i < attempt_ && step < max_; ++i) step *= 2;
  step = std::min(step, max_);
  ++attempt_;
  std::uniform_int_distribution<Millis::rep> half(step.count() / 2, step.count());
  return Millis{half(random_)};
}

}  // namespace gatehouse::store
