// Picks the route for a request: the first route whose match accepts the path, method and host. Pure, no I/O.
#pragma once

#include <string_view>
#include <vector>

#include "proxy/config/config.h"

namespace gatehouse::proxy {

struct RouteRequest {
  std::string_view path;    // the target's path, without the query
  std::string_view method;  // as sent (upper case for standard methods)
  std::string_view host;    // the Host header, may carry a port; compared case-insensitively without it
};

// Returns the first matching route of `routes`, or nullptr (the proxy answers 404).
const config::Route* matchRoute(const std::vector<config::Route>& routes, const RouteRequest& request);

// The path part of a request target ("/a/b?x=1" → "/a/b").
std::string_view targetPath(std::string_view target);

}  // namespace gatehouse::proxy
