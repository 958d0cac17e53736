// The bits of HTTP grammar the loader checks, so that a bad header name or method fails at load, not per
// request.
#pragma once

#include <string_view>

namespace gatehouse::config {

// RFC 9110 token: method names, header names, cookie names.
bool isHttpToken(std::string_view text);

// A field value that cannot split a header: no CR, LF or NUL.
bool isSafeHeaderValue(std::string_view text);

// RFC 6901: "" (the whole document) or "/..." with "~" only as "~0" or "~1".
bool isJsonPointer(std::string_view text);

// Route and policy names end up in metrics, logs and rate-limit keys: letters, digits, '_', '-', '.'.
bool isPlainName(std::string_view text);

}  // namespace gatehouse::config
