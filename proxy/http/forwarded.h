// Who the client is, and what the upstream is told about it (X-Forwarded-For / -Proto / -Host).
//
// Only a peer in trusted_proxies is believed about the client: anyone else could write any X-Forwarded-For
// and walk around per-IP rate limits and allow lists. Addresses are written the way Gatehouse logs and keys
// them: IPv6 without brackets, IPv4-mapped IPv6 (::ffff:a.b.c.d) as the IPv4 address.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "proxy/config/cidr.h"
#include "proxy/http/fields.h"

namespace gatehouse::http {

// Beast has no field enum for these.
inline constexpr std::string_view kXForwardedFor = "X-Forwarded-For";
inline constexpr std::string_view kXForwardedProto = "X-Forwarded-Proto";
inline constexpr std::string_view kXForwardedHost = "X-Forwarded-Host";

// The address as text: IPv4-mapped IPv6 as IPv4, IPv6 without brackets.
std::string formatAddress(const boost::asio::ip::address& address);

bool isTrusted(const boost::asio::ip::address& address, std::span<const config::Cidr> trusted);

// A connection's peer, formatted and checked against trusted_proxies once per connection rather than on each
// of its requests (formatting an address goes through printf).
struct Peer {
  Peer() = default;
  Peer(const boost::asio::ip::address& peer, std::span<const config::Cidr> trusted_proxies);
  boost::asio::ip::address address;  // IPv4-mapped IPv6 as IPv4
  std::string text;                  // formatAddress(address)
  bool trusted = false;
};

// The client's address. When the peer is trusted, X-Forwarded-For (every field, as one list) is walked from
// the right, skipping trusted addresses; the first untrusted one is the client. When every entry is trusted,
// the leftmost is. An entry that is not an address ends the walk: what lies left of it cannot be trusted, so
// the last trusted hop seen is returned. Entries may carry a port ("1.2.3.4:80", "[::1]:80"). Otherwise, the
// peer (its text, not formatted again).
std::string resolveClientIp(const Fields& fields, const Peer& peer, std::span<const config::Cidr> trusted);

// Sets the X-Forwarded-* fields for the upstream:
//   X-Forwarded-For    from a trusted peer: its list (several fields joined into one) with the peer appended;
//                      otherwise: the peer alone;
//   X-Forwarded-Proto  from a trusted peer that sent one: kept; otherwise `proto`;
//   X-Forwarded-Host   from a trusted peer that sent one: kept; otherwise `host` (the request's Host), or
//   removed
//                      when host is empty.
// `proto` and `host` may point into the fields, but not into X-Forwarded-* fields (those may be erased before
// the new ones are written).
void setForwardedHeaders(Fields& fields, const Peer& peer, std::string_view proto, std::string_view host);

}  // namespace gatehouse::http
