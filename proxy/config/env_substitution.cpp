#include "proxy/config/env_substitution.h"

#include <string>

namespace gatehouse::config {
namespace {

bool isNameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool isNameChar(char c) {
  return isNameStart(c) || (c >= '0' && c <= '9');
}

}  // namespace

ParseResult<std::string> substituteEnvironment(std::string_view text, const Environment& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      out += text[i++];
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return ParseResult<std::string>::fail("unterminated \"${\" (write \"$${\" for a literal \"${\")");
    }
    const std::string_view body = text.substr(i + 2, close - i - 2);
    const std::size_t operator_at = body.find(":-");
    const std::string_view name = body.substr(0, operator_at);
    if (name.empty() || !isNameStart(name.front())) {
      return ParseResult<std::string>::fail("invalid variable name in \"${" + std::string(body) + "}\"");
    }
    for (char c : name) {
      if (!isNameChar(c)) {
        return ParseResult<std::string>::fail("invalid variable name in \"${" + std::string(body) + "}\"");
      }
    }
    std::optional<std::string> value = env(name);
    if (operator_at != std::string_view::npos) {
      const std::string_view fallback = body.substr(operator_at + 2);
      if (fallback.find("${") != std::string_view::npos) {
        return ParseResult<std::string>::fail("nested \"${\" in the default of ${" + std::string(name) +
                                              "} is not supported");
      }
      if (!value || value->empty()) value = std::string(fallback);
    }
    if (!value) {
      return ParseResult<std::string>::fail("environment variable " + std::string(name) +
                                            " is not set (set it, or give a default: ${" + std::string(name) +
                                            ":-default})");
    }
    out += *value;
    i = close + 1;
  }
  return ParseResult<std::string>::ok(std::move(out));
}

}  // namespace gatehouse::config
