// The identity headers (X-User, X-User-Roles by default) tell the application who the verified user is. Only
// Gatehouse may set them: a client that sends one could otherwise claim any identity on a route without a
// session filter, or reach an application that trusts them. The proxy core strips the configured names from
// every request on every route; the session filter strips them again before it sets the verified values.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "filters/filter.h"
#include "proxy/config/config.h"

namespace gatehouse::filters {

// True when `field` names the same header as `name`: ASCII case-insensitive, '_' equal to '-' (several
// servers and CGI-style frameworks map X_User to X-User, so it must not slip through).
bool isSameHeaderName(std::string_view field, std::string_view name);

// Removes every field of the request whose name matches one of `names` (see isSameHeaderName). Returns how
// many went: when none did, views into the request's other fields taken before are still good.
std::size_t stripIdentityHeaders(RequestHeader& request, std::span<const std::string> names);

// The user and roles header names of every session policy, without repeats: what the core strips on every
// route.
std::vector<std::string> identityHeaderNames(const config::Config& config);

// Sets the verified identity: the user header, and the roles header (comma-separated) when there are roles.
void setIdentityHeaders(RequestHeader& request, const config::SessionPolicy& policy, std::string_view user,
                        std::span<const std::string> roles);

}  // namespace gatehouse::filters
