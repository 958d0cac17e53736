// Parsers for the two kinds of endpoint a config names: listen/upstream addresses and the Redis store URL.
#pragma once

#include <string>
#include <string_view>

#include "proxy/config/config.h"
#include "proxy/config/parse_result.h"

namespace gatehouse::config {

enum class PortZero {
  Allowed,   // listeners: port 0 asks the kernel for a free port (tests use it)
  Rejected,  // upstreams: nothing can be reached on port 0
};

// "host:port", "[ipv6]:port" or "unix:/path". The host is an IP literal or a DNS name; names are resolved
// later.
ParseResult<Address> parseAddress(std::string_view text, PortZero port_zero);

// redis://[user:password@]host[:port][/db], rediss://... (TLS), or unix:///path[?db=N]. User and password may
// be percent-encoded (%40 for '@'); the port defaults to 6379 and the db to 0.
ParseResult<RedisUrl> parseRedisUrl(std::string_view text);

// The canonical form of a parsed URL; with redact_password the password reads "<redacted>" (still a valid
// URL).
std::string formatRedisUrl(const RedisUrl& url, bool redact_password);

}  // namespace gatehouse::config
