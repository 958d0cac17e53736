// Who a request is counted against: the store key built from a rate-limit policy's key parts.
//
// A key is "<policy>:<part>|<part>|...", each part tagged with what it is ("ip=", "header=", "cookie=",
// "user=", "route=", "method="). The tag keeps a part that fell back to the client's IP apart from a header
// that happens to carry the same text: otherwise a client could send `X-Api-Key: <victim's IP>` and spend the
// victim's quota. Values are percent-encoded outside [A-Za-z0-9._:/-], so no value can forge a separator, and
// '{' / '}' (the Redis Cluster hash-tag braces the store adds itself) never reach the store. Keys longer than
// kMaxKeyBytes keep the policy prefix and replace the parts by their SHA-256, so a client cannot make the
// store hold huge keys.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/filter.h"
#include "proxy/config/config.h"

namespace gatehouse::filters {

// The client's network as rate limits see it: an IPv4 address as is; an IPv6 address as its /64 in CIDR form,
// since one subscriber usually holds a whole /64 and could otherwise rotate addresses to evade the limit.
// IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as the IPv4 address. Text that is no address is returned
// unchanged.
std::string rateLimitClientNetwork(std::string_view client_ip);

// The value of cookie `name` in the request's Cookie fields (the first one found), without surrounding
// quotes.
std::optional<std::string_view> findRequestCookie(const RequestHeader& request, std::string_view name);

class RateLimitKeyBuilder {
 public:
  static constexpr std::size_t kMaxKeyBytes = 200;

  RateLimitKeyBuilder(std::string_view policy_name, std::vector<config::RateLimitKeyPart> parts);

  // A part with nothing to read (no such header or cookie, an empty value, no session user) falls back to the
  // client's network, so such requests are still limited per client rather than all sharing one bucket.
  // `user` is what a session.user part reads: info.user, or the session filter's guess when prefetching.
  std::string build(const RequestHeader& request, const RequestInfo& info,
                    const std::optional<std::string>& user) const {
    std::string key;
    buildInto(key, request, info, user);
    return key;
  }
  // The same key, written over `key`: a filter that keeps its buffer from one request to the next builds it
  // without allocating.
  void buildInto(std::string& key, const RequestHeader& request, const RequestInfo& info,
                 const std::optional<std::string>& user) const;

  // True when a part reads the session (session.user): the key is then known only after the session filter
  // ran.
  bool dependsOnSession() const {
    for (const auto& part : parts_) {
      if (part.kind == config::RateLimitKeyPart::Kind::SessionUser) return true;
    }
    return false;
  }

 private:
  void appendPart(std::string& out, const config::RateLimitKeyPart& part, const RequestHeader& request,
                  const RequestInfo& info, const std::optional<std::string>& user) const;

  std::string prefix_;  // the encoded policy name and ':'
  std::vector<config::RateLimitKeyPart> parts_;
};

}  // namespace gatehouse::filters
