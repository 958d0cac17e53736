// What the session integration suites share: config snippets for session policies backed by a real Redis,
// express-session cookies computed the way the npm `cookie-signature` package computes them (independently of
// the filter's own code, so that a wrong signature on either side fails a test), sessions seeded into Redis,
// and the Redis-side observations the tests assert on (INFO commandstats, INFO stats, PTTL).
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "store/redis_reply.h"
#include "tests/integration/harness.h"
#include "tests/support/redis_server.h"

namespace gatehouse::testing::session {

inline constexpr std::string_view kSecret = "integration-test-secret";

// ---- config ----------------------------------------------------------------------------------------------

// A store section pointing at `redis`. The timeout is generous for a loaded 2-core machine; tests of the
// timeout path pass their own.
inline std::string redisStoreYaml(const RedisServer& redis, const std::string& timeout = "500ms") {
  return "store: {type: redis, url: \"" + redis.url() + "\", timeout: " + timeout + "}\n";
}

// An express-session policy named `name` (cookie connect.sid, the identity express-session apps usually store
// under req.session.user). `extra` adds policy keys, each a line indented by four spaces.
inline std::string expressPolicy(const std::string& name, const std::string& extra = "",
                                 const std::string& key = "sess:{id}") {
  return "  " + name + ":\n    cookie: connect.sid\n    format: express\n    secrets: [\"" +
         std::string(kSecret) + "\"]\n    key: \"" + key +
         "\"\n    identity: {user: /user/username, roles: /user/role}\n" + extra;
}

// A route named `name` matching `prefix` with the given filter list (YAML flow sequence).
inline std::string route(const std::string& name, const std::string& prefix, const std::string& filters) {
  return "  - name: " + name + "\n    match: {prefix: " + prefix + "}\n    filters: " + filters + "\n";
}

// A Gatehouse worker connects to Redis in the background: until it has, every lookup fails as Unavailable.
// Each suite's config therefore carries a warm-up route (first, so that no other prefix shadows it) guarded
// by a policy of its own whose session is seeded in Redis; a test waits until a warm-up request is admitted
// — proof that this worker's store answers — before it measures anything.
inline constexpr std::string_view kWarmupPath = "/warmup";
inline constexpr std::string_view kWarmupKeyPrefix = "warmup:";

// testConfig() with the warm-up policy and route added. `sessions_yaml` holds the policies (each indented by
// two spaces, as expressPolicy() writes them); `extra_yaml` the store and any other top-level section.
inline std::string sessionConfig(const std::string& upstream_address, const std::string& routes_yaml,
                                 const std::string& sessions_yaml, const std::string& extra_yaml) {
  const std::string warmup_policy = expressPolicy("warmup", "", std::string(kWarmupKeyPrefix) + "{id}");
  return testConfig(upstream_address,
                    "  - name: warmup\n    match: {exact: " + std::string(kWarmupPath) +
                        "}\n    filters: [{session: {policy: warmup}}]\n" + routes_yaml,
                    extra_yaml + "sessions:\n" + warmup_policy + sessions_yaml);
}

// ---- cookies ---------------------------------------------------------------------------------------------

// A fresh express-session id: uid-safe(24) gives 32 characters of base64url.
inline std::string newSessionId() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string id(32, '\0');
  for (char& c : id) c = kAlphabet[pick(random)];
  return id;
}

// cookie-signature's sign(): base64(HMAC-SHA256(secret, id)) without '=' padding.
inline std::string cookieSignature(std::string_view id, std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(id.data()), id.size(), mac.data(),
           &mac_length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  std::string base64(4 * ((mac_length + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), mac.data(),
                                      static_cast<int>(mac_length));
  base64.resize(static_cast<std::size_t>(written));
  while (!base64.empty() && base64.back() == '=') base64.pop_back();
  return base64;
}

// encodeURIComponent, as the npm `cookie` package serializes cookie values.
inline std::string encodeUriComponent(std::string_view text) {
  static constexpr std::string_view kUnreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()";
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    if (kUnreserved.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  return out;
}

// The Cookie header value a browser sends for express-session's cookie: connect.sid=s%3A<id>.<signature>.
inline std::string expressCookie(std::string_view id, std::string_view secret = kSecret) {
  const std::string value = "s:" + std::string(id) + "." + cookieSignature(id, secret);
  return "connect.sid=" + encodeUriComponent(value);
}

// ---- Redis -----------------------------------------------------------------------------------------------

inline void checkOk(const store::RedisReply& reply, std::string_view what) {
  if (reply.isError()) throw std::runtime_error(std::string(what) + ": " + reply.str);
}

// Stores a session value under `key` with a TTL, as the application (express-session, the seed) would.
inline void seedSession(const RedisServer& redis, const std::string& key, const std::string& json,
                        std::chrono::milliseconds ttl = std::chrono::hours(1)) {
  checkOk(redis.command({"SET", key, json, "PX", std::to_string(ttl.count())}), "SET " + key);
}

// What express-session + connect-redis store for a logged-in user (role: a string, or a JSON array text).
inline std::string expressSessionJson(const std::string& username, const std::string& role_json) {
  return R"({"cookie":{"originalMaxAge":86400000,"httpOnly":true,"path":"/"},"user":{"username":")" +
         username + R"(","role":)" + role_json + "}}";
}

inline std::int64_t parseInteger(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    throw std::runtime_error("not an integer: " + std::string(text));
  }
  return value;
}

// The integer right after `field` in an INFO section's text; -1 when the field is absent.
inline std::int64_t infoNumber(const std::string& info, const std::string& field) {
  const auto at = info.find(field);
  if (at == std::string::npos) return -1;
  const auto begin = at + field.size();
  const auto end = info.find_first_not_of("0123456789", begin);
  return parseInteger(std::string_view(info).substr(begin, end - begin));
}

// How many times `command` (lower case) ran, from INFO commandstats ("cmdstat_<command>:calls=N,..."); 0 when
// never.
inline std::uint64_t commandCalls(const RedisServer& redis, const std::string& command) {
  const auto info = redis.command({"INFO", "commandstats"});
  checkOk(info, "INFO commandstats");
  const auto calls = infoNumber(info.str, "cmdstat_" + command + ":calls=");
  return calls < 0 ? 0 : static_cast<std::uint64_t>(calls);
}

// A counter of INFO stats, e.g. "total_reads_processed".
inline std::uint64_t statsCounter(const RedisServer& redis, const std::string& name) {
  const auto info = redis.command({"INFO", "stats"});
  checkOk(info, "INFO stats");
  const auto value = infoNumber(info.str, name + ":");
  if (value < 0) throw std::runtime_error("INFO stats has no " + name);
  return static_cast<std::uint64_t>(value);
}

inline std::int64_t pttl(const RedisServer& redis, const std::string& key) {
  return redis.command({"PTTL", key}).integer;
}

inline std::int64_t epochMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- waiting ---------------------------------------------------------------------------------------------

// Seeds the warm-up session and sends warm-up requests until one passes the session filter (bounded); false
// when none did within `limit`. Passing means anything but the filter's own refusals: the upstream may answer
// the warm-up path as it likes (a real app says 404).
inline bool awaitSessionStore(HttpClient& client, const RedisServer& redis,
                              std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const std::string id = newSessionId();
  seedSession(redis, std::string(kWarmupKeyPrefix) + id, expressSessionJson("warmup", "\"warmup\""));
  const std::vector<std::pair<std::string, std::string>> cookie{{"Cookie", expressCookie(id)}};
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const unsigned status = client.get(std::string(kWarmupPath), cookie).result_int();
    if (status != 401 && status != 403 && status != 503) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The requests the upstream received, warm-up requests left out, in arrival order.
inline std::vector<ReceivedRequest> appRequests(const TestUpstream& upstream) {
  std::vector<ReceivedRequest> requests;
  for (auto& request : upstream.requests()) {
    if (request.target != kWarmupPath) requests.push_back(std::move(request));
  }
  return requests;
}

// The "error" member of a JSON error body, or a description of what the body was instead.
inline std::string jsonError(const Response& response) {
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(response.body(), ec);
  if (ec || !body.is_object()) return "<not JSON: " + response.body() + ">";
  const boost::json::value* error = body.as_object().if_contains("error");
  if (error == nullptr || !error->is_string()) return "<no error member: " + response.body() + ">";
  return std::string(error->as_string());
}

// ---- one stack per test ----------------------------------------------------------------------------------

// A real redis-server, an upstream that records what it receives, and Gatehouse in process between a client
// and that upstream, configured with `routes_yaml` and `sessions_yaml` (plus the warm-up route and policy)
// against that Redis. Members are declared in the order they must start; they stop in reverse.
struct SessionStack {
  SessionStack(const std::string& routes_yaml, const std::string& sessions_yaml,
               const std::string& store_timeout = "500ms", const std::string& extra_yaml = "")
      : proxy(sessionConfig(upstream.address(), routes_yaml, sessions_yaml,
                            redisStoreYaml(redis, store_timeout) + extra_yaml)),
        client(proxy.port()) {}

  // Call first, inside ASSERT_TRUE: false when Gatehouse never got an answer from Redis.
  bool awaitStore() { return awaitSessionStore(client, redis); }

  // Seeds an express session for `username` (role: a JSON string or array text) and returns its Cookie value.
  std::string signIn(const std::string& username, const std::string& role_json,
                     std::chrono::milliseconds ttl = std::chrono::hours(1)) {
    const std::string id = newSessionId();
    seedSession(redis, "sess:" + id, expressSessionJson(username, role_json), ttl);
    last_session_key = "sess:" + id;
    return expressCookie(id);
  }

  Response get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return client.get(target, std::move(headers));
  }

  RedisServer redis;
  TestUpstream upstream;
  ProxyInstance proxy;
  HttpClient client;
  std::string last_session_key;  // the Redis key of the latest signIn()
};

}  // namespace gatehouse::testing::session
