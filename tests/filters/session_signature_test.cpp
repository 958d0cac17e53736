#include "filters/express_signature.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filters/cookie.h"

namespace gatehouse::filters {
namespace {

using Status = UnsignedSessionId::Status;

constexpr std::string_view kId = "abcdefghijklmnopqrstuvwxyz012345";
constexpr std::string_view kSecret = "gatehouse-secret-2";
// Computed independently of this code:
//   printf '%s' abcdefghijklmnopqrstuvwxyz012345 |
//     openssl dgst -sha256 -hmac 'gatehouse-secret-2' -binary | base64 | tr -d '='
constexpr std::string_view kSignature = "LIwMvSmVAZuZpUGClVoUPZLH+wTR9yrNdS2Xu3sgFRg";

// A cookie set by the real express-session 1.19 app (tests/peers/express-app) with
// SESSION_SECRET=keyboard-cat, as the browser sends it back (percent-encoded).
constexpr std::string_view kExpressCookie =
    "s%3AxfEVTtrsjuyzZFFLPrBgoVgan4qDOknS.ryUcsdxoxJrV5yLBjza34XcoOn7ZI4SsgQLvI%2BPMYJo";

std::string signedValue(std::string_view id, std::string_view signature) {
  return std::string("s:").append(id).append(".").append(signature);
}

TEST(ExpressSignature, MatchesAnOpensslComputedVector) {
  EXPECT_EQ(expressSignature(kId, kSecret), kSignature);
  EXPECT_EQ(signExpressSessionId(kId, kSecret), signedValue(kId, kSignature));
}

TEST(ExpressSignature, VerifiesACookieSetByExpressSession) {
  const auto decoded = percentDecode(kExpressCookie);
  ASSERT_TRUE(decoded);
  const std::vector<std::string> secrets{"keyboard-cat"};
  const UnsignedSessionId result = unsignExpressCookie(*decoded, secrets);
  EXPECT_EQ(result.status, Status::Valid);
  EXPECT_EQ(result.id, "xfEVTtrsjuyzZFFLPrBgoVgan4qDOknS");
}

TEST(ExpressSignature, AnyConfiguredSecretVerifies) {
  const std::string signed_with_old = signExpressSessionId(kId, "old-secret");
  const std::vector<std::string> rotated{"new-secret", "old-secret"};
  EXPECT_EQ(unsignExpressCookie(signed_with_old, rotated).status, Status::Valid);
  EXPECT_EQ(unsignExpressCookie(signExpressSessionId(kId, "new-secret"), rotated).status, Status::Valid);

  const std::vector<std::string> old_dropped{"new-secret"};
  EXPECT_EQ(unsignExpressCookie(signed_with_old, old_dropped).status, Status::BadSignature);
}

TEST(ExpressSignature, TamperedIdOrSignatureIsBadlySigned) {
  const std::vector<std::string> secrets{std::string(kSecret)};
  std::string other_id(kId);
  other_id[0] = 'b';
  EXPECT_EQ(unsignExpressCookie(signedValue(other_id, kSignature), secrets).status, Status::BadSignature);

  std::string other_signature(kSignature);
  other_signature[10] = other_signature[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(unsignExpressCookie(signedValue(kId, other_signature), secrets).status, Status::BadSignature);

  const std::vector<std::string> no_secrets;
  EXPECT_EQ(unsignExpressCookie(signedValue(kId, kSignature), no_secrets).status, Status::BadSignature);
}

TEST(ExpressSignature, PaddedSignatureIsMalformed) {
  const std::vector<std::string> secrets{std::string(kSecret)};
  EXPECT_EQ(unsignExpressCookie(signedValue(kId, std::string(kSignature) + "="), secrets).status,
            Status::Malformed);
}

TEST(ExpressSignature, WrongShapesAreMalformed) {
  const std::vector<std::string> secrets{std::string(kSecret)};
  const auto check = [&](const std::string& value) { return unsignExpressCookie(value, secrets).status; };
  EXPECT_EQ(check(std::string(kId) + "." + std::string(kSignature)), Status::Malformed);  // no "s:"
  EXPECT_EQ(check("s:" + std::string(kId)), Status::Malformed);                           // no signature
  EXPECT_EQ(check(signedValue(kId.substr(1), kSignature)), Status::Malformed);            // 31-char id
  EXPECT_EQ(check(signedValue(std::string(kId) + "x", kSignature)), Status::Malformed);   // 33-char id
  EXPECT_EQ(check(signedValue("abcdefghijklmnopqrstuvwxyz01234:", kSignature)), Status::Malformed);
  EXPECT_EQ(check(signedValue("abcdefghijklmnopqrstuvwxyz01.345", kSignature)), Status::Malformed);
  EXPECT_EQ(check(signedValue(kId, kSignature.substr(1))), Status::Malformed);  // 42-char signature
  EXPECT_EQ(check(signedValue(kId, std::string(kSignature.substr(1)) + "-")),
            Status::Malformed);  // url alphabet
  EXPECT_EQ(check(""), Status::Malformed);
}

TEST(ExpressSignature, SessionIdShapeIs32Base64UrlCharacters) {
  EXPECT_TRUE(isExpressSessionId("AZaz09-_AZaz09-_AZaz09-_AZaz09-_"));
  EXPECT_FALSE(isExpressSessionId("AZaz09-_AZaz09-_AZaz09-_AZaz09+/"));
  EXPECT_FALSE(isExpressSessionId(""));
}

}  // namespace
}  // namespace gatehouse::filters
