// The admin listener's /metrics: the responses per route and status class, and what the filters decided, in
// Prometheus's text format — counted across requests that really went through, and well formed (one HELP and
// TYPE per family, every sample a name, labels and a number).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {

const std::string kPolicies =
    "sessions:\n"
    "  app:\n    cookie: connect.sid\n    format: express\n    secrets: [\"metrics-test-secret\"]\n"
    "    key: \"sess:{id}\"\n    identity: {user: /user/username}\n"
    "rate_limits:\n"
    "  per_key:\n    key: [header:X-Api-Key]\n    limits: [{requests: 2, window: 60s}]\n";

const std::string kRoutes =
    "  - name: api\n    match: {prefix: /api/}\n    filters: [{rate_limit: per_key}]\n"
    "  - name: api-v2\n    match: {prefix: /v2/}\n    filters: [{rate_limit: per_key}]\n"
    "  - name: private\n    match: {prefix: /private/}\n    filters: [{session: {policy: app}}]\n"
    "  - name: open\n    match: {prefix: /}\n    filters: []\n";

// Every sample of the page by its series (name and labels, as written), and the families' HELP/TYPE lines.
struct Page {
  std::map<std::string, std::uint64_t> samples;
  std::map<std::string, int> helps;
  std::map<std::string, int> types;
  std::vector<std::string> malformed;
};

Page parse(const std::string& text) {
  static const std::regex sample(
      R"(([a-z_]+)\{(route="[^"]*",)?(policy="[^"]*"(,outcome="[a-z_]+")?|code="[1-5]xx")\} ([0-9]+))");
  static const std::regex help(R"(# HELP ([a-z_]+) .+)");
  static const std::regex type(R"(# TYPE ([a-z_]+) counter)");
  Page page;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch parts;
    if (std::regex_match(line, parts, help)) {
      ++page.helps[parts[1]];
    } else if (std::regex_match(line, parts, type)) {
      ++page.types[parts[1]];
    } else if (std::regex_match(line, parts, sample)) {
      page.samples[line.substr(0, line.rfind(' '))] = std::stoull(parts[5]);
    } else {
      page.malformed.push_back(line);
    }
  }
  return page;
}

TEST(Metrics, CountWhatTheFiltersDecidedPerRouteAndPolicy) {
  TestUpstream upstream;
  const auto admin_port = freePort();
  ProxyInstance proxy(testConfig(upstream.address(), kRoutes,
                                 "admin: 127.0.0.1:" + std::to_string(admin_port) + "\n" + kPolicies));
  HttpClient client(proxy.port());
  for (int i = 0; i < 3; ++i) client.get("/api/items", {{"X-Api-Key", "k1"}});  // 2 admitted, 1 refused
  EXPECT_EQ(client.get("/v2/items", {{"X-Api-Key", "k3"}}).result_int(), 200);  // the same policy elsewhere
  EXPECT_EQ(client.get("/private/me").result_int(), 401);                       // no cookie
  EXPECT_EQ(client.get("/private/me").result_int(), 401);
  EXPECT_EQ(client.get("/private/me", {{"Cookie", "connect.sid=s%3Aforged.bad"}}).result_int(), 401);
  EXPECT_EQ(client.get("/elsewhere").result_int(), 200);
  EXPECT_EQ(firstStatus(rawExchange(proxy.port(), "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").data),
            400u);

  HttpClient admin(proxy.adminPort());
  const auto response = admin.get("/metrics");
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const Page page = parse(response.body());
  EXPECT_TRUE(page.malformed.empty()) << "not a HELP, TYPE or sample line: " << page.malformed.front();

  const std::string limit = R"(gatehouse_rate_limit_decisions_total{policy="per_key",outcome=)";
  // One series per policy, over both routes that use it (they share its counters and its over-limit cache).
  EXPECT_EQ(page.samples.at(limit + R"("allowed"})"), 3u);
  EXPECT_EQ(page.samples.at(limit + R"("limited"})"), 1u);
  EXPECT_EQ(page.samples.at(limit + R"("shadow_limited"})"), 0u);
  EXPECT_EQ(page.samples.at(R"(gatehouse_rate_limit_store_errors_total{policy="per_key"})"), 0u);
  const std::string session = R"(gatehouse_session_outcomes_total{route="private",policy="app",outcome=)";
  EXPECT_EQ(page.samples.at(session + R"("missing"})"), 2u);
  EXPECT_EQ(page.samples.at(session + R"("bad_signature"})"), 1u);
  EXPECT_EQ(page.samples.at(session + R"("valid"})"), 0u);

  // Every response once, under its route and status class; a request refused before routing under route="".
  const auto responses = [&](const std::string& route, const std::string& code) {
    return page.samples.at(R"(gatehouse_http_responses_total{route=")" + route + R"(",code=")" + code +
                           R"("})");
  };
  EXPECT_EQ(responses("api", "2xx"), 2u);
  EXPECT_EQ(responses("api", "4xx"), 1u);
  EXPECT_EQ(responses("api-v2", "2xx"), 1u);
  EXPECT_EQ(responses("private", "4xx"), 3u);
  EXPECT_EQ(responses("private", "2xx"), 0u);
  EXPECT_EQ(responses("open", "2xx"), 1u);
  EXPECT_EQ(responses("", "4xx"), 1u);
  EXPECT_EQ(responses("", "5xx"), 0u);

  // Each family introduced once, before its samples; the route without filters has no filter series.
  for (const auto& [series, value] : page.samples) {
    const std::string family = series.substr(0, series.find('{'));
    EXPECT_EQ(page.helps.count(family) ? page.helps.at(family) : 0, 1) << family;
    EXPECT_EQ(page.types.count(family) ? page.types.at(family) : 0, 1) << family;
    if (family != "gatehouse_http_responses_total") {
      EXPECT_EQ(series.find(R"(route="open")"), std::string::npos) << series;
    }
  }
  EXPECT_EQ(page.helps.size(), 9u) << "responses, 5 rate-limit families, 3 session families";

  // The counts move with the traffic.
  client.get("/api/items", {{"X-Api-Key", "k2"}});
  EXPECT_EQ(parse(admin.get("/metrics").body()).samples.at(limit + R"("allowed"})"), 4u);
}

}  // namespace
}  // namespace gatehouse::testing
