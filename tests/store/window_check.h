// The state of one rate-limit check (one counter or log per limit), evaluated at explicit times: how the
// tests of both algorithms drive the pure math without a clock.
#pragma once

#include <cstdint>
#include <vector>

#include "store/store.h"

namespace gatehouse::store::testing {

// State is WindowCounter or RequestLog; evaluate is evaluateSlidingWindow or evaluateSlidingLog.
template <typename State, auto evaluate>
class WindowCheck {
 public:
  explicit WindowCheck(std::vector<WindowLimit> limits)
      : limits_(std::move(limits)), states_(limits_.size()) {}

  RateLimitResult at(std::int64_t now_ms, std::uint32_t cost = 1) {
    std::vector<State*> pointers;
    for (State& state : states_) pointers.push_back(&state);
    return evaluate(pointers, limits_, cost, now_ms);
  }

  // Whether a request would be admitted at now_ms, without counting it.
  bool wouldAdmit(std::int64_t now_ms, std::uint32_t cost = 1) const {
    WindowCheck copy = *this;
    return copy.at(now_ms, cost).allowed;
  }

  // Sends `count` requests at now_ms; returns how many were admitted.
  int burst(std::int64_t now_ms, int count, std::uint32_t cost = 1) {
    int admitted = 0;
    for (int i = 0; i < count; ++i) admitted += at(now_ms, cost).allowed ? 1 : 0;
    return admitted;
  }

  const State& state(std::size_t i) const { return states_[i]; }

 private:
  std::vector<WindowLimit> limits_;
  std::vector<State> states_;
};

}  // namespace gatehouse::store::testing
