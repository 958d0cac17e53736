#include "proxy/config/address.h"

#include <algorithm>
#include <limits>

#include <boost/asio/ip/address.hpp>

#include "proxy/config/units.h"

namespace gatehouse::config {
namespace {

constexpr std::uint16_t kDefaultRedisPort = 6379;
constexpr std::string_view kRedactedPassword = "<redacted>";

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool isDnsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

// Checks a host that is not in brackets: an IPv4 literal or a DNS name.
std::string hostError(std::string_view host) {
  if (host.empty()) return "missing host";
  if (host.find(':') != std::string_view::npos) {
    return "IPv6 addresses need brackets, e.g. [" + std::string(host) + "]:8080";
  }
  if (!std::all_of(host.begin(), host.end(), isDnsNameChar))
    return quoted(host) + " is not a valid host name";
  const bool looks_numeric =
      std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (looks_numeric) {
    boost::system::error_code ec;
    boost::asio::ip::make_address_v4(std::string(host), ec);
    if (ec) return quoted(host) + " is not a valid IPv4 address";
  }
  return {};
}

std::string bracketedHostError(std::string_view host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address_v6(std::string(host), ec);
  return ec ? quoted(host) + " is not a valid IPv6 address" : std::string{};
}

ParseResult<std::uint16_t> parsePort(std::string_view text, PortZero port_zero) {
  const auto number = parseUnsigned(text);
  if (!number) return ParseResult<std::uint16_t>::fail("invalid port " + quoted(text));
  const std::uint64_t min = port_zero == PortZero::Allowed ? 0 : 1;
  if (*number.value < min || *number.value > std::numeric_limits<std::uint16_t>::max()) {
    return ParseResult<std::uint16_t>::fail("port " + std::string(text) + " is out of range (" +
                                            std::to_string(min) + "-65535)");
  }
  return ParseResult<std::uint16_t>::ok(static_cast<std::uint16_t>(*number.value));
}

struct HostPort {
  std::string host;
  std::optional<std::string_view> port;  // the digits after ':', when present
};

// Splits "host:port", "[v6]:port", "host" or "[v6]" and validates the host.
ParseResult<HostPort> splitHostPort(std::string_view text) {
  HostPort out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos)
      return ParseResult<HostPort>::fail("missing ']' after the IPv6 address");
    out.host = std::string(text.substr(1, close - 1));
    if (auto error = bracketedHostError(out.host); !error.empty()) return ParseResult<HostPort>::fail(error);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return ParseResult<HostPort>::fail("unexpected " + quoted(rest) + " after the IPv6 address");
    }
  } else {
    // A single colon separates the port; more than one means an IPv6 literal without brackets.
    const auto colon = text.find(':');
    const bool one_colon =
        colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos;
    out.host = std::string(one_colon ? text.substr(0, colon) : text);
    if (auto error = hostError(out.host); !error.empty()) return ParseResult<HostPort>::fail(error);
    rest = one_colon ? text.substr(colon) : std::string_view{};
  }
  if (!rest.empty()) out.port = rest.substr(1);
  return ParseResult<HostPort>::ok(std::move(out));
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ParseResult<std::string> percentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
    if (high < 0 || low < 0)
      return ParseResult<std::string>::fail("invalid percent-encoding in the user or password");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return ParseResult<std::string>::ok(std::move(out));
}

std::string percentEncode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = isDnsNameChar(c) || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

ParseResult<int> parseDb(std::string_view text) {
  if (text.empty()) return ParseResult<int>::ok(0);
  const auto number = parseUnsigned(text);
  if (!number || *number.value > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    return ParseResult<int>::fail("invalid database number " + quoted(text));
  }
  return ParseResult<int>::ok(static_cast<int>(*number.value));
}

ParseResult<RedisUrl> parseUnixRedisUrl(std::string_view rest) {
  RedisUrl url;
  url.unix_socket = true;
  const auto question = rest.find('?');
  url.path = std::string(rest.substr(0, question));
  if (url.path.empty() || url.path.front() != '/') {
    return ParseResult<RedisUrl>::fail("expected unix:///absolute/path[?db=N]");
  }
  if (question != std::string_view::npos) {
    const auto query = rest.substr(question + 1);
    if (query.substr(0, 3) != "db=") {
      return ParseResult<RedisUrl>::fail("unsupported query " + quoted(query) + " (only db=N is understood)");
    }
    auto db = parseDb(query.substr(3));
    if (!db) return ParseResult<RedisUrl>::fail(db.error);
    url.db = *db.value;
  }
  return ParseResult<RedisUrl>::ok(std::move(url));
}

}  // namespace

ParseResult<Address> parseAddress(std::string_view text, PortZero port_zero) {
  Address address;
  address.text = std::string(text);
  if (text.substr(0, 5) == "unix:") {
    address.kind = Address::Kind::Unix;
    address.path = std::string(text.substr(5));
    if (address.path.empty()) return ParseResult<Address>::fail("expected unix:/path/to/socket");
    return ParseResult<Address>::ok(std::move(address));
  }
  auto host_port = splitHostPort(text);
  if (!host_port) return ParseResult<Address>::fail(host_port.error + " (expected host:port or unix:/path)");
  if (!host_port.value->port) {
    return ParseResult<Address>::fail("missing port in " + quoted(text) +
                                      " (expected host:port or unix:/path)");
  }
  auto port = parsePort(*host_port.value->port, port_zero);
  if (!port) return ParseResult<Address>::fail(port.error);
  address.host = std::move(host_port.value->host);
  address.port = *port.value;
  return ParseResult<Address>::ok(std::move(address));
}

ParseResult<RedisUrl> parseRedisUrl(std::string_view text) {
  constexpr std::string_view kExpected =
      " (expected redis://[user:password@]host:port/db, rediss://... or unix:///path[?db=N])";
  if (text.substr(0, 7) == "unix://") return parseUnixRedisUrl(text.substr(7));

  RedisUrl url;
  std::string_view rest;
  if (text.substr(0, 8) == "redis://") {
    rest = text.substr(8);
  } else if (text.substr(0, 9) == "rediss://") {
    url.tls = true;
    rest = text.substr(9);
  } else {
    // Only the scheme is quoted: the rest may hold a password.
    const auto scheme_end = text.find("://");
    const auto scheme =
        scheme_end == std::string_view::npos ? std::string_view("(none)") : text.substr(0, scheme_end);
    return ParseResult<RedisUrl>::fail("unknown scheme " + quoted(scheme) + std::string(kExpected));
  }

  // The last '@' ends the user info, so an unencoded '@' or '/' in a password still works.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return ParseResult<RedisUrl>::fail("expected user:password@ or :password@ before the host" +
                                         std::string(kExpected));
    }
    auto user = percentDecode(userinfo.substr(0, colon));
    auto password = percentDecode(userinfo.substr(colon + 1));
    if (!user) return ParseResult<RedisUrl>::fail(user.error);
    if (!password) return ParseResult<RedisUrl>::fail(password.error);
    url.user = std::move(*user.value);
    url.password = std::move(*password.value);
  }

  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  if (rest.find('?') != std::string_view::npos) {
    return ParseResult<RedisUrl>::fail("query parameters are not supported in redis:// URLs");
  }
  auto host_port = splitHostPort(authority);
  if (!host_port) return ParseResult<RedisUrl>::fail(host_port.error + std::string(kExpected));
  url.host = std::move(host_port.value->host);
  url.port = kDefaultRedisPort;
  if (host_port.value->port) {
    auto port = parsePort(*host_port.value->port, PortZero::Rejected);
    if (!port) return ParseResult<RedisUrl>::fail(port.error);
    url.port = *port.value;
  }
  if (slash != std::string_view::npos) {
    auto db = parseDb(rest.substr(slash + 1));
    if (!db) return ParseResult<RedisUrl>::fail(db.error + std::string(kExpected));
    url.db = *db.value;
  }
  return ParseResult<RedisUrl>::ok(std::move(url));
}

std::string formatRedisUrl(const RedisUrl& url, bool redact_password) {
  if (url.unix_socket) return "unix://" + url.path + (url.db != 0 ? "?db=" + std::to_string(url.db) : "");
  std::string out = url.tls ? "rediss://" : "redis://";
  if (!url.user.empty() || !url.password.empty()) {
    out += percentEncode(url.user) + ":";
    out += redact_password && !url.password.empty() ? std::string(kRedactedPassword)
                                                    : percentEncode(url.password);
    out += "@";
  }
  const bool v6 = url.host.find(':') != std::string::npos;
  out += v6 ? "[" + url.host + "]" : url.host;
  out += ":" + std::to_string(url.port) + "/" + std::to_string(url.db);
  return out;
}

}  // namespace gatehouse::config
