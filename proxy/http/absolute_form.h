// A request target in absolute-form ("GET http://host:8080/path?q HTTP/1.1", RFC 9112 §3.2.2), which a server
// must accept. Its authority replaces the Host field (RFC 9112 §3.2.2: the Host field is then ignored) and
// the app is sent the origin-form ("/path?q"), which is what an app behind a reverse proxy expects.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::http {

struct AbsoluteForm {
  bool valid = false;          // false: an http(s) URI with no host, or with user information ("user@host")
  std::string_view authority;  // "host:8080", a view into the target
  std::string origin_form;     // "/path?q"; "/" when the URI has no path
};

// nullopt when `target` is not an http:// or https:// URI (the scheme is matched case-insensitively).
std::optional<AbsoluteForm> parseAbsoluteForm(std::string_view target);

}  // namespace gatehouse::http
