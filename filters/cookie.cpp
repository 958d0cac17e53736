#include "filters/cookie.h"

#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/container/small_vector.hpp>

namespace gatehouse::filters {
namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnreservedInComponent(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}

// Into `out`, whose memory is reused when no escape needs decoding (the usual case).
void decodeValueInto(std::string_view raw, std::string& out) {
  std::string_view value = trim(raw);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  if (value.find('%') == std::string_view::npos) {
    out.assign(value);
    return;
  }
  // Like the npm library's tryDecode: a value that does not decode is kept as sent.
  auto decoded = percentDecode(value);
  if (decoded) {
    out = std::move(*decoded);
  } else {
    out.assign(value);
  }
}

// Scans one field, calling on_match(raw_value) for each pair whose name is `name`. Returns false to stop
// early.
template <typename OnMatch>
bool scanField(std::string_view field, std::string_view name, OnMatch&& on_match) {
  while (!field.empty()) {
    const auto end = field.find(';');
    const std::string_view pair = field.substr(0, end);
    field = end == std::string_view::npos ? std::string_view{} : field.substr(end + 1);

    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) != name) continue;
    if (!on_match(pair.substr(eq + 1))) return false;
  }
  return true;
}

}  // namespace

CookieLookup findCookie(std::span<const std::string_view> cookie_fields, std::string_view name,
                        std::string reuse) {
  CookieLookup result;
  result.value = std::move(reuse);
  result.value.clear();
  for (const std::string_view field : cookie_fields) {
    const bool go_on = scanField(field, name, [&](std::string_view raw) {
      if (result.status == CookieLookup::Status::Found) {
        result.status = CookieLookup::Status::Duplicate;
        result.value.clear();
        return false;
      }
      result.status = CookieLookup::Status::Found;
      decodeValueInto(raw, result.value);
      return true;
    });
    if (!go_on) break;
  }
  return result;
}

CookieLookup findCookie(const RequestHeader& request, std::string_view name, std::string reuse) {
  boost::container::small_vector<std::string_view, 4> fields;  // requests rarely carry more Cookie fields
  const auto range = request.equal_range(boost::beast::http::field::cookie);
  for (auto it = range.first; it != range.second; ++it) fields.push_back(it->value());
  return findCookie(std::span<const std::string_view>(fields.data(), fields.size()), name, std::move(reuse));
}

// Unlike decodeURIComponent this does not reject escapes that decode to invalid UTF-8: every caller validates
// the decoded value's shape afterwards (session ids are ASCII), so such a value is refused either way.
std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hexValue(text[i + 1]);
    const int low = hexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::string percentEncodeComponent(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (isUnreservedInComponent(c)) {
      out.push_back(c);
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out.push_back('%');
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0F]);
  }
  return out;
}

}  // namespace gatehouse::filters
