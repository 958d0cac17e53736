#include "filters/express_signature.h"

#include <array>
#include <cstdint>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gatehouse::filters {
namespace {

constexpr std::string_view kSignedPrefix = "s:";
constexpr std::size_t kExpressIdLength = 32;
// base64 of a 32-byte SHA-256 MAC is 44 characters, the last one being a single '=' that cookie-signature
// drops.
constexpr std::size_t kSignatureLength = 43;

bool isBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool isBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

bool isSignatureShape(std::string_view signature) {
  if (signature.size() != kSignatureLength) return false;
  for (const char c : signature) {
    if (!isBase64Char(c)) return false;
  }
  return true;
}

}  // namespace

bool isExpressSessionId(std::string_view id) {
  if (id.size() != kExpressIdLength) return false;
  for (const char c : id) {
    if (!isBase64UrlChar(c)) return false;
  }
  return true;
}

std::string expressSignature(std::string_view id, std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(id.data()), id.size(), mac.data(), &mac_length);

  // EVP_EncodeBlock writes 4 characters per 3 bytes, padded, plus a NUL.
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int encoded_length = EVP_EncodeBlock(encoded.data(), mac.data(), static_cast<int>(mac_length));
  std::string signature(reinterpret_cast<const char*>(encoded.data()),
                        static_cast<std::size_t>(encoded_length));
  while (!signature.empty() && signature.back() == '=') signature.pop_back();
  return signature;
}

std::string signExpressSessionId(std::string_view id, std::string_view secret) {
  std::string value(kSignedPrefix);
  value.append(id).append(".").append(expressSignature(id, secret));
  return value;
}

UnsignedSessionId unsignExpressCookie(std::string_view value, std::span<const std::string> secrets) {
  UnsignedSessionId result;
  if (!value.starts_with(kSignedPrefix)) return result;
  value.remove_prefix(kSignedPrefix.size());

  // cookie-signature splits at the last '.'; a valid id has none, so any other '.' leaves a malformed id.
  const auto dot = value.rfind('.');
  if (dot == std::string_view::npos) return result;
  const std::string_view id = value.substr(0, dot);
  const std::string_view signature = value.substr(dot + 1);
  if (!isExpressSessionId(id) || !isSignatureShape(signature)) return result;

  // Every secret is tried even after a match, so the time taken does not tell which one verified.
  bool verified = false;
  for (const std::string& secret : secrets) {
    const std::string expected = expressSignature(id, secret);
    if (expected.size() == signature.size() &&
        CRYPTO_memcmp(expected.data(), signature.data(), signature.size()) == 0) {
      verified = true;
    }
  }
  if (!verified) {
    result.status = UnsignedSessionId::Status::BadSignature;
    return result;
  }
  result.status = UnsignedSessionId::Status::Valid;
  result.id = std::string(id);
  return result;
}

}  // namespace gatehouse::filters
