// Runs a worker's io_context until it stops or runs out of work, sleeping or busy polling as `busy_poll`
// says.
//
// Why poll at all: on a virtual machine whose idle vCPUs halt, every sleep and wakeup of a thread is a VM
// exit and an interrupt from the host, tens of microseconds each: more than a loopback round trip to Redis or
// to the upstream. A worker that keeps polling (epoll_wait with a zero timeout, yielding its CPU to any other
// runnable thread meanwhile) through such a wait saves them: at c=1 it doubles the requests a second
// (bench/README.md). Polling for a wait that then lasts long only burns CPU, so:
//
// - Fixed (`busy_poll: 100us`): after every event the worker polls for that long, then sleeps. HAProxy's
//   `busy-polling` is the same trade, unbounded. At light load it costs about twice the CPU per request.
// - Adaptive (`busy_poll: auto`, the default): it polls only while requests come back to back, that is while
//   each request has followed the last within the window, which adapts the way Linux's cpuidle-haltpoll
//   governs a vCPU's halt polling (AdaptivePollWindow). Then it polls through the waits between requests and,
//   with a window of their own, the waits within one (for Redis or the app). At a lighter load it runs as
//   run() would: there the peer that answers sleeps on a vCPU of its own and pays its wakeup anyway, and
//   polling for its reply cost CPU and even latency (measured). With more than a few requests in flight
//   there is always an event soon and one wakeup brings several, so it does not poll at all.
#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/io_context.hpp>

#include "proxy/config/config.h"

namespace gatehouse::proxy {

// The poll window of `busy_poll: auto`. A wait that ended within `max` would have been caught by polling, so
// the window grows (to max/8 from nothing, then doubling, up to max); a longer wait means polling would have
// burnt its whole window for nothing, so the window halves, and below max/8 it closes.
class AdaptivePollWindow {
 public:
  using Duration = std::chrono::steady_clock::duration;
  explicit AdaptivePollWindow(Duration max) : max_(max), start_(max / 8) {}

  Duration window() const { return window_; }
  // `waited`: from the last event to the one that ended a sleep.
  void observe(Duration waited);

 private:
  Duration max_;
  Duration start_;
  Duration window_{0};
};

// Above this many requests in flight on a worker, `auto` does not poll.
inline constexpr std::size_t kMaxInFlightToPoll = 4;

// `in_flight`: the worker's requests in progress, kept by its connections on the same thread.
void runEventLoop(boost::asio::io_context& io, const config::BusyPoll& busy_poll,
                  const std::size_t& in_flight);

}  // namespace gatehouse::proxy
