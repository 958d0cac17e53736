#include <boost/beast/core/string.hpp>

#include "proxy/config/http_syntax.h"
#include "proxy/config/section_readers.h"

namespace gatehouse::config {
namespace {

constexpr std::uint64_t kMaxRequestsPerWindow = 1'000'000'000;

void readIdentityHeaderName(MapReader& map, std::string_view key, std::string& out) {
  const auto* node = map.find(key);
  if (node == nullptr) return;
  auto value = map.reader().string(*node, map.pathOf(key), "a header name");
  if (!value) return;
  if (!isHttpToken(*value)) {
    map.reader().error(*node, map.pathOf(key), "\"" + *value + "\" is not a valid header name");
  } else if (isFramingHeader(*value) || boost::beast::iequals(*value, "Host") ||
             boost::beast::iequals(*value, "Cookie")) {
    // The filter strips the client's copies of this header and writes the verified identity in their place:
    // on a framing field that would reframe the request (a smuggled second request in the body), on Host or
    // Cookie it would take away how the app routes the request or reads its own cookies.
    map.reader().error(*node, map.pathOf(key),
                       "\"" + *value +
                           "\" cannot carry the identity: Gatehouse strips and rewrites it (use a header "
                           "of your own, such as X-User)");
  } else {
    out = std::move(*value);
  }
}

void readJsonPointer(MapReader& map, std::string_view key, std::string& out, bool allow_empty) {
  const auto* node = map.find(key);
  if (node == nullptr) return;
  auto value = map.reader().string(*node, map.pathOf(key), "a JSON pointer");
  if (!value) return;
  if (value->empty() && !allow_empty) {
    map.reader().error(*node, map.pathOf(key), "must not be empty (a JSON pointer such as /user/name)");
  } else if (!isJsonPointer(*value)) {
    map.reader().error(*node, map.pathOf(key),
                       "\"" + *value + "\" is not a JSON pointer (it starts with '/', e.g. /user/name)");
  } else {
    out = std::move(*value);
  }
}

void readSecrets(MapReader& map, SessionPolicy& policy) {
  const auto* node = map.find("secrets");
  bool any_listed = false;
  if (node != nullptr) {
    map.reader().forEach(*node, map.pathOf("secrets"),
                         [&](const YAML::Node& element, const std::string& path) {
                           any_listed = true;
                           auto secret = map.reader().string(element, path, "a secret");
                           if (!secret) return;
                           if (secret->empty()) {
                             map.reader().error(element, path, "a secret must not be empty");
                             return;
                           }
                           policy.secrets.push_back(std::move(*secret));
                         });
  }
  if (policy.format == SessionFormat::Express && !any_listed) {
    map.reader().error(node != nullptr ? *node : map.node(), map.pathOf("secrets"),
                       "format express needs at least one secret to verify cookie signatures");
  }
}

SessionPolicy readSessionPolicy(YamlReader& reader, const YAML::Node& node, const std::string& path,
                                std::string name) {
  SessionPolicy policy;
  policy.name = std::move(name);
  MapReader map(reader, node, path,
                {"cookie", "format", "secrets", "key", "identity", "headers", "rolling", "touch_every", "ttl",
                 "cache", "on_store_error", "login_url"});
  if (const auto* cookie = map.find("cookie")) {
    if (auto value = reader.string(*cookie, map.pathOf("cookie"), "a cookie name")) {
      if (isHttpToken(*value)) {
        policy.cookie = std::move(*value);
      } else {
        reader.error(*cookie, map.pathOf("cookie"), "\"" + *value + "\" is not a valid cookie name");
      }
    }
  }
  map.readChoice(
      "format", policy.format,
      Choices<SessionFormat>{{"express", SessionFormat::Express}, {"plain", SessionFormat::Plain}});
  readSecrets(map, policy);
  if (const auto* key = map.find("key")) {
    if (auto value = reader.string(*key, map.pathOf("key"), "a key template")) {
      if (value->find("{id}") != std::string::npos) {
        policy.key = std::move(*value);
      } else {
        reader.error(*key, map.pathOf("key"),
                     "\"" + *value + "\" lacks {id}, so every session would share one key");
      }
    }
  }
  if (const auto* identity_node = map.find("identity")) {
    MapReader identity(reader, *identity_node, map.pathOf("identity"), {"user", "roles", "expires"});
    readJsonPointer(identity, "user", policy.user_pointer, false);
    readJsonPointer(identity, "roles", policy.roles_pointer, false);
    readJsonPointer(identity, "expires", policy.expires_pointer, true);
  }
  if (const auto* headers_node = map.find("headers")) {
    MapReader headers(reader, *headers_node, map.pathOf("headers"), {"user", "roles"});
    readIdentityHeaderName(headers, "user", policy.user_header);
    readIdentityHeaderName(headers, "roles", policy.roles_header);
    if (boost::beast::iequals(policy.user_header, policy.roles_header)) {
      reader.error(*headers_node, map.pathOf("headers"),
                   "user and roles name the same header \"" + policy.user_header +
                       "\"; the roles would overwrite the user");
    }
  }
  map.read("rolling", policy.rolling);
  map.readDuration("touch_every", policy.touch_every);
  map.readDuration("ttl", policy.ttl, 1s);
  map.readDuration("cache", policy.cache);
  map.readChoice("on_store_error", policy.on_store_error,
                 Choices<SessionStoreErrorPolicy>{{"deny", SessionStoreErrorPolicy::Deny},
                                                  {"allow", SessionStoreErrorPolicy::Allow}});
  if (const auto* login = map.find("login_url")) {
    if (auto value = reader.string(*login, map.pathOf("login_url"), "a URL")) {
      if (!value->empty() && isSafeHeaderValue(*value)) {
        policy.login_url = std::move(*value);
      } else {
        reader.error(*login, map.pathOf("login_url"), "must be a non-empty URL without line breaks");
      }
    }
  }
  return policy;
}

std::optional<RateLimitKeyPart> parseKeyPart(const std::string& text) {
  using Kind = RateLimitKeyPart::Kind;
  if (text == "ip") return RateLimitKeyPart{Kind::Ip, {}};
  if (text == "session.user") return RateLimitKeyPart{Kind::SessionUser, {}};
  if (text == "route") return RateLimitKeyPart{Kind::Route, {}};
  if (text == "method") return RateLimitKeyPart{Kind::Method, {}};
  for (const auto& [prefix, kind] : {std::pair{std::string_view("header:"), Kind::Header},
                                     std::pair{std::string_view("cookie:"), Kind::Cookie}}) {
    if (text.starts_with(prefix) && isHttpToken(std::string_view(text).substr(prefix.size()))) {
      return RateLimitKeyPart{kind, text.substr(prefix.size())};
    }
  }
  return std::nullopt;
}

void readKeyParts(MapReader& map, RateLimitPolicy& policy) {
  const auto* node = map.find("key");
  if (node == nullptr) return;
  std::vector<RateLimitKeyPart> parts;
  bool all_valid = true;
  map.reader().forEach(*node, map.pathOf("key"), [&](const YAML::Node& element, const std::string& path) {
    if (element.IsMap()) {
      // `[header: X-Api-Key]` is YAML for a map; the key part is the string "header:X-Api-Key".
      map.reader().error(element, path,
                         "expected a key part string such as \"header:X-Api-Key\" (no space after ':')");
      all_valid = false;
      return;
    }
    auto text = map.reader().string(element, path, "a key part");
    auto part = text ? parseKeyPart(*text) : std::nullopt;
    if (text && !part) {
      map.reader().error(
          element, path,
          "unknown key part \"" + *text +
              "\"; expected one of: ip, header:NAME, cookie:NAME, session.user, route, method" +
              didYouMean(*text, {"ip", "session.user", "route", "method"}));
    }
    if (part) {
      parts.push_back(std::move(*part));
    } else {
      all_valid = false;
    }
  });
  if (all_valid && parts.empty()) {
    map.reader().error(*node, map.pathOf("key"),
                       "needs at least one part (use [route] for one counter per route)");
  }
  if (all_valid && !parts.empty()) policy.key = std::move(parts);
}

void readWindowLimits(MapReader& map, RateLimitPolicy& policy) {
  if (!map.require("limits")) return;
  const auto& node = *map.find("limits");
  map.reader().forEach(node, map.pathOf("limits"), [&](const YAML::Node& element, const std::string& path) {
    MapReader limit(map.reader(), element, path, {"requests", "window"});
    WindowLimit window_limit;
    const bool has_requests = limit.require("requests");
    const bool has_window = limit.require("window");
    limit.readCount("requests", window_limit.requests, 1, kMaxRequestsPerWindow);
    limit.readDuration("window", window_limit.window, 1ms);
    if (has_requests && has_window && window_limit.requests > 0 && window_limit.window > 0ms)
      policy.limits.push_back(window_limit);
  });
  if (node.IsNull() || (node.IsSequence() && node.size() == 0)) {
    map.reader().error(node, map.pathOf("limits"), "needs at least one {requests, window} limit");
  }
}

RateLimitPolicy readRateLimitPolicy(YamlReader& reader, const YAML::Node& node, const std::string& path,
                                    std::string name) {
  RateLimitPolicy policy;
  policy.name = std::move(name);
  MapReader map(reader, node, path,
                {"key", "limits", "algorithm", "on_store_error", "shadow", "headers", "allow"});
  readKeyParts(map, policy);
  readWindowLimits(map, policy);
  map.readChoice("algorithm", policy.algorithm,
                 Choices<RateLimitAlgorithm>{{"sliding_window", RateLimitAlgorithm::SlidingWindow},
                                             {"sliding_log", RateLimitAlgorithm::SlidingLog}});
  map.readChoice("on_store_error", policy.on_store_error,
                 Choices<RateLimitStoreErrorPolicy>{{"allow", RateLimitStoreErrorPolicy::Allow},
                                                    {"deny", RateLimitStoreErrorPolicy::Deny},
                                                    {"local", RateLimitStoreErrorPolicy::Local}});
  map.read("shadow", policy.shadow);
  if (const auto* headers = map.find("headers")) {
    // Listing the header families replaces the default: `headers: []` sends none.
    enum class Family { XRateLimit, Ietf };
    bool x_ratelimit = false;
    bool ietf = false;
    bool all_valid = true;
    reader.forEach(
        *headers, map.pathOf("headers"), [&](const YAML::Node& element, const std::string& element_path) {
          auto family =
              reader.choice(element, element_path,
                            Choices<Family>{{"x-ratelimit", Family::XRateLimit}, {"ietf", Family::Ietf}});
          if (!family) all_valid = false;
          if (family == Family::XRateLimit) x_ratelimit = true;
          if (family == Family::Ietf) ietf = true;
        });
    if (all_valid && (headers->IsSequence() || headers->IsNull())) {
      policy.headers_x_ratelimit = x_ratelimit;
      policy.headers_ietf = ietf;
    }
  }
  if (const auto* allow = map.find("allow")) policy.allow = readCidrList(reader, *allow, map.pathOf("allow"));
  return policy;
}

}  // namespace

void readSessionPolicies(YamlReader& reader, const YAML::Node& node, const std::string& path,
                         std::map<std::string, SessionPolicy>& sessions) {
  reader.forEachEntry(node, path,
                      [&](const YAML::Node& key, const YAML::Node& value, const std::string& entry_path) {
                        if (!checkPlainName(reader, key, entry_path, key.Scalar())) return;
                        sessions[key.Scalar()] = readSessionPolicy(reader, value, entry_path, key.Scalar());
                      });
}

void readRateLimitPolicies(YamlReader& reader, const YAML::Node& node, const std::string& path,
                           std::map<std::string, RateLimitPolicy>& rate_limits) {
  reader.forEachEntry(
      node, path, [&](const YAML::Node& key, const YAML::Node& value, const std::string& entry_path) {
        if (!checkPlainName(reader, key, entry_path, key.Scalar())) return;
        rate_limits[key.Scalar()] = readRateLimitPolicy(reader, value, entry_path, key.Scalar());
      });
}

}  // namespace gatehouse::config
