// Where the demo app keeps its sessions. The app writes them in the seed's format (session:<id> holding
// {"username","role","name"} JSON, with a TTL) so that Gatehouse's `plain` session policy can read them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::demo {

class SessionBackend {
 public:
  virtual ~SessionBackend() = default;

  // Stores `value_json` under a new random id; returns the id, or nullopt when the store could not be
  // written.
  virtual std::optional<std::string> create(std::string_view value_json) = 0;

  // Deletes the session; false only when the store could not be reached (a missing session is not an error).
  virtual bool remove(std::string_view id) = 0;
};

}  // namespace gatehouse::demo
