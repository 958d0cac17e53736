// Busy polling (`busy_poll`) in the real binary. With a fixed time, after its last event a worker keeps
// polling for up to that time, then sleeps; `auto` (the default) polls only through waits that recent ones
// say will be short (tests/proxy/event_loop_test.cpp times that on one thread). Which of the two the process
// is doing shows in /proc/<pid>/task/*/schedstat (per thread: nanoseconds on a CPU, then nanoseconds runnable
// but waiting for one): polling burns CPU, sleeping does not. A polling worker yields to any other runnable
// thread, so beside a busy one it gets little CPU but stays runnable: "polled" is judged on the time on a CPU
// plus the time waiting for one, "slept" on the time on a CPU. The tests run alone (RUN_SERIAL in
// CMakeLists.txt); the machine may still be busy with something else.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {

struct SchedTimes {
  std::chrono::nanoseconds on_cpu{0};
  std::chrono::nanoseconds waiting_for_cpu{0};
};

SchedTimes schedTimes(pid_t pid) {
  SchedTimes total;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream schedstat(task.path() / "schedstat");
    std::int64_t on_cpu_ns = 0;
    std::int64_t waiting_ns = 0;
    if (schedstat >> on_cpu_ns >> waiting_ns) {
      total.on_cpu += std::chrono::nanoseconds(on_cpu_ns);
      total.waiting_for_cpu += std::chrono::nanoseconds(waiting_ns);
    }
  }
  return total;
}

std::chrono::nanoseconds cpuTime(pid_t pid) {
  return schedTimes(pid).on_cpu;
}

// Time the process's threads were runnable: on a CPU, or ready and waiting for one.
std::chrono::nanoseconds runnableTime(pid_t pid) {
  const auto times = schedTimes(pid);
  return times.on_cpu + times.waiting_for_cpu;
}

long long microseconds(std::chrono::nanoseconds time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time).count();
}

// CPU time the process uses during `window`, starting now.
std::chrono::nanoseconds cpuDuring(pid_t pid, std::chrono::milliseconds window) {
  const auto before = cpuTime(pid);
  std::this_thread::sleep_for(window);
  return cpuTime(pid) - before;
}

TEST(BusyPoll, WorkerPollsAfterEachEventThenSleeps) {
  TestUpstream upstream;
  const auto port = freePort();
  ProxyProcess proxy(withPort(testConfig(upstream.address(), kCatchAll, "busy_poll: 10ms\n"), port), port);
  HttpClient client(port);
  ASSERT_EQ(client.get("/warm").result_int(), 200);

  // Idle: past the 10ms window the worker sleeps, waking only for its connection-deadline sweep (every 100ms,
  // each followed by one window of polling: ~50ms here). Polling throughout would cost up to 500ms.
  std::this_thread::sleep_for(50ms);
  const auto idle = cpuDuring(proxy.pid(), 500ms);
  EXPECT_LT(idle, 120ms) << "the worker kept polling while idle: " << microseconds(idle) << " us of CPU";

  // Each request is followed by ~10ms of polling: ten of them keep the worker runnable for ~100ms where a
  // sleeping worker is runnable for a few. The poller yields to any other runnable thread, so on a busy
  // machine part of that is spent waiting for a CPU rather than on one; together they still add up to the
  // polling time. The threshold allows a sixth of it.
  std::chrono::nanoseconds after_requests{0};
  for (int i = 0; i < 10; ++i) {
    const auto before = runnableTime(proxy.pid());
    const auto response = client.get("/item/" + std::to_string(i));
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), R"({"ok":true})");
    std::this_thread::sleep_for(40ms);
    after_requests += runnableTime(proxy.pid()) - before;
  }
  EXPECT_GE(after_requests, 16ms) << "no polling after the requests: runnable for "
                                  << microseconds(after_requests) << " us";
  EXPECT_EQ(upstream.requestCount(), 11u);

  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(5s), std::optional<int>(0)) << proxy.stderrText();
}

// Requests 40ms apart cost `auto` about what they cost with busy polling off: the pauses between requests are
// far longer than its window, so it sleeps through them. Off, the worker sleeps at once, so the threshold of
// the test above means something.
class PacedRequests : public ::testing::TestWithParam<const char*> {};

TEST_P(PacedRequests, TheWorkerSleepsBetweenThem) {
  TestUpstream upstream;
  const auto port = freePort();
  ProxyProcess proxy(withPort(testConfig(upstream.address(), kCatchAll, GetParam()), port), port);
  HttpClient client(port);
  ASSERT_EQ(client.get("/warm").result_int(), 200);
  std::chrono::nanoseconds after_requests{0};
  for (int i = 0; i < 10; ++i) {
    const auto before = cpuTime(proxy.pid());
    EXPECT_EQ(client.get("/item/" + std::to_string(i)).result_int(), 200);
    std::this_thread::sleep_for(40ms);
    after_requests += cpuTime(proxy.pid()) - before;
  }
  EXPECT_LT(after_requests, 12ms) << microseconds(after_requests) << " us of CPU";  // ten requests, sweeps
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(5s), std::optional<int>(0)) << proxy.stderrText();
}

INSTANTIATE_TEST_SUITE_P(BusyPoll, PacedRequests,
                         ::testing::Values("busy_poll: off\n", "busy_poll: auto\n", ""));  // "": the default

}  // namespace
}  // namespace gatehouse::testing
