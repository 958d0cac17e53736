#include "proxy/router.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace gatehouse::proxy {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "example.com:8080" → "example.com"; "[::1]:80" → "[::1]".
std::string_view hostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool pathMatches(const config::RouteMatch& match, std::string_view path) {
  switch (match.kind) {
    case config::RouteMatch::Kind::Exact:
      return path == match.path;
    case config::RouteMatch::Kind::Prefix:
      return path.starts_with(match.path);
    case config::RouteMatch::Kind::Regex:
      return match.regex && std::regex_match(path.begin(), path.end(), *match.regex);
  }
  return false;
}

}  // namespace

std::string_view targetPath(std::string_view target) {
  // Absolute-form ("http://host/path?q", RFC 9112 §3.2.2) is accepted from clients: route on its path.
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && equalsIgnoreCase(target.substr(0, scheme.size()), scheme)) {
      const auto slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  const auto query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

const config::Route* matchRoute(const std::vector<config::Route>& routes, const RouteRequest& request) {
  const auto host = hostWithoutPort(request.host);
  for (const auto& route : routes) {
    const auto& match = route.match;
    if (!match.methods.empty() &&
        std::find(match.methods.begin(), match.methods.end(), request.method) == match.methods.end()) {
      continue;
    }
    if (!match.host.empty() && !equalsIgnoreCase(match.host, host)) continue;
    if (pathMatches(match, request.path)) return &route;
  }
  return nullptr;
}

}  // namespace gatehouse::proxy
