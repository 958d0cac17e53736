// The bits of HTTP grammar the loader checks, so that a bad header name or method fails at load, not per
// request.
#pragma once

#include <string_view>

namespace gatehouse::config {

// RFC 9110 token: method names, header names, cookie names.
bool isHttpToken(std::string_view text);

// Fields that frame a message or describe one connection (Content-Length, Transfer-Encoding, Connection and
// the other hop-by-hop fields; RFC 9110 §7.6.1). Gatehouse writes them itself on each side of the relay, so a
// config may not set, add or remove them: a Content-Length injected next to a streamed body would let the
// body carry a second, smuggled request to the app. Case-insensitive.
bool isFramingHeader(std::string_view name);

// A field value that cannot split a header: no CR, LF or NUL.
bool isSafeHeaderValue(std::string_view text);

// RFC 6901: "" (the whole document) or "/..." with "~" only as "~0" or "~1".
bool isJsonPointer(std::string_view text);

// Route and policy names end up in metrics, logs and rate-limit keys: letters, digits, '_', '-', '.'.
bool isPlainName(std::string_view text);

}  // namespace gatehouse::config
