#include <algorithm>
#include <cctype>
#include <regex>

#include "proxy/config/http_syntax.h"
#include "proxy/config/section_readers.h"

namespace gatehouse::config {
namespace {

template <typename Value>
std::vector<std::string> namesOf(const std::map<std::string, Value>& policies) {
  std::vector<std::string> names;
  for (const auto& [name, policy] : policies) names.push_back(name);
  return names;
}

// Checks that a filter's `policy` names a defined policy of the given kind ("session", "rate-limit").
template <typename Value>
std::optional<std::string> readPolicyReference(YamlReader& reader, const YAML::Node& node,
                                               const std::string& path,
                                               const std::map<std::string, Value>& policies,
                                               std::string_view kind) {
  auto name = reader.string(node, path, "a policy name");
  if (!name) return std::nullopt;
  if (policies.contains(*name)) return name;
  const auto names = namesOf(policies);
  std::string message =
      "unknown " + std::string(kind) + " policy \"" + *name + "\"" + didYouMean(*name, names);
  message += names.empty() ? " (none is defined)" : " (defined: " + joinNames(names) + ")";
  reader.error(node, path, std::move(message));
  return std::nullopt;
}

std::string toLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string toUpper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

void readPathPattern(YamlReader& reader, const YAML::Node& node, const std::string& path, RouteMatch& match) {
  auto text = reader.string(node, path, "a path");
  if (!text) return;
  if (match.kind == RouteMatch::Kind::Regex) {
    try {
      match.regex = std::make_shared<const std::regex>(*text, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      reader.error(node, path, "invalid regular expression \"" + *text + "\": " + e.what());
      return;
    }
  } else if (text->empty() || text->front() != '/') {
    reader.error(node, path, "\"" + *text + "\" must start with '/'");
    return;
  }
  match.path = std::move(*text);
}

void readMatch(YamlReader& reader, const YAML::Node& node, const std::string& path, RouteMatch& match) {
  MapReader map(reader, node, path, {"prefix", "exact", "regex", "methods", "host"});
  if (!map.isMap()) return;
  const std::vector<std::pair<std::string, RouteMatch::Kind>> kinds{{"prefix", RouteMatch::Kind::Prefix},
                                                                    {"exact", RouteMatch::Kind::Exact},
                                                                    {"regex", RouteMatch::Kind::Regex}};
  int present = 0;
  for (const auto& [key, kind] : kinds) {
    if (map.find(key) == nullptr) continue;
    if (++present == 1) {
      match.kind = kind;
      readPathPattern(reader, *map.find(key), map.pathOf(key), match);
    }
  }
  if (present != 1) {
    reader.error(node, path,
                 present == 0 ? "needs one of prefix, exact or regex"
                              : "has more than one of prefix, exact and regex; a match takes exactly one");
  }
  if (const auto* methods = map.find("methods")) {
    reader.forEach(*methods, map.pathOf("methods"),
                   [&](const YAML::Node& element, const std::string& element_path) {
                     auto method = reader.string(element, element_path, "an HTTP method");
                     if (!method) return;
                     if (isHttpToken(*method)) {
                       match.methods.push_back(toUpper(std::move(*method)));
                     } else {
                       reader.error(element, element_path, "\"" + *method + "\" is not a valid HTTP method");
                     }
                   });
  }
  if (const auto* host = map.find("host")) {
    auto value = reader.string(*host, map.pathOf("host"), "a host name");
    if (value) {
      const bool has_port = value->find(':') != std::string::npos && value->front() != '[';
      if (value->empty() || has_port || !isSafeHeaderValue(*value) || value->find('/') != std::string::npos) {
        reader.error(*host, map.pathOf("host"),
                     "\"" + *value + "\" is not a host name (write it without a port)");
      } else {
        match.host = toLower(std::move(*value));
      }
    }
  }
}

// A name the headers filter may add, set or remove: a valid token that is not one of the framing fields the
// proxy writes itself.
bool checkEditableHeaderName(YamlReader& reader, const YAML::Node& node, const std::string& path,
                             const std::string& name) {
  if (!isHttpToken(name)) {
    reader.error(node, path, "\"" + name + "\" is not a valid header name");
    return false;
  }
  if (isFramingHeader(name)) {
    reader.error(node, path,
                 "\"" + name +
                     "\" frames the message or the connection; Gatehouse writes it itself and a "
                     "config may not edit it");
    return false;
  }
  return true;
}

void readHeaderPairs(YamlReader& reader, const YAML::Node& node, const std::string& path,
                     std::vector<std::pair<std::string, std::string>>& out) {
  reader.forEachEntry(node, path,
                      [&](const YAML::Node& key, const YAML::Node& value, const std::string& entry_path) {
                        const std::string& name = key.Scalar();
                        if (!checkEditableHeaderName(reader, key, entry_path, name)) return;
                        auto text = reader.string(value, entry_path, "a header value");
                        if (!text) return;
                        if (!isSafeHeaderValue(*text)) {
                          reader.error(value, entry_path, "a header value must not contain CR, LF or NUL");
                          return;
                        }
                        out.emplace_back(name, std::move(*text));
                      });
}

HeaderOps readHeaderOps(YamlReader& reader, const YAML::Node& node, const std::string& path) {
  HeaderOps ops;
  MapReader map(reader, node, path, {"add", "set", "remove"});
  if (const auto* add = map.find("add")) readHeaderPairs(reader, *add, map.pathOf("add"), ops.add);
  if (const auto* set = map.find("set")) readHeaderPairs(reader, *set, map.pathOf("set"), ops.set);
  if (const auto* remove = map.find("remove")) {
    reader.forEach(*remove, map.pathOf("remove"),
                   [&](const YAML::Node& element, const std::string& element_path) {
                     auto name = reader.string(element, element_path, "a header name");
                     if (name && checkEditableHeaderName(reader, element, element_path, *name)) {
                       ops.remove.push_back(std::move(*name));
                     }
                   });
  }
  return ops;
}

std::optional<FilterConfig> readSessionFilter(YamlReader& reader, const YAML::Node& node,
                                              const std::string& path, const Config& config) {
  MapReader map(reader, node, path, {"policy", "require", "roles", "on_missing"});
  SessionFilterConfig filter;
  std::optional<std::string> policy;
  if (map.require("policy")) {
    policy =
        readPolicyReference(reader, *map.find("policy"), map.pathOf("policy"), config.sessions, "session");
  }
  map.read("require", filter.require);
  if (const auto* roles = map.find("roles")) {
    reader.forEach(*roles, map.pathOf("roles"),
                   [&](const YAML::Node& element, const std::string& element_path) {
                     auto role = reader.string(element, element_path, "a role");
                     if (!role) return;
                     if (role->empty()) {
                       reader.error(element, element_path, "a role must not be empty");
                     } else {
                       filter.roles.push_back(std::move(*role));
                     }
                   });
  }
  map.readChoice(
      "on_missing", filter.on_missing,
      Choices<SessionFilterConfig::OnMissing>{{"unauthorized", SessionFilterConfig::OnMissing::Unauthorized},
                                              {"redirect", SessionFilterConfig::OnMissing::Redirect}});
  if (!policy) return std::nullopt;
  filter.policy = std::move(*policy);
  return filter;
}

// `rate_limit: per_client`, or the long form `rate_limit: {policy: per_client}`.
std::optional<FilterConfig> readRateLimitFilter(YamlReader& reader, const YAML::Node& node,
                                                const std::string& path, const Config& config) {
  if (node.IsMap()) {
    MapReader map(reader, node, path, {"policy"});
    if (!map.require("policy")) return std::nullopt;
    auto policy = readPolicyReference(reader, *map.find("policy"), map.pathOf("policy"), config.rate_limits,
                                      "rate-limit");
    if (!policy) return std::nullopt;
    return RateLimitFilterConfig{std::move(*policy)};
  }
  auto policy = readPolicyReference(reader, node, path, config.rate_limits, "rate-limit");
  if (!policy) return std::nullopt;
  return RateLimitFilterConfig{std::move(*policy)};
}

std::optional<FilterConfig> readHeadersFilter(YamlReader& reader, const YAML::Node& node,
                                              const std::string& path) {
  MapReader map(reader, node, path, {"request", "response"});
  HeadersFilterConfig filter;
  if (const auto* request = map.find("request")) {
    filter.request = readHeaderOps(reader, *request, map.pathOf("request"));
  }
  if (const auto* response = map.find("response")) {
    filter.response = readHeaderOps(reader, *response, map.pathOf("response"));
  }
  return filter;
}

// A filter is a map with a single key, its name: `- session: {...}`.
void readFilter(YamlReader& reader, const YAML::Node& node, const std::string& path, const Config& config,
                Route& route) {
  static const std::vector<std::string> kFilterNames{"session", "rate_limit", "headers"};
  if (!node.IsMap() || node.size() != 1) {
    reader.error(node, path,
                 "a filter is a map with one key, its name (" + joinNames(kFilterNames) + "), found " +
                     (node.IsMap() ? "a map with " + std::to_string(node.size()) + " keys"
                                   : YamlReader::describe(node)));
    return;
  }
  // Copies, not references: yaml-cpp iterators yield a temporary pair.
  const YAML::Node name_node = node.begin()->first;
  const YAML::Node settings = node.begin()->second;
  const std::string name = name_node.IsScalar() ? name_node.Scalar() : std::string{};
  const std::string settings_path = childPath(path, name);
  std::optional<FilterConfig> filter;
  if (name == "session") {
    filter = readSessionFilter(reader, settings, settings_path, config);
  } else if (name == "rate_limit") {
    filter = readRateLimitFilter(reader, settings, settings_path, config);
  } else if (name == "headers") {
    filter = readHeadersFilter(reader, settings, settings_path);
  } else {
    reader.error(name_node, settings_path,
                 "unknown filter \"" + name + "\"" + didYouMean(name, kFilterNames) +
                     " (known filters: " + joinNames(kFilterNames) + ")");
  }
  if (filter) route.filters.push_back(std::move(*filter));
}

Route readRoute(YamlReader& reader, const YAML::Node& node, const std::string& path, std::size_t index,
                const Config& config) {
  Route route;
  route.name = "route-" + std::to_string(index);
  MapReader map(reader, node, path, {"name", "match", "body_bytes", "filters"});
  if (const auto* name = map.find("name")) {
    if (auto value = reader.string(*name, map.pathOf("name"), "a route name")) {
      if (checkPlainName(reader, *name, map.pathOf("name"), *value)) route.name = std::move(*value);
    }
  }
  if (map.require("match")) readMatch(reader, *map.find("match"), map.pathOf("match"), route.match);
  if (const auto* body = map.find("body_bytes")) {
    route.body_bytes = reader.size(*body, map.pathOf("body_bytes"), 0);
  }
  if (const auto* filters = map.find("filters")) {
    reader.forEach(*filters, map.pathOf("filters"),
                   [&](const YAML::Node& element, const std::string& element_path) {
                     readFilter(reader, element, element_path, config, route);
                   });
  }
  return route;
}

}  // namespace

void readRoutes(YamlReader& reader, const YAML::Node& node, const std::string& path, Config& config) {
  std::map<std::string, std::string> first_use;  // route name → the path of the route that took it
  std::size_t index = 0;
  reader.forEach(node, path, [&](const YAML::Node& element, const std::string& element_path) {
    Route route = readRoute(reader, element, element_path, index++, config);
    const auto [existing, inserted] = first_use.emplace(route.name, element_path);
    if (!inserted) {
      // Point at the `name:` value when there is one; an unnamed route collides through its generated name.
      const YAML::Node name_node = element.IsMap() ? element["name"] : YAML::Node();
      reader.error(name_node.IsDefined() ? name_node : element, childPath(element_path, "name"),
                   "duplicate route name \"" + route.name + "\" (already used by " + existing->second + ")");
      return;
    }
    config.routes.push_back(std::move(route));
  });
}

}  // namespace gatehouse::config
