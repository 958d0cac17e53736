#include "proxy/event_loop.h"

#include <sched.h>

namespace gatehouse::proxy {

void runEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll) {
  if (busy_poll.count() == 0) {
    io.run();
    return;
  }
  using Clock = std::chrono::steady_clock;
  auto last_event = Clock::now();
  // poll() and run_one() stop the io_context when it has no work left, as run() returns: the loop ends then,
  // or when another thread calls stop().
  while (!io.stopped()) {
    if (io.poll() > 0) {
      last_event = Clock::now();
    } else if (Clock::now() - last_event < busy_poll) {
      // Polling, but not at the expense of a thread that has work: Redis, the app or the client may be
      // waiting for this very CPU (measured: without the yield, 2 polling workers on 2 cores cost a fifth of
      // the session + rate-limit throughput at c=50). With nothing else runnable it returns at once.
      sched_yield();
    } else if (io.run_one() > 0) {  // sleeps until the next event
      last_event = Clock::now();
    }
  }
}

}  // namespace gatehouse::proxy
