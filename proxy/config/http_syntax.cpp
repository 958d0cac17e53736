#include "proxy/config/http_syntax.h"

#include <algorithm>
#include <iterator>

#include <boost/beast/core/string.hpp>

namespace gatehouse::config {
namespace {

bool isAlphaNumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool isTokenChar(char c) {
  return isAlphaNumeric(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

bool isHttpToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

bool isFramingHeader(std::string_view name) {
  static constexpr std::string_view kFraming[] = {
      "Connection", "Content-Length", "Keep-Alive",        "Proxy-Connection",
      "TE",         "Trailer",        "Transfer-Encoding", "Upgrade"};
  return std::any_of(std::begin(kFraming), std::end(kFraming),
                     [&](std::string_view framing) { return boost::beast::iequals(name, framing); });
}

bool isSafeHeaderValue(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool isJsonPointer(std::string_view text) {
  if (text.empty()) return true;
  if (text.front() != '/') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '~') continue;
    if (i + 1 >= text.size() || (text[i + 1] != '0' && text[i + 1] != '1')) return false;
  }
  return true;
}

bool isPlainName(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return isAlphaNumeric(c) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace gatehouse::config
