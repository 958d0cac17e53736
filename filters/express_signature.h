// express-session's signed session cookie: "s:" + id + "." + signature, where the signature is the base64
// (standard alphabet, '=' padding removed) of HMAC-SHA256(key = secret, message = id), as the npm
// `cookie-signature` package computes it. The cookie carries this text percent-encoded; these functions take
// it decoded (cookie.h decodes).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace gatehouse::filters {

// express-session's ids come from uid-safe(24): 32 characters of base64url.
bool isExpressSessionId(std::string_view id);

// The signature cookie-signature appends for `id` with `secret` (43 characters).
std::string expressSignature(std::string_view id, std::string_view secret);

// The decoded cookie value express-session would set: "s:<id>.<signature>".
std::string signExpressSessionId(std::string_view id, std::string_view secret);

struct UnsignedSessionId {
  enum class Status { Valid, Malformed, BadSignature };
  Status status = Status::Malformed;
  std::string id;  // meaningful when Valid
};

// Checks a decoded cookie value against every secret (rotation: any one verifies). Malformed: not
// "s:<id>.<sig>", an id of the wrong shape, or a signature that is not 43 base64 characters (so a padded one
// is refused). Signatures are compared in constant time.
UnsignedSessionId unsignExpressCookie(std::string_view value, std::span<const std::string> secrets);

}  // namespace gatehouse::filters
