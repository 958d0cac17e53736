// The event loop's ways of waiting (proxy/event_loop.h). Whether the loop's thread slept shows in its count
// of voluntary context switches (getrusage RUSAGE_THREAD): a thread that blocks in epoll_wait makes one each
// time, a polling thread makes none (its sched_yield counts as involuntary). These run alone (RUN_SERIAL):
// beside a CPU-bound test, a yielding poller loses its CPU and the waits it times grow.
#include "proxy/event_loop.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <functional>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace gatehouse::proxy {
namespace {

using namespace std::chrono_literals;
using Duration = AdaptivePollWindow::Duration;

TEST(AdaptivePollWindow, OpensOnShortWaitsAndDoublesUpToTheMaximum) {
  AdaptivePollWindow window(80us);
  EXPECT_EQ(window.window(), Duration::zero());
  window.observe(30us);
  EXPECT_EQ(window.window(), Duration(10us));
  window.observe(80us);  // exactly the maximum still counts as caught
  EXPECT_EQ(window.window(), Duration(20us));
  window.observe(5us);
  EXPECT_EQ(window.window(), Duration(40us));
  window.observe(5us);
  window.observe(5us);
  EXPECT_EQ(window.window(), Duration(80us));
}

TEST(AdaptivePollWindow, HalvesOnLongWaitsAndClosesBelowItsStart) {
  AdaptivePollWindow window(80us);
  for (int i = 0; i < 4; ++i) window.observe(1us);
  ASSERT_EQ(window.window(), Duration(80us));
  window.observe(81us);
  EXPECT_EQ(window.window(), Duration(40us));
  window.observe(5ms);
  EXPECT_EQ(window.window(), Duration(20us));
  window.observe(5ms);
  EXPECT_EQ(window.window(), Duration(10us));
  window.observe(5ms);
  EXPECT_EQ(window.window(), Duration::zero());
  window.observe(5ms);
  EXPECT_EQ(window.window(), Duration::zero());
}

long voluntarySwitches() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

long userAndSystemMicroseconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000L + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

struct TickResult {
  long sleeps = 0;       // voluntary context switches of the loop's thread during the ticks
  long idle_cpu_us = 0;  // its CPU time during an idle pause after them
};

// How a run of ticks stands in for requests: each tick that fires while none is in flight begins one, the
// next ends it (in_flight 0 → 1 → 0), unless `toggle` is false and in_flight stays as given.
struct Ticks {
  int count = 400;
  Duration between = 20us;  // from a request's end to the next one's start
  Duration within = 20us;   // from a request's start to its end (its reply)
  bool toggle = true;
};

// Runs the loop (on this thread) through the ticks, each armed when the last one fired, then 50ms with
// nothing to do but one far timer.
TickResult runTicks(const config::BusyPoll& busy_poll, std::size_t in_flight, const Ticks& ticks) {
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  boost::asio::steady_timer timer(io);
  TickResult result;
  long switches_before = 0;
  long cpu_before = 0;
  int left = ticks.count;
  std::function<void()> tick = [&] {
    if (ticks.toggle) in_flight = in_flight == 0 ? 1 : 0;
    if (left-- == 0) {
      in_flight = 0;
      result.sleeps = voluntarySwitches() - switches_before;
      cpu_before = userAndSystemMicroseconds();
      timer.expires_after(50ms);
      timer.async_wait([&](auto) { result.idle_cpu_us = userAndSystemMicroseconds() - cpu_before; });
      return;
    }
    timer.expires_after(in_flight == 0 ? ticks.between : ticks.within);
    timer.async_wait([&](auto) { tick(); });
  };
  boost::asio::post(io, [&] {
    switches_before = voluntarySwitches();
    timer.expires_after(ticks.between);
    timer.async_wait([&](auto) { tick(); });
  });
  runEventLoop(io, busy_poll, in_flight);
  return result;
}

constexpr config::BusyPoll kAuto{config::BusyPoll::Mode::Adaptive, config::kAdaptiveBusyPollMax};
constexpr config::BusyPoll kOff{config::BusyPoll::Mode::Off, 0us};
constexpr int kTicks = 400;

TEST(EventLoop, OffSleepsThroughEveryWait) {
  const auto result = runTicks(kOff, 0, Ticks{});
  EXPECT_GE(result.sleeps, kTicks / 2);
}

TEST(EventLoop, AutoPollsThroughShortWaitsWhileRequestsComeBackToBack) {
  const auto result = runTicks(kAuto, 0, Ticks{});
  EXPECT_LT(result.sleeps, kTicks / 4);
  // After the last request the worker polls at most one window (100us) before it sleeps through the pause.
  EXPECT_LT(result.idle_cpu_us, 10'000);
}

TEST(EventLoop, AutoSleepsThroughWaitsLongerThanItsMaximum) {
  const auto result = runTicks(kAuto, 0, Ticks{.count = 60, .between = 1ms, .within = 1ms});
  EXPECT_GE(result.sleeps, 60 / 2);
}

// At a light load the replies come soon but the requests do not: polling within requests bought nothing there
// (bench/README.md), so it waits for requests to come back to back.
TEST(EventLoop, AutoDoesNotPollForRepliesWhenRequestsArriveAfterPauses) {
  const auto result = runTicks(kAuto, 0, Ticks{.count = 100, .between = 1ms, .within = 20us});
  EXPECT_GE(result.sleeps, 100 / 2);
}

// Events that are not requests (timers, late replies) never open the window between requests.
TEST(EventLoop, AutoIsNotStartedByEventsThatAreNotRequests) {
  const auto result = runTicks(kAuto, 0, Ticks{.toggle = false});
  EXPECT_GE(result.sleeps, kTicks / 2);
}

TEST(EventLoop, AutoDoesNotPollWithManyRequestsInFlight) {
  const auto result = runTicks(kAuto, kMaxInFlightToPoll + 1, Ticks{.toggle = false});
  EXPECT_GE(result.sleeps, kTicks / 2);
}

}  // namespace
}  // namespace gatehouse::proxy
