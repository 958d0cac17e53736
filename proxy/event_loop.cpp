#include "proxy/event_loop.h"

#include <algorithm>

#include <sched.h>

namespace gatehouse::proxy {

using Clock = std::chrono::steady_clock;

void AdaptivePollWindow::observe(Duration waited) {
  if (waited <= max_) {
    window_ = window_ < start_ ? start_ : std::min(max_, window_ * 2);
    return;
  }
  window_ /= 2;
  if (window_ < start_) window_ = Duration::zero();
}

namespace {

// Polling, but not at the expense of a thread that has work: Redis, the app or the client may be waiting for
// this very CPU (measured: without the yield, 2 polling workers on 2 cores cost a fifth of the session +
// rate-limit throughput at c=50). With nothing else runnable it returns at once.
void yieldWhilePolling() {
  sched_yield();
}

// poll() and run_one() stop the io_context when it has no work left, as run() returns: the loops end then, or
// when another thread calls stop().
void runFixed(boost::asio::io_context& io, std::chrono::microseconds window) {
  auto last_event = Clock::now();
  while (!io.stopped()) {
    if (io.poll() > 0) {
      last_event = Clock::now();
    } else if (Clock::now() - last_event < window) {
      yieldWhilePolling();
    } else if (io.run_one() > 0) {  // sleeps until the next event
      last_event = Clock::now();
    }
  }
}

void runAdaptive(boost::asio::io_context& io, std::chrono::microseconds max, const std::size_t& in_flight) {
  AdaptivePollWindow between_requests(max);
  AdaptivePollWindow within_requests(max);
  auto last_event = Clock::now();
  bool last_event_stale = false;
  while (!io.stopped()) {
    if (in_flight > kMaxInFlightToPoll) {
      io.run_one();  // as run() would: no clock, no extra epoll_wait
      last_event_stale = true;
      continue;
    }
    if (last_event_stale) {
      last_event = Clock::now();
      last_event_stale = false;
    }
    const bool between = in_flight == 0;
    // Polling pays only while requests arrive back to back. At a lighter load the peer that answers (Redis,
    // the app) sleeps on a vCPU of its own and pays its wakeup whatever this one does: polling within
    // requests then burnt CPU and even cost latency (measured with 2 ms between requests: +10 µs at p50). So
    // until requests come back to back the worker runs as run() would, timing only how soon each request
    // follows the last.
    if (between_requests.window() == AdaptivePollWindow::Duration::zero()) {
      if (io.run_one() == 0) continue;
      const auto now = Clock::now();
      if (between && in_flight > 0) between_requests.observe(now - last_event);
      last_event = now;
      continue;
    }
    if (io.poll() > 0) {
      last_event = Clock::now();
      continue;
    }
    auto& window = between ? between_requests : within_requests;
    if (Clock::now() - last_event < window.window()) {
      yieldWhilePolling();
      continue;
    }
    if (io.run_one() == 0) continue;  // it slept until this event
    const auto woke = Clock::now();
    // Between requests only a new request says how long such waits last: a late reply to a request already
    // answered (a session touch) or a timer would open the window for nothing.
    if (!between) {
      within_requests.observe(woke - last_event);
    } else if (in_flight > 0) {
      between_requests.observe(woke - last_event);
    }
    last_event = woke;
  }
}

}  // namespace

void runEventLoop(boost::asio::io_context& io, const config::BusyPoll& busy_poll,
                  const std::size_t& in_flight) {
  switch (busy_poll.mode) {
    case config::BusyPoll::Mode::Fixed:
      return runFixed(io, busy_poll.time);
    case config::BusyPoll::Mode::Adaptive:
      return runAdaptive(io, busy_poll.time, in_flight);
    case config::BusyPoll::Mode::Off:
      break;
  }
  io.run();
}

}  // namespace gatehouse::proxy
