#include "filters/session_identity.h"

#include <algorithm>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "filters/json_pointer.h"
#include "proxy/http/request_checks.h"

namespace gatehouse::filters {
namespace {

bool isUsableRole(std::string_view role) {
  return !role.empty() && role.find(',') == std::string_view::npos && http::isFieldValue(role);
}

}  // namespace

std::optional<SessionIdentity> parseSessionIdentity(std::string_view stored,
                                                    const config::SessionPolicy& policy,
                                                    SessionIdentity reuse) {
  boost::system::error_code ec;
  // Parsed into stack memory (a session is usually a few hundred bytes; a larger one spills to the heap): the
  // document lives only in this function, so no allocation per request is needed for it.
  unsigned char scratch[4096];
  boost::json::monotonic_resource memory(scratch, sizeof(scratch));
  const boost::json::value document = boost::json::parse(stored, ec, &memory);
  if (ec) return std::nullopt;

  SessionIdentity identity = std::move(reuse);
  identity.expires_at_ms.reset();
  auto user = readScalarString(document, policy.user_pointer);
  if (!user || user->empty() || !http::isFieldValue(*user)) return std::nullopt;
  identity.user = std::move(*user);

  // Absent or not a list: no roles (readStringListInto leaves the list empty).
  readStringListInto(document, policy.roles_pointer, identity.roles);
  std::erase_if(identity.roles, [](const std::string& role) { return !isUsableRole(role); });

  if (!policy.expires_pointer.empty()) {
    const boost::json::value* expires = findPointer(document, policy.expires_pointer);
    if (expires != nullptr && !expires->is_null()) {
      identity.expires_at_ms = readTimestampMillis(document, policy.expires_pointer);
      if (!identity.expires_at_ms) return std::nullopt;
    }
  }
  return identity;
}

}  // namespace gatehouse::filters
