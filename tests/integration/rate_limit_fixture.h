// What the rate-limit integration suites share: config snippets for a Redis-backed policy, a client loop that
// tallies answers, and the Redis-side observations the tests assert on (keys, TTLs, EVALSHA calls, clock).
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/redis_reply.h"
#include "tests/integration/harness.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing::ratelimit {

// A store section pointing at `redis`. The timeout is generous for a loaded 2-core machine; tests that
// measure the timeout path pass their own.
inline std::string redisStoreYaml(const RedisServer& redis, const std::string& timeout = "250ms") {
  return "store: {type: redis, url: \"" + redis.url() + "\", timeout: " + timeout + "}\n";
}

inline std::string memoryStoreYaml() {
  return "store: {type: memory}\n";
}

// One route `name` under `prefix` whose only filter is the rate-limit policy `policy`.
inline std::string limitedRoute(const std::string& name, const std::string& prefix,
                                const std::string& policy) {
  return "  - name: " + name + "\n    match: {prefix: " + prefix + "}\n    filters: [{rate_limit: " + policy +
         "}]\n";
}

// A Gatehouse worker connects to Redis in the background: until it has, every check fails as Unavailable and
// the policy's on_store_error decides. Each suite's config therefore carries a warm-up route (first, so the
// other routes' prefixes do not shadow it) whose policy admits everything, and a test waits until a warm-up
// request comes back with rate-limit headers — proof that this worker's store answers — before it counts.
inline constexpr std::string_view kWarmupPath = "/warmup";
inline constexpr std::string_view kWarmupPolicy =
    "  warmup:\n    key: [ip]\n    limits: [{requests: 1000000000, window: 1s}]\n";

// testConfig() with the warm-up route and policy added. `extra_yaml` holds the store and a `rate_limits:`
// section.
inline std::string rateLimitConfig(const std::string& upstream_address, const std::string& routes_yaml,
                                   const std::string& extra_yaml) {
  const std::string section = "rate_limits:\n";
  std::string extra = extra_yaml;
  const auto at = extra.find(section);
  if (at == std::string::npos) throw std::logic_error("no rate_limits section to add the warm-up policy to");
  extra.insert(at + section.size(), kWarmupPolicy);
  return testConfig(upstream_address,
                    limitedRoute("warmup", std::string(kWarmupPath), "warmup") + routes_yaml, extra);
}

// Sends warm-up requests until one was decided by the store (bounded); false when none was within `limit`.
inline bool awaitStoreDecisions(HttpClient& client,
                                std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto response = client.get(std::string(kWarmupPath));
    if (response.result_int() == 200 && response.find("X-RateLimit-Limit") != response.end()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The targets the upstream received, warm-up requests left out, in arrival order.
inline std::vector<std::string> appTargets(const TestUpstream& upstream) {
  std::vector<std::string> targets;
  for (const auto& request : upstream.requests()) {
    if (request.target.rfind(kWarmupPath, 0) != 0) targets.push_back(request.target);
  }
  return targets;
}

inline std::size_t appRequestCount(const TestUpstream& upstream) {
  return appTargets(upstream).size();
}

// How a run of requests was answered.
struct Tally {
  int ok = 0;       // 200
  int limited = 0;  // 429
  int other = 0;    // anything else
  std::vector<std::string> admitted_targets;
};

// Sends `count` GETs to `<prefix><i>` (i = first .. first + count - 1) over one kept-alive connection.
inline Tally sendRequests(HttpClient& client, const std::string& prefix, int count, int first = 0,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
  Tally tally;
  for (int i = first; i < first + count; ++i) {
    const std::string target = prefix + std::to_string(i);
    const auto response = client.get(target, headers);
    switch (response.result_int()) {
      case 200:
        ++tally.ok;
        tally.admitted_targets.push_back(target);
        break;
      case 429:
        ++tally.limited;
        break;
      default:
        ++tally.other;
        break;
    }
  }
  return tally;
}

inline std::optional<std::int64_t> parseInteger(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

inline std::int64_t epochSecondsNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- Redis-side observations
// -------------------------------------------------------------------------------

inline std::vector<std::string> redisKeys(const RedisServer& redis, const std::string& pattern = "*") {
  const auto reply = redis.command({"KEYS", pattern});
  if (reply.type != store::RedisReply::Type::Array) throw std::runtime_error("KEYS: " + reply.str);
  std::vector<std::string> keys;
  for (const auto& element : reply.elements) keys.push_back(element.str);
  return keys;
}

// The rate-limit keys of one policy (its name starts every base key, inside the hash tag).
inline std::vector<std::string> policyKeys(const RedisServer& redis, const std::string& policy) {
  return redisKeys(redis, "gh:rl:{" + policy + ":*");
}

// The limits those keys count for: a sliding window keeps one key per window (gh:rl:{...}:sw:<W>:<index>),
// counted once here with its index dropped; a sliding log keeps one key per limit.
inline std::set<std::string> limitNames(const std::vector<std::string>& keys) {
  std::set<std::string> names;
  for (const std::string& key : keys) {
    const auto window_part = key.rfind("}:sw:");
    const auto index_colon =
        window_part == std::string::npos ? std::string::npos : key.find(':', window_part + 5);
    names.insert(index_colon == std::string::npos ? key : key.substr(0, index_colon));
  }
  return names;
}

inline std::int64_t redisPttl(const RedisServer& redis, const std::string& key) {
  return redis.command({"PTTL", key}).integer;
}

// Redis's clock in epoch milliseconds: the sliding log's (its script reads TIME); the sliding window counts
// on Gatehouse's, which on the test's one host is the same clock.
inline std::int64_t redisTimeMs(const RedisServer& redis) {
  const auto reply = redis.command({"TIME"});
  if (reply.elements.size() != 2) throw std::runtime_error("TIME: unexpected reply");
  const auto seconds = parseInteger(reply.elements[0].str);
  const auto micros = parseInteger(reply.elements[1].str);
  if (!seconds || !micros) throw std::runtime_error("TIME: not numbers");
  return *seconds * 1000 + *micros / 1000;
}

// How many times `command` ran, from INFO commandstats ("cmdstat_<command>:calls=N,..."); 0 when never.
inline std::uint64_t commandCalls(const RedisServer& redis, const std::string& command) {
  const auto info = redis.command({"INFO", "commandstats"}).str;
  const std::string marker = "cmdstat_" + command + ":calls=";
  const auto at = info.find(marker);
  if (at == std::string::npos) return 0;
  const auto begin = at + marker.size();
  const auto end = info.find_first_not_of("0123456789", begin);
  const auto calls = parseInteger(std::string_view(info).substr(begin, end - begin));
  if (!calls) throw std::runtime_error("INFO commandstats: unreadable " + marker);
  return static_cast<std::uint64_t>(*calls);
}

// Waits (bounded) until Redis's clock is within the first `slack` of a `window`-long window, so that a burst
// that takes less than the rest of the window is counted inside one window. The sliding-window counter
// weighs the previous window's count; a burst straddling a boundary would measure the algorithm's documented
// approximation instead of the exactness of the count.
inline void waitForWindowStart(const RedisServer& redis, std::chrono::milliseconds window,
                               std::chrono::milliseconds slack = std::chrono::milliseconds(300)) {
  const auto deadline = std::chrono::steady_clock::now() + window + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto into_window = redisTimeMs(redis) % window.count();
    if (into_window < slack.count()) return;
    const auto left = window.count() - into_window;
    std::this_thread::sleep_for(std::chrono::milliseconds(left > 50 ? left - 20 : 5));
  }
  throw std::runtime_error("never saw the start of a rate-limit window");
}

// ---- Gatehouse as a child process ------------------------------------------------------------------------

// testConfig() listens on port 0 with one worker; a child process must listen where the test can find it.
inline std::string forProcess(std::string yaml, std::uint16_t port, int workers) {
  const std::string any_port = "127.0.0.1:0";
  const auto listen = yaml.find(any_port);
  if (listen == std::string::npos) throw std::logic_error("config has no 127.0.0.1:0 listener");
  yaml.replace(listen, any_port.size(), "127.0.0.1:" + std::to_string(port));
  const std::string one_worker = "workers: 1";
  const auto workers_at = yaml.find(one_worker);
  if (workers_at == std::string::npos) throw std::logic_error("config has no workers line");
  yaml.replace(workers_at, one_worker.size(), "workers: " + std::to_string(workers));
  return yaml;
}

}  // namespace gatehouse::testing::ratelimit
