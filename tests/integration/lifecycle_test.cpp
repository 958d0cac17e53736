// The process: SIGTERM drains in-flight requests, the admin listener reports health and readiness, and the
// CLI validates configs.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <future>

#include <boost/json/parse.hpp>

#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {

// A port another program already listens on, bound without SO_REUSEPORT: Gatehouse cannot have it.
struct TakenPort {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor{io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

// An app that takes `delay` to answer each request.
TestUpstream::Handler slowApp(std::chrono::milliseconds delay) {
  return [delay](const ReceivedRequest&) {
    UpstreamReply reply;
    reply.delay = delay;
    reply.body = "finished";
    return reply;
  };
}

// Waits (up to 3 s) until a request has reached the app.
void awaitRequestAtApp(const TestUpstream& upstream) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (upstream.requestCount() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(upstream.requestCount(), 1u);
}

// A client of the admin listener, which starts listening just after the workers: ProxyProcess waits for
// theirs only.
HttpClient adminClient(std::uint16_t admin_port) {
  for (int attempt = 0;; ++attempt) {
    try {
      return HttpClient(admin_port);
    } catch (const boost::system::system_error&) {
      if (attempt == 100) throw;
      std::this_thread::sleep_for(10ms);
    }
  }
}

std::string lowerCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

TEST(Lifecycle, SigtermLetsInFlightRequestsFinishThenExitsZero) {
  TestUpstream upstream(slowApp(700ms));
  const auto port = freePort();
  ProxyProcess proxy(
      withPort(testConfig(upstream.address(), kCatchAll, "limits: {drain_timeout: 5s}\n"), port), port);

  auto in_flight = std::async(std::launch::async, [port] {
    HttpClient client(port);
    return client.get("/slow");
  });
  // Wait until the request is at the upstream, then ask Gatehouse to stop.
  awaitRequestAtApp(upstream);
  proxy.signal(SIGTERM);

  const auto response = in_flight.get();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "finished");
  EXPECT_EQ(response[http::field::connection], "close");
  EXPECT_EQ(proxy.wait(5s), std::optional<int>(0)) << proxy.stderrText();
  EXPECT_THROW(HttpClient{port}, boost::system::system_error);  // no longer accepting
}

TEST(Lifecycle, DrainTimeoutCutsRequestsThatTakeTooLong) {
  TestUpstream upstream(slowApp(1500ms));
  const auto port = freePort();
  auto yaml = testConfig(upstream.address(), kCatchAll, "limits: {drain_timeout: 200ms}\n");
  yaml.replace(yaml.find("response_timeout: 2s"), 20, "response_timeout: 5s");
  ProxyProcess proxy(withPort(yaml, port), port);
  auto in_flight = std::async(std::launch::async, [port] {
    HttpClient client(port);
    return client.get("/slow");
  });
  awaitRequestAtApp(upstream);
  const auto start = std::chrono::steady_clock::now();
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait(3s), std::optional<int>(0));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
  EXPECT_THROW(in_flight.get(), boost::system::system_error);
}

TEST(Lifecycle, ReadinessFailsWhileDraining) {
  TestUpstream upstream(slowApp(1500ms));
  const auto port = freePort();
  const auto admin_port = freePort();
  ProxyProcess proxy(withPort(testConfig(upstream.address(), kCatchAll,
                                         "admin: 127.0.0.1:" + std::to_string(admin_port) +
                                             "\nlimits: {drain_timeout: 5s}\n"),
                              port),
                     port);
  auto admin = adminClient(admin_port);
  EXPECT_EQ(admin.get("/readyz").result_int(), 200);
  auto in_flight = std::async(std::launch::async, [port] { return HttpClient(port).get("/slow"); });
  awaitRequestAtApp(upstream);
  proxy.signal(SIGTERM);
  // Draining now (the request still has more than a second to go): alive, but not ready.
  unsigned status = 200;
  Response readiness;
  for (int attempt = 0; attempt < 50 && status == 200; ++attempt) {
    readiness = admin.get("/readyz");
    status = readiness.result_int();
    if (status == 200) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(status, 503u);
  EXPECT_NE(readiness.body().find("draining"), std::string::npos) << readiness.body();
  EXPECT_EQ(admin.get("/healthz").result_int(), 200);
  EXPECT_EQ(in_flight.get().result_int(), 200);
  EXPECT_EQ(proxy.wait(5s), std::optional<int>(0)) << proxy.stderrText();
}

TEST(Lifecycle, AdminHealthAndReadiness) {
  auto upstream = std::make_unique<TestUpstream>();
  const auto upstream_address = upstream->address();
  ProxyInstance proxy(testConfig(upstream_address, kCatchAll, "admin: 127.0.0.1:0\n"));
  HttpClient admin(proxy.adminPort());
  EXPECT_EQ(admin.get("/healthz").result_int(), 200);
  EXPECT_EQ(admin.get("/readyz").result_int(), 200);
  upstream.reset();  // the app goes away
  const auto not_ready = admin.get("/readyz");
  EXPECT_EQ(not_ready.result_int(), 503);
  EXPECT_NE(boost::json::parse(not_ready.body()).at("reason").as_string().find("upstream"),
            std::string::npos);
  EXPECT_EQ(admin.get("/healthz").result_int(), 200);
}

TEST(Lifecycle, FatalStartupErrorsReachStderrEvenWithLoggingOff) {
  TestUpstream upstream;
  TakenPort taken;
  auto yaml = withPort(testConfig(upstream.address(), kCatchAll), taken.port());
  yaml.replace(yaml.find("level: warn"), 11, "level: off");
  ProxyProcess proxy(yaml, taken.port());  // "started": the port answers, but it is the test's listener
  const auto status = proxy.wait(20s);
  ASSERT_TRUE(status) << "gatehouse is still running on a port it could not bind";
  EXPECT_EQ(*status, 1);
  EXPECT_NE(lowerCase(proxy.stderrText()).find("address already in use"), std::string::npos)
      << proxy.stderrText();
}

TEST(Lifecycle, ABindFailureExitsAtOnceNotAfterTheDrainTimeout) {
  TestUpstream upstream;
  TakenPort taken;
  auto yaml =
      withPort(testConfig(upstream.address(), kCatchAll, "limits: {drain_timeout: 15s}\n"), taken.port());
  yaml.replace(yaml.find("workers: 1"), 10, "workers: 2");
  const auto start = std::chrono::steady_clock::now();
  ProxyProcess proxy(yaml, taken.port());
  const auto status = proxy.wait(10s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(status) << proxy.stderrText();
  EXPECT_EQ(*status, 1) << proxy.stderrText();
  // Loading the config and making the workers take a few ms; the drain timeout would be 15 s.
  EXPECT_LT(elapsed, 1500ms) << proxy.stderrText();
}

std::pair<int, std::string> runCheck(const std::string& yaml) {
  const auto path = "/tmp/gatehouse-check-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << yaml;
  const auto command = gatehouseBinary() + " --check --config " + path + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  char chunk[4096];
  while (const auto n = std::fread(chunk, 1, sizeof(chunk), pipe)) output.append(chunk, n);
  const int status = ::pclose(pipe);
  std::remove(path.c_str());
  return {WEXITSTATUS(status), output};
}

// Runs gatehouse with a config that must not start: its exit status (nullopt if it kept running for 10 s) and
// its stderr.
std::pair<std::optional<int>, std::string> failedStart(const std::string& yaml, std::uint16_t port) {
  try {
    ProxyProcess proxy(yaml, port);  // returns once `port` answers, which may be another program
    const auto status = proxy.wait(10s);
    return {status, proxy.stderrText()};
  } catch (const std::runtime_error& e) {  // exited before the port answered: the message carries stderr
    return {1, e.what()};
  }
}

TEST(Lifecycle, BindFailuresNameTheKeyAndTheAddress) {
  TestUpstream upstream;
  TakenPort taken;
  const auto listen_address = "127.0.0.1:" + std::to_string(taken.port());
  const auto [listen_status, listen_error] =
      failedStart(withPort(testConfig(upstream.address(), kCatchAll), taken.port()), taken.port());
  EXPECT_EQ(listen_status, std::optional<int>(1));
  EXPECT_NE(listen_error.find("listen " + listen_address + ": address already in use"), std::string::npos)
      << listen_error;
  EXPECT_EQ(listen_error.find(".hpp"), std::string::npos) << "a Boost source path: " << listen_error;

  const auto port = freePort();
  const auto [admin_status, admin_error] = failedStart(
      withPort(testConfig(upstream.address(), kCatchAll, "admin: " + listen_address + "\n"), port), port);
  EXPECT_EQ(admin_status, std::optional<int>(1));
  EXPECT_NE(admin_error.find("admin " + listen_address + ": address already in use"), std::string::npos)
      << admin_error;
  EXPECT_EQ(admin_error.find(".hpp"), std::string::npos) << "a Boost source path: " << admin_error;
}

// SO_REUSEPORT lets Gatehouse's workers share their port; it must not let a second Gatehouse join it.
TEST(Lifecycle, ASecondGatehouseOnTheSamePortExitsInsteadOfSharingIt) {
  TestUpstream upstream;
  const auto port = freePort();
  const auto yaml = withPort(testConfig(upstream.address(), kCatchAll), port);
  ProxyProcess first(yaml, port);
  ProxyProcess second(yaml, port);  // returns at once: the port answers (the first one)
  EXPECT_EQ(second.wait(5s), std::optional<int>(1)) << "the second instance is serving the same port";
  EXPECT_NE(second.stderrText().find("listen 127.0.0.1:" + std::to_string(port) + ": address already in use"),
            std::string::npos)
      << second.stderrText();
  // The first one was never disturbed, and serves every connection.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(HttpClient(port).get("/").result_int(), 200);
  EXPECT_EQ(first.wait(0ms), std::nullopt);
}

TEST(Lifecycle, CheckPrintsTheEffectiveConfigOrEveryError) {
  const auto [ok_status, ok_output] = runCheck(testConfig("127.0.0.1:3000", kCatchAll));
  EXPECT_EQ(ok_status, 0) << ok_output;
  EXPECT_NE(ok_output.find("response_timeout"), std::string::npos) << ok_output;

  const auto [bad_status, bad_output] = runCheck(
      "listen: 127.0.0.1:99999\nupstream: {address: 127.0.0.1:3000, conect_timeout: 2s}\nroutes: []\n");
  EXPECT_NE(bad_status, 0);
  EXPECT_NE(bad_output.find(":1:"), std::string::npos) << bad_output;             // the port, on line 1
  EXPECT_NE(bad_output.find("conect_timeout"), std::string::npos) << bad_output;  // the unknown key, named
}

TEST(Lifecycle, CheckRefusesListenersThatCouldNotStart) {
  const auto [name_status, name_output] =
      runCheck("listen: localhost:8080\nupstream: {address: 127.0.0.1:3000}\nroutes: []\n");
  EXPECT_EQ(name_status, 1) << name_output;
  EXPECT_NE(name_output.find(":1:9: listen: \"localhost\" is not an IP address"), std::string::npos)
      << name_output;

  const auto [unix_status, unix_output] =
      runCheck("listen: 127.0.0.1:8080\nadmin: unix:/tmp/admin.sock\nupstream: {address: 127.0.0.1:3000}\n");
  EXPECT_EQ(unix_status, 1) << unix_output;
  EXPECT_NE(unix_output.find(":2:8: admin: \"unix:/tmp/admin.sock\": Unix sockets are not supported"),
            std::string::npos)
      << unix_output;

  const auto [same_status, same_output] =
      runCheck("listen: 127.0.0.1:8080\nadmin: 127.0.0.1:8080\nupstream: {address: 127.0.0.1:3000}\n");
  EXPECT_EQ(same_status, 1) << same_output;
  EXPECT_NE(same_output.find(":2:8: admin: \"127.0.0.1:8080\" takes the port of listen"), std::string::npos)
      << same_output;
}

}  // namespace
}  // namespace gatehouse::testing
