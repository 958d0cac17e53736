// Drives an io_context from a test until a condition holds, bounded in time: a lost callback fails a test
// instead of hanging it.
#pragma once

#include <chrono>
#include <thread>

#include <boost/asio/io_context.hpp>

namespace gatehouse::testing {

// Runs handlers until done() is true or `timeout` passes; returns done().
template <class Done>
bool runUntil(boost::asio::io_context& io, Done&& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now,
                                                                     std::chrono::milliseconds(50))) == 0) {
      // No work queued at all: wait a little instead of spinning until the deadline.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

// Runs handlers for `duration` (e.g. to let late replies arrive), whatever happens.
inline void runFor(boost::asio::io_context& io, std::chrono::milliseconds duration) {
  runUntil(
      io, [] { return false; }, duration);
}

}  // namespace gatehouse::testing
