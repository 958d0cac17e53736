#include "proxy/http/forwarded.h"

#include <algorithm>
#include <optional>

#include <boost/container/small_vector.hpp>

#include "proxy/http/field_scan.h"

namespace gatehouse::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

const FieldName kForwardedForName{kXForwardedFor};
const FieldName kForwardedProtoName{kXForwardedProto};
const FieldName kForwardedHostName{kXForwardedHost};

asio::ip::address unmapped(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::string_view trimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// One X-Forwarded-For entry: "1.2.3.4", "1.2.3.4:80", "::1", "[::1]" or "[::1]:80".
std::optional<asio::ip::address> parseEntry(std::string_view entry) {
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto after = entry.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::nullopt;
    entry = entry.substr(1, close - 1);
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    entry = entry.substr(0, entry.find(':'));  // IPv4 with a port
  }
  // make_address takes a NUL-terminated string: copy into a bounded stack buffer (the longest textual IPv6
  // address with a scope is well under 64 bytes).
  char text[64];
  if (entry.empty() || entry.size() >= sizeof(text)) return std::nullopt;
  std::copy(entry.begin(), entry.end(), text);
  text[entry.size()] = '\0';
  boost::system::error_code ec;
  auto address = asio::ip::make_address(static_cast<const char*>(text), ec);
  if (ec) return std::nullopt;
  return unmapped(address);
}

// The X-Forwarded-For entries of every field, in order. Views into the fields' values.
using Entries = boost::container::small_vector<std::string_view, 8>;

Entries forwardedFor(const Fields& fields) {
  Entries entries;
  for (const auto& field : fields) {
    if (!isNamed(field, kForwardedForName)) continue;
    std::string_view list = field.value();
    while (true) {
      const auto comma = list.find(',');
      const auto entry = trimOws(list.substr(0, comma));
      if (!entry.empty()) entries.push_back(entry);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return entries;
}

struct ForwardedFieldCounts {
  std::size_t for_ = 0;
  std::size_t proto = 0;
  std::size_t host = 0;
};

ForwardedFieldCounts countForwardedFields(const Fields& fields) {
  ForwardedFieldCounts counts;
  for (const auto& field : fields) {
    if (isNamed(field, kForwardedForName)) {
      ++counts.for_;
    } else if (isNamed(field, kForwardedProtoName)) {
      ++counts.proto;
    } else if (isNamed(field, kForwardedHostName)) {
      ++counts.host;
    }
  }
  return counts;
}

// A trusted peer's X-Forwarded-For fields joined into one list, with the peer appended.
std::string joinForwardedFor(const Fields& fields, std::string_view peer_text) {
  std::size_t size = peer_text.size();
  for (const auto& field : fields) {
    if (isNamed(field, kForwardedForName)) size += field.value().size() + 2;
  }
  std::string joined;
  joined.reserve(size);
  for (const auto& field : fields) {
    if (!isNamed(field, kForwardedForName)) continue;
    const auto value = trimOws(field.value());
    if (value.empty()) continue;
    joined.append(value).append(", ");
  }
  joined.append(peer_text);
  return joined;
}

}  // namespace

std::string formatAddress(const asio::ip::address& address) {
  return unmapped(address).to_string();
}

bool isTrusted(const asio::ip::address& address, std::span<const config::Cidr> trusted) {
  return std::any_of(trusted.begin(), trusted.end(),
                     [&address](const config::Cidr& cidr) { return cidr.contains(address); });
}

Peer::Peer(const asio::ip::address& peer, std::span<const config::Cidr> trusted_proxies)
    : address(unmapped(peer)), text(formatAddress(peer)), trusted(isTrusted(address, trusted_proxies)) {}

std::string resolveClientIp(const Fields& fields, const Peer& peer, std::span<const config::Cidr> trusted) {
  if (!peer.trusted) return peer.text;
  auto client = peer.address;
  const auto entries = forwardedFor(fields);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const auto address = parseEntry(*it);
    if (!address)
      break;  // garbage: nothing left of it is believable; the last trusted hop is the best answer
    client = *address;
    if (!isTrusted(client, trusted)) break;
  }
  return client == peer.address ? peer.text : client.to_string();
}

void setForwardedHeaders(Fields& fields, const Peer& peer, std::string_view proto, std::string_view host) {
  // One pass finds what the client sent, instead of a lookup by name per field and per question.
  const auto sent = countForwardedFields(fields);
  const bool keep_proto = peer.trusted && sent.proto > 0;
  const bool keep_host = peer.trusted && sent.host > 0;

  // Built before the client's fields go: the views point into them.
  const bool join = peer.trusted && sent.for_ > 0;
  std::string joined;
  if (join) joined = joinForwardedFor(fields, peer.text);

  if (sent.for_ > 0 || (!keep_proto && sent.proto > 0) || (!keep_host && sent.host > 0)) {
    for (auto it = fields.begin(); it != fields.end();) {
      const bool replaced = isNamed(*it, kForwardedForName) ||
                            (!keep_proto && isNamed(*it, kForwardedProtoName)) ||
                            (!keep_host && isNamed(*it, kForwardedHostName));
      it = replaced ? fields.erase(it) : std::next(it);
    }
  }

  // Appended in the order Fields::set would have appended them.
  fields.insert(kForwardedForName.id, kForwardedForName.text,
                join ? std::string_view(joined) : std::string_view(peer.text));
  if (!keep_proto) fields.insert(kForwardedProtoName.id, kForwardedProtoName.text, proto);
  if (!keep_host && !host.empty()) fields.insert(kForwardedHostName.id, kForwardedHostName.text, host);
}

}  // namespace gatehouse::http
