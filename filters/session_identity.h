// Who a stored session says the user is: read from the session's JSON value with the policy's identity
// pointers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/config/config.h"

namespace gatehouse::filters {

struct SessionIdentity {
  std::string user;
  std::vector<std::string> roles;
  std::optional<std::int64_t>
      expires_at_ms;  // from the policy's expires pointer; nullopt = the key's TTL alone
};

// nullopt when the session cannot identify anyone: the value is not JSON, the user is absent, empty, or holds
// a character a header cannot carry, or the expires pointer finds something that is not an instant. Roles may
// be absent (none). A role that holds a comma or a control character is dropped: it could not be told apart
// in the comma-separated roles header. An absent or null expiry means none (express-session writes null for
// cookies without maxAge).
// `reuse`: an identity whose memory (the roles list above all) the result may take over, so that a
// connection's requests do not each allocate one; its contents do not matter.
std::optional<SessionIdentity> parseSessionIdentity(std::string_view stored,
                                                    const config::SessionPolicy& policy,
                                                    SessionIdentity reuse = {});

}  // namespace gatehouse::filters
