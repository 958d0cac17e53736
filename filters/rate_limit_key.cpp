#include "filters/rate_limit_key.h"

#include <array>
#include <utility>

#include <openssl/evp.h>
#include <boost/asio/ip/address.hpp>

namespace gatehouse::filters {
namespace {

constexpr char kPartSeparator = '|';
constexpr char kHashedMarker = '#';  // never produced by encodeInto, so hashed keys cannot meet plain ones
constexpr std::size_t kIpv6SubnetBytes = 8;  // /64

bool isKeySafe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == ':' || c == '/';
}

// Percent-encodes everything outside the safe set: separators, '=', '%', '#', braces, spaces, control bytes.
void encodeInto(std::string& out, std::string_view value) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (isKeySafe(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
}

std::string sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // EVP_Digest fails only on allocation failure inside OpenSSL; an empty digest would then still yield a
  // bounded, brace-free key, so there is nothing better to do than carry on.
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0F]);
  }
  return hex;
}

std::string_view trimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

void appendTagged(std::string& out, std::string_view tag, std::string_view value) {
  out.append(tag);
  out.push_back('=');
  encodeInto(out, value);
}

}  // namespace

std::string rateLimitClientNetwork(std::string_view client_ip) {
  // Without a ':' it is IPv4 — dotted-quad text is already canonical (inet_pton takes no leading zeros) — or
  // unparseable: used as it is either way, without parsing it.
  if (client_ip.find(':') == std::string_view::npos) return std::string(client_ip);
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(client_ip, error);
  if (error || address.is_v4()) return std::string(client_ip);
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  for (std::size_t i = kIpv6SubnetBytes; i < bytes.size(); ++i) bytes[i] = 0;
  // Rebuilt from the bytes alone, which also drops a zone id ("%eth0") that would split one client in two.
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::optional<std::string_view> findRequestCookie(const RequestHeader& request, std::string_view name) {
  // HTTP/2 and some clients split cookies over several Cookie fields; each holds "a=b; c=d".
  const auto [first, last] = request.equal_range(boost::beast::http::field::cookie);
  for (auto field = first; field != last; ++field) {
    std::string_view rest = field->value();
    while (!rest.empty()) {
      const auto semicolon = rest.find(';');
      const std::string_view pair = trimOws(rest.substr(0, semicolon));
      rest = semicolon == std::string_view::npos ? std::string_view{} : rest.substr(semicolon + 1);
      const auto equals = pair.find('=');
      if (equals == std::string_view::npos || trimOws(pair.substr(0, equals)) != name) continue;
      std::string_view value = trimOws(pair.substr(equals + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return value;
    }
  }
  return std::nullopt;
}

RateLimitKeyBuilder::RateLimitKeyBuilder(std::string_view policy_name,
                                         std::vector<config::RateLimitKeyPart> parts)
    : parts_(std::move(parts)) {
  encodeInto(prefix_, policy_name);
  prefix_.push_back(':');
  // An empty part list would put every client in one bucket by accident; the documented default is [ip].
  if (parts_.empty()) parts_.push_back(config::RateLimitKeyPart{});
}

void RateLimitKeyBuilder::appendPart(std::string& out, const config::RateLimitKeyPart& part,
                                     const RequestHeader& request, const RequestInfo& info,
                                     const std::optional<std::string>& user) const {
  using Kind = config::RateLimitKeyPart::Kind;
  switch (part.kind) {
    case Kind::Ip:
      break;
    case Kind::Header: {
      const auto found = request.find(part.name);
      if (found != request.end() && !found->value().empty())
        return appendTagged(out, "header", found->value());
      break;
    }
    case Kind::Cookie: {
      const auto value = findRequestCookie(request, part.name);
      if (value && !value->empty()) return appendTagged(out, "cookie", *value);
      break;
    }
    case Kind::SessionUser:
      if (user && !user->empty()) return appendTagged(out, "user", *user);
      break;
    case Kind::Route:
      return appendTagged(out, "route", info.route_name);
    case Kind::Method:
      return appendTagged(out, "method", request.method_string());
  }
  appendTagged(out, "ip", rateLimitClientNetwork(info.client_ip));
}

void RateLimitKeyBuilder::buildInto(std::string& key, const RequestHeader& request, const RequestInfo& info,
                                    const std::optional<std::string>& user) const {
  key.assign(prefix_);
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    if (i > 0) key.push_back(kPartSeparator);
    appendPart(key, parts_[i], request, info, user);
  }
  if (key.size() <= kMaxKeyBytes) return;

  const std::string parts = key.substr(prefix_.size());
  key.assign(prefix_);
  key.push_back(kHashedMarker);
  key += sha256Hex(parts);
  if (key.size() <= kMaxKeyBytes) return;
  // Only a policy name of nearly kMaxKeyBytes gets here: hash it along with the parts.
  key.assign(1, kHashedMarker);
  key += sha256Hex(prefix_ + parts);
}

}  // namespace gatehouse::filters
