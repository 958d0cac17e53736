// Reconnect delays: exponential from `min` up to `max`, with "equal jitter" (a uniform draw from the upper
// half of the current step) so that the workers of every Gatehouse instance do not all knock on a restarted
// Redis at the same instant, while a delay never exceeds `max`: recovery after Redis returns stays bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace gatehouse::store {

class ReconnectBackoff {
 public:
  using Millis = std::chrono::milliseconds;

  ReconnectBackoff(Millis min, Millis max, std::uint64_t seed);

  // The delay before the next attempt; each call doubles the step until it reaches max.
  Millis next();
  // After a successful connection: the next failure starts again from min.
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  Millis min_;
  Millis max_;
  int attempt_ = 0;
  std::minstd_rand random_;
};

}  // namespace gatehouse::store
