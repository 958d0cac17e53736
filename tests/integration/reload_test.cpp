// SIGHUP: the running gatehouse binary loads its config file again and applies it to new requests; a file
// that does not load is logged and the last good configuration keeps serving.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {

// The --config argument the process was started with (ProxyProcess writes the file in a temp dir).
std::string configPathOf(const ProxyProcess& proxy) {
  std::ifstream cmdline("/proc/" + std::to_string(proxy.pid()) + "/cmdline", std::ios::binary);
  std::stringstream text;
  text << cmdline.rdbuf();
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(text, arg, '\0')) args.push_back(arg);
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--config") return args[i + 1];
  }
  throw std::runtime_error("no --config in the command line of " + std::to_string(proxy.pid()));
}

void writeFile(const std::string& path, const std::string& text) {
  const auto temporary = path + ".new";
  std::ofstream(temporary) << text;
  std::rename(temporary.c_str(), path.c_str());  // whole, as an editor or a config management tool saves it
}

// Polls (bounded) until `done` holds; returns whether it did.
template <typename Done>
bool eventually(Done&& done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string configHeader(std::uint16_t port) {
  return std::string(HttpClient(port).get("/")["X-Config"]);
}

const std::string kTaggedRoute =
    "  - name: tagged\n    match: {prefix: /}\n"
    "    filters:\n      - headers: {response: {set: {X-Config: second}}}\n";

TEST(Reload, SighupAppliesTheNewFileAndKeepsTheLastGoodOneWhenItFailsToLoad) {
  TestUpstream upstream;
  const auto port = freePort();
  ProxyProcess proxy(withPort(testConfig(upstream.address(), kCatchAll), port), port);
  const auto path = configPathOf(proxy);
  HttpClient kept_alive(port);
  EXPECT_EQ(kept_alive.get("/").result_int(), 200);
  EXPECT_EQ(configHeader(port), "");

  // A new route whose headers filter sets a response header; and a worker count, which needs a restart.
  auto second = withPort(testConfig(upstream.address(), kTaggedRoute), port);
  second.replace(second.find("workers: 1"), 10, "workers: 2");
  writeFile(path, second);
  proxy.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return configHeader(port) == "second"; })) << proxy.stderrText();
  // A connection opened before the reload gets the new configuration on its next request.
  EXPECT_EQ(kept_alive.get("/")["X-Config"], "second");
  // Logged before the workers took the new config, by the logging thread: maybe not written yet.
  EXPECT_TRUE(eventually([&] {
    return proxy.stderrText().find("reload: workers cannot change without a restart") != std::string::npos;
  })) << proxy.stderrText();

  // A file that does not load: every error logged with its key and line, and the last good config serves.
  const auto broken =
      withPort(testConfig(upstream.address(), kCatchAll, "limits: {header_timeout: 1.5s}\n"), port);
  writeFile(path, broken);
  proxy.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return proxy.stderrText().find("reload failed") != std::string::npos; }))
      << proxy.stderrText();
  const auto log = proxy.stderrText();
  EXPECT_NE(log.find(path + ":8:26: limits.header_timeout: \"1.5s\": fractions are not supported"),
            std::string::npos)
      << log;
  EXPECT_EQ(proxy.wait(0ms), std::nullopt) << "a failed reload stopped gatehouse";
  EXPECT_EQ(configHeader(port), "second");
  EXPECT_EQ(kept_alive.get("/")["X-Config"], "second");

  // SIGHUP is no longer fatal, and SIGTERM still stops it cleanly.
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(5s), std::optional<int>(0)) << proxy.stderrText();
}

TEST(Reload, ANewFileCanTakeARouteAway) {
  TestUpstream upstream;
  const auto port = freePort();
  const std::string two_routes = "  - name: api\n    match: {prefix: /api}\n" + kCatchAll;
  ProxyProcess proxy(withPort(testConfig(upstream.address(), two_routes), port), port);
  EXPECT_EQ(HttpClient(port).get("/api/items").result_int(), 200);
  writeFile(configPathOf(proxy),
            withPort(testConfig(upstream.address(), "  - name: api\n    match: {prefix: /api}\n"), port));
  proxy.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return HttpClient(port).get("/other").result_int() == 404; }))
      << proxy.stderrText();
  EXPECT_EQ(HttpClient(port).get("/api/items").result_int(), 200);
}

// /metrics reads the filters the workers use now: after a reload that renamed the policies, the counters are
// the new policies', counted from the reload.
TEST(Reload, MetricsFollowTheReloadedFilters) {
  TestUpstream upstream;
  const auto port = freePort();
  const auto admin_port = freePort();
  const auto configWith = [&](const std::string& policy) {
    return withPort(
        testConfig(upstream.address(),
                   "  - name: all\n    match: {prefix: /}\n    filters: [{rate_limit: " + policy + "}]\n",
                   "admin: 127.0.0.1:" + std::to_string(admin_port) + "\nrate_limits:\n  " + policy +
                       ":\n    limits: [{requests: 100, window: 60s}]\n"),
        port);
  };
  const auto metrics = [&] { return HttpClient(admin_port).get("/metrics").body(); };
  const auto allowed = [](const std::string& policy, int count) {
    return R"(gatehouse_rate_limit_decisions_total{policy=")" + policy + R"(",outcome="allowed"} )" +
           std::to_string(count);
  };
  ProxyProcess proxy(configWith("before"), port);
  EXPECT_EQ(HttpClient(port).get("/").result_int(), 200);
  EXPECT_NE(metrics().find(allowed("before", 1)), std::string::npos);

  writeFile(configPathOf(proxy), configWith("after"));
  proxy.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return metrics().find(R"(policy="after")") != std::string::npos; }))
      << proxy.stderrText();
  for (int i = 0; i < 2; ++i) EXPECT_EQ(HttpClient(port).get("/").result_int(), 200);
  const std::string page = metrics();
  EXPECT_NE(page.find(allowed("after", 2)), std::string::npos) << page;
  EXPECT_EQ(page.find(R"(policy="before")"), std::string::npos) << page;
}

}  // namespace
}  // namespace gatehouse::testing
