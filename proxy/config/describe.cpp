// describeEffectiveConfig: the loaded Config written back as YAML that the loader accepts, with every default
// spelled out and secrets redacted, so `gatehouse --check` shows what will actually run.
#include <variant>

#include <yaml-cpp/yaml.h>

#include "proxy/config/address.h"
#include "proxy/config/loader.h"
#include "proxy/config/units.h"

namespace gatehouse::config {
namespace {

constexpr std::string_view kRedacted = "<redacted>";

// Emitted strings are read back through ${VAR} substitution, so a literal "${" must be written "$${".
std::string escaped(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 2) == "${") out += '$';
    out += text[i];
  }
  return out;
}

std::string formatAddress(const Address& address) {
  if (address.kind == Address::Kind::Unix) return "unix:" + address.path;
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

const char* toString(LogConfig::Access access) {
  switch (access) {
    case LogConfig::Access::Json:
      return "json";
    case LogConfig::Access::Text:
      return "text";
    case LogConfig::Access::Off:
      return "off";
  }
  return "json";
}

std::string toString(const RateLimitKeyPart& part) {
  using Kind = RateLimitKeyPart::Kind;
  switch (part.kind) {
    case Kind::Ip:
      return "ip";
    case Kind::Header:
      return "header:" + part.name;
    case Kind::Cookie:
      return "cookie:" + part.name;
    case Kind::SessionUser:
      return "session.user";
    case Kind::Route:
      return "route";
    case Kind::Method:
      return "method";
  }
  return "ip";
}

const char* toString(RateLimitStoreErrorPolicy policy) {
  switch (policy) {
    case RateLimitStoreErrorPolicy::Allow:
      return "allow";
    case RateLimitStoreErrorPolicy::Deny:
      return "deny";
    case RateLimitStoreErrorPolicy::Local:
      return "local";
  }
  return "allow";
}

// A thin layer over YAML::Emitter that escapes strings and formats units the way the loader reads them.
class Writer {
 public:
  YAML::Emitter& emitter() { return out_; }
  // Empty maps are written `{}` on the key's line rather than on a line of their own.
  void beginMap(std::string_view key, bool empty = false) {
    out_ << YAML::Key << std::string(key) << YAML::Value;
    if (empty) out_ << YAML::Flow;
    out_ << YAML::BeginMap;
  }
  // A map keyed by a name the user chose (a policy): quoted, so that "null" or "true" stay strings.
  void beginNamedMap(std::string_view name) {
    out_ << YAML::Key << YAML::DoubleQuoted << escaped(name) << YAML::Value << YAML::BeginMap;
  }
  void endMap() { out_ << YAML::EndMap; }
  void text(std::string_view key, std::string_view value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << escaped(value);
  }
  void namedText(std::string_view name, std::string_view value) {
    out_ << YAML::Key << YAML::DoubleQuoted << escaped(name) << YAML::Value << YAML::DoubleQuoted
         << escaped(value);
  }
  void word(std::string_view key, std::string_view value) {
    out_ << YAML::Key << std::string(key) << YAML::Value << std::string(value);
  }
  void number(std::string_view key, std::uint64_t value) { word(key, std::to_string(value)); }
  void boolean(std::string_view key, bool value) { word(key, value ? "true" : "false"); }
  void duration(std::string_view key, Duration value) { word(key, formatDuration(value)); }
  void size(std::string_view key, std::uint64_t value) { word(key, formatSize(value)); }
  void list(std::string_view key, const std::vector<std::string>& values) {
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& value : values) out_ << YAML::DoubleQuoted << escaped(value);
    out_ << YAML::EndSeq;
  }

 private:
  YAML::Emitter out_;
};

std::vector<std::string> cidrStrings(const std::vector<Cidr>& cidrs) {
  std::vector<std::string> out;
  for (const auto& cidr : cidrs) out.push_back(cidr.toString());
  return out;
}

void writeStore(Writer& w, const StoreConfig& store) {
  w.beginMap("store");
  w.word("type", store.type == StoreConfig::Type::Redis ? "redis" : "memory");
  w.text("url", formatRedisUrl(store.redis, true));
  w.duration("timeout", store.timeout);
  w.number("connections", static_cast<std::uint64_t>(store.connections));
  w.beginMap("tls");
  w.text("ca_file", store.tls.ca_file);
  w.text("cert_file", store.tls.cert_file);
  w.text("key_file", store.tls.key_file);
  w.boolean("verify", store.tls.verify);
  w.endMap();
  w.number("memory_max_keys", store.memory_max_keys);
  w.endMap();
}

void writeSession(Writer& w, const SessionPolicy& policy) {
  w.beginNamedMap(policy.name);
  w.text("cookie", policy.cookie);
  w.word("format", policy.format == SessionFormat::Express ? "express" : "plain");
  w.list("secrets", std::vector<std::string>(policy.secrets.size(), std::string(kRedacted)));
  w.text("key", policy.key);
  w.beginMap("identity");
  w.text("user", policy.user_pointer);
  w.text("roles", policy.roles_pointer);
  w.text("expires", policy.expires_pointer);
  w.endMap();
  w.beginMap("headers");
  w.text("user", policy.user_header);
  w.text("roles", policy.roles_header);
  w.endMap();
  w.boolean("rolling", policy.rolling);
  w.duration("touch_every", policy.touch_every);
  w.duration("ttl", policy.ttl);
  w.duration("cache", policy.cache);
  w.word("on_store_error", policy.on_store_error == SessionStoreErrorPolicy::Deny ? "deny" : "allow");
  w.text("login_url", policy.login_url);
  w.endMap();
}

void writeRateLimit(Writer& w, const RateLimitPolicy& policy) {
  w.beginNamedMap(policy.name);
  std::vector<std::string> key;
  for (const auto& part : policy.key) key.push_back(toString(part));
  w.list("key", key);
  auto& out = w.emitter();
  out << YAML::Key << "limits" << YAML::Value << YAML::BeginSeq;
  for (const auto& limit : policy.limits) {
    out << YAML::Flow << YAML::BeginMap;
    w.number("requests", limit.requests);
    w.duration("window", limit.window);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  w.word("algorithm",
         policy.algorithm == RateLimitAlgorithm::SlidingWindow ? "sliding_window" : "sliding_log");
  w.word("on_store_error", toString(policy.on_store_error));
  w.boolean("shadow", policy.shadow);
  std::vector<std::string> headers;
  if (policy.headers_x_ratelimit) headers.emplace_back("x-ratelimit");
  if (policy.headers_ietf) headers.emplace_back("ietf");
  w.list("headers", headers);
  w.list("allow", cidrStrings(policy.allow));
  w.endMap();
}

void writePairs(Writer& w, std::string_view key,
                const std::vector<std::pair<std::string, std::string>>& pairs) {
  w.beginMap(key, pairs.empty());
  for (const auto& [name, value] : pairs) w.namedText(name, value);
  w.endMap();
}

void writeHeaderOps(Writer& w, std::string_view key, const HeaderOps& ops) {
  w.beginMap(key);
  writePairs(w, "add", ops.add);
  writePairs(w, "set", ops.set);
  w.list("remove", ops.remove);
  w.endMap();
}

void writeFilter(Writer& w, const FilterConfig& filter) {
  auto& out = w.emitter();
  out << YAML::BeginMap;
  if (const auto* session = std::get_if<SessionFilterConfig>(&filter)) {
    w.beginMap("session");
    w.text("policy", session->policy);
    w.boolean("require", session->require);
    w.list("roles", session->roles);
    w.word("on_missing",
           session->on_missing == SessionFilterConfig::OnMissing::Unauthorized ? "unauthorized" : "redirect");
    w.endMap();
  } else if (const auto* rate_limit = std::get_if<RateLimitFilterConfig>(&filter)) {
    w.text("rate_limit", rate_limit->policy);
  } else if (const auto* headers = std::get_if<HeadersFilterConfig>(&filter)) {
    w.beginMap("headers");
    writeHeaderOps(w, "request", headers->request);
    writeHeaderOps(w, "response", headers->response);
    w.endMap();
  }
  out << YAML::EndMap;
}

void writeRoute(Writer& w, const Route& route) {
  auto& out = w.emitter();
  out << YAML::BeginMap;
  w.text("name", route.name);
  w.beginMap("match");
  switch (route.match.kind) {
    case RouteMatch::Kind::Prefix:
      w.text("prefix", route.match.path);
      break;
    case RouteMatch::Kind::Exact:
      w.text("exact", route.match.path);
      break;
    case RouteMatch::Kind::Regex:
      w.text("regex", route.match.path);
      break;
  }
  w.list("methods", route.match.methods);
  if (!route.match.host.empty()) w.text("host", route.match.host);
  w.endMap();
  if (route.body_bytes) w.size("body_bytes", *route.body_bytes);
  out << YAML::Key << "filters" << YAML::Value;
  if (route.filters.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const auto& filter : route.filters) writeFilter(w, filter);
  out << YAML::EndSeq;
  out << YAML::EndMap;
}

}  // namespace

std::string describeEffectiveConfig(const Config& config) {
  Writer w;
  auto& out = w.emitter();
  out << YAML::BeginMap;
  w.text("listen", formatAddress(config.listen));
  if (config.admin) w.text("admin", formatAddress(*config.admin));
  w.number("workers", static_cast<std::uint64_t>(config.workers));
  w.word("busy_poll", formatBusyPoll(config.busy_poll));
  w.list("trusted_proxies", cidrStrings(config.trusted_proxies));

  w.beginMap("upstream");
  w.text("address", formatAddress(config.upstream.address));
  w.duration("connect_timeout", config.upstream.connect_timeout);
  w.duration("response_timeout", config.upstream.response_timeout);
  w.number("max_idle", config.upstream.max_idle);
  w.duration("idle_timeout", config.upstream.idle_timeout);
  w.endMap();

  const LimitsConfig& limits = config.limits;
  w.beginMap("limits");
  w.size("header_bytes", limits.header_bytes);
  w.size("body_bytes", limits.body_bytes);
  w.size("uri_bytes", limits.uri_bytes);
  w.duration("header_timeout", limits.header_timeout);
  w.duration("idle_timeout", limits.idle_timeout);
  w.duration("drain_timeout", limits.drain_timeout);
  w.number("max_connections", limits.max_connections);
  w.endMap();

  w.beginMap("log");
  w.word("level", config.log.level);
  w.word("access", toString(config.log.access));
  w.endMap();

  writeStore(w, config.store);

  w.beginMap("sessions", config.sessions.empty());
  for (const auto& [name, policy] : config.sessions) writeSession(w, policy);
  w.endMap();
  w.beginMap("rate_limits", config.rate_limits.empty());
  for (const auto& [name, policy] : config.rate_limits) writeRateLimit(w, policy);
  w.endMap();

  out << YAML::Key << "routes" << YAML::Value;
  if (config.routes.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const auto& route : config.routes) writeRoute(w, route);
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace gatehouse::config
