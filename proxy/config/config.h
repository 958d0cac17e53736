// The parsed, validated configuration. Built once by the loader (loader.h) and shared, immutable, by every
// worker and every request as std::shared_ptr<const Config>. Nothing here is parsed again on the request
// path: durations are chrono values, sizes are byte counts, CIDRs and regexes are compiled.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "proxy/config/cidr.h"

namespace gatehouse::config {

using Duration = std::chrono::milliseconds;
using namespace std::chrono_literals;

// A place to listen on or connect to: "host:port" (host may be an IPv4/IPv6 literal in [..] or a name) or
// "unix:/path".
struct Address {
  enum class Kind { Tcp, Unix };
  Kind kind = Kind::Tcp;
  std::string host;   // Tcp only; IPv6 without brackets
  uint16_t port = 0;  // Tcp only
  std::string path;   // Unix only
  std::string text;   // as written, after ${VAR} substitution (for logs and --check)
};

struct UpstreamConfig {
  Address address;
  Duration connect_timeout = 2s;    // exceeded → 502
  Duration response_timeout = 30s;  // until the response header arrives; exceeded → 504
  std::size_t max_idle = 64;        // idle kept-alive connections per worker
  Duration idle_timeout = 60s;      // an idle pooled connection older than this is closed
};

struct LimitsConfig {
  std::size_t header_bytes = 16 * 1024;    // request line + headers; exceeded → 431
  std::uint64_t body_bytes = 10ull << 20;  // default per route; exceeded → 413
  std::size_t uri_bytes = 8 * 1024;        // request target; exceeded → 414
  Duration header_timeout = 10s;           // time to receive a whole request header; exceeded → 408 + close
  Duration idle_timeout = 60s;             // keep-alive connection with no request in progress
  Duration drain_timeout = 15s;            // on SIGTERM, how long in-flight requests may take
  std::size_t max_connections = 10000;     // per worker; further accepts are closed at once
};

struct LogConfig {
  enum class Access { Json, Text, Off };
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
  Access access = Access::Json;
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool verify = true;
};

// A parsed store.url.
struct RedisUrl {
  bool tls = false;          // rediss://
  bool unix_socket = false;  // unix:///path
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string path;  // unix socket path
  std::string user;  // ACL user; empty → legacy AUTH <password> when password is set
  std::string password;
  int db = 0;

  bool operator==(const RedisUrl&) const = default;
};

struct StoreConfig {
  enum class Type { Redis, Memory };
  Type type = Type::Memory;
  std::string url = "redis://127.0.0.1:6379/0";  // as written (password redacted by --check)
  RedisUrl redis;                                // parsed from url
  Duration timeout = 50ms;                       // per command
  int connections = 1;                           // per worker
  TlsConfig tls;
  std::size_t memory_max_keys =
      1'000'000;  // memory store: cap on keys (sessions + counters), LRU-evicted past it
};

// ---- sessions
// ------------------------------------------------------------------------------------------------

enum class SessionFormat { Express, Plain };
enum class SessionStoreErrorPolicy { Deny, Allow };

struct SessionPolicy {
  std::string name;
  std::string cookie = "connect.sid";
  SessionFormat format = SessionFormat::Express;
  std::vector<std::string> secrets;             // express: first signs, any verifies
  std::string key = "sess:{id}";                // Redis key template; {id} is replaced by the session id
  std::string user_pointer = "/user/username";  // JSON pointers into the stored value
  std::string roles_pointer = "/user/role";
  std::string expires_pointer;  // optional; epoch ms or ISO-8601
  std::string user_header = "X-User";
  std::string roles_header = "X-User-Roles";
  bool rolling = false;
  Duration touch_every = 60s;
  Duration ttl =
      24h;  // the TTL a rolling refresh sets (express-session: cookie.maxAge; the seed: SESSION_TTL)
  Duration cache = 0ms;
  SessionStoreErrorPolicy on_store_error = SessionStoreErrorPolicy::Deny;
  std::string login_url = "/login?next={path}";
};

// ---- rate limits
// ---------------------------------------------------------------------------------------------

enum class RateLimitAlgorithm { SlidingWindow, SlidingLog };
enum class RateLimitStoreErrorPolicy { Allow, Deny, Local };

struct RateLimitKeyPart {
  enum class Kind { Ip, Header, Cookie, SessionUser, Route, Method };
  Kind kind = Kind::Ip;
  std::string name;  // Header / Cookie only
};

struct WindowLimit {
  std::uint64_t requests = 0;
  Duration window = 0ms;
};

struct RateLimitPolicy {
  std::string name;
  std::vector<RateLimitKeyPart> key{RateLimitKeyPart{}};
  std::vector<WindowLimit> limits;
  RateLimitAlgorithm algorithm = RateLimitAlgorithm::SlidingWindow;
  RateLimitStoreErrorPolicy on_store_error = RateLimitStoreErrorPolicy::Allow;
  bool shadow = false;
  bool headers_x_ratelimit = true;  // X-RateLimit-Limit / -Remaining / -Reset
  bool headers_ietf = false;        // RateLimit-Policy / RateLimit
  std::vector<Cidr> allow;          // never limited
};

// ---- routes and filters
// ----------------------------------------------------------------------------------------

struct RouteMatch {
  enum class Kind { Prefix, Exact, Regex };
  Kind kind = Kind::Prefix;
  std::string path;                         // the prefix, the exact path, or the regex source
  std::shared_ptr<const std::regex> regex;  // Kind::Regex only; matched against the whole path (no query)
  std::vector<std::string> methods;         // upper case; empty = any
  std::string host;                         // lower case, without port; empty = any
};

struct HeaderOps {
  std::vector<std::pair<std::string, std::string>> add;  // appended (a second field when one exists)
  std::vector<std::pair<std::string, std::string>> set;  // replaces every field of that name
  std::vector<std::string> remove;
};

struct SessionFilterConfig {
  enum class OnMissing { Unauthorized, Redirect };
  std::string policy;  // a key of Config::sessions (checked at load)
  bool require = true;
  std::vector<std::string> roles;  // any one of them admits; empty = any authenticated user
  OnMissing on_missing = OnMissing::Unauthorized;
};

struct RateLimitFilterConfig {
  std::string policy;  // a key of Config::rate_limits (checked at load)
};

struct HeadersFilterConfig {
  HeaderOps request;
  HeaderOps response;
};

using FilterConfig = std::variant<SessionFilterConfig, RateLimitFilterConfig, HeadersFilterConfig>;

struct Route {
  std::string name;
  RouteMatch match;
  std::optional<std::uint64_t> body_bytes;  // overrides limits.body_bytes
  std::vector<FilterConfig> filters;        // in order
};

// How a worker waits when it has nothing to do (proxy/event_loop.h says why it would poll at all).
struct BusyPoll {
  enum class Mode {
    Off,       // it sleeps in epoll at once
    Fixed,     // it polls for `time` after its last event, then sleeps
    Adaptive,  // "auto": it polls only as long as recent waits lasted, up to `time` (kAdaptiveBusyPollMax)
  };
  Mode mode = Mode::Adaptive;
  std::chrono::microseconds time{100};
  bool operator==(const BusyPoll&) const = default;
};

// The most `busy_poll: auto` polls: about two loopback round trips on the machines measured in
// bench/README.md.
inline constexpr std::chrono::microseconds kAdaptiveBusyPollMax{100};

struct Config {
  Address listen;                // default 0.0.0.0:8080
  std::optional<Address> admin;  // absent → no admin listener
  int workers = 0;               // resolved: "auto" becomes the number of cores at load
  BusyPoll busy_poll;
  std::vector<Cidr> trusted_proxies;
  UpstreamConfig upstream;
  LimitsConfig limits;
  LogConfig log;
  StoreConfig store;
  std::map<std::string, SessionPolicy> sessions;
  std::map<std::string, RateLimitPolicy> rate_limits;
  std::vector<Route> routes;
};

}  // namespace gatehouse::config
