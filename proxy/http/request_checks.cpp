#include "proxy/http/request_checks.h"

#include <array>
#include <cstdint>
#include <limits>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;

constexpr RequestDefect defect(std::string_view reason) {
  return RequestDefect{bhttp::status::bad_request, reason};
}

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT /
// ALPHA
constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

bool isTchar(char c) {
  return kTchar[static_cast<unsigned char>(c)];
}

// CTL = %x00-1F / %x7F
bool isControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// The defect for a control character found where none may be: NUL and CR get their own reasons because they
// are the classic smuggling bytes and worth telling apart in logs.
RequestDefect controlDefect(char c, std::string_view otherwise) {
  if (c == '\0') return defect("NUL in request head");
  if (c == '\r') return defect("bare CR in request head");
  return defect(otherwise);
}

std::optional<RequestDefect> checkRequestLine(std::string_view line) {
  for (char c : line) {
    if (isControl(c)) return controlDefect(c, "control character in request line");
  }
  return std::nullopt;
}

std::optional<RequestDefect> checkFieldLine(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') return defect("obsolete line folding");
  std::size_t i = 0;
  for (; i < line.size() && line[i] != ':'; ++i) {
    const char c = line[i];
    if (isTchar(c)) continue;
    if (c == ' ' || c == '\t') return defect("whitespace in or after field name");
    if (isControl(c)) return controlDefect(c, "invalid field name");
    return defect("invalid field name");
  }
  if (i == line.size()) return defect("field line without colon");
  if (i == 0) return defect("empty field name");
  for (++i; i < line.size(); ++i) {
    const char c = line[i];
    if (isControl(c) && c != '\t') return controlDefect(c, "control character in field value");
  }
  return std::nullopt;
}

// Parses a Content-Length member: exactly 1*DIGIT, no sign, no space, no overflow.
std::optional<std::uint64_t> parseContentLength(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool isOws(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trimOws(std::string_view text) {
  while (!text.empty() && isOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && isOws(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<RequestDefect> checkContentLength(const RequestHeader& request) {
  const auto [first, last] = request.equal_range(bhttp::field::content_length);
  if (first == last) return std::nullopt;
  if (std::next(first) != last) return defect("several Content-Length fields");
  const auto value = first->value();
  if (value.find(',') != std::string_view::npos) return defect("Content-Length list value");
  if (!parseContentLength(value)) return defect("invalid Content-Length");
  return std::nullopt;
}

std::optional<RequestDefect> checkTransferEncoding(const RequestHeader& request) {
  // Every coding, across every field, in order; the only acceptable list is exactly ["chunked"].
  int codings = 0;
  for (const auto& field : request) {
    if (field.name() != bhttp::field::transfer_encoding) continue;
    std::string_view rest = field.value();
    while (true) {
      const auto comma = rest.find(',');
      const auto member = trimOws(rest.substr(0, comma));
      if (!member.empty()) {
        if (++codings > 1) return defect("Transfer-Encoding other than chunked");
        if (!boost::beast::iequals(member, "chunked")) return defect("Transfer-Encoding other than chunked");
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (codings == 0) return defect("empty Transfer-Encoding");
  return std::nullopt;
}

bool hasSchemePrefix(std::string_view target, std::string_view scheme) {
  return target.size() > scheme.size() && boost::beast::iequals(target.substr(0, scheme.size()), scheme);
}

std::optional<RequestDefect> checkTarget(const RequestHeader& request) {
  const auto target = request.target();
  if (!target.empty() && target.front() == '/') return std::nullopt;  // origin-form
  if (target == "*") {
    if (request.method() == bhttp::verb::options) return std::nullopt;  // asterisk-form
    return defect("asterisk-form target outside OPTIONS");
  }
  if (hasSchemePrefix(target, "http://") || hasSchemePrefix(target, "https://")) return std::nullopt;
  return defect("request target not in origin-form");
}

std::optional<RequestDefect> checkHost(const RequestHeader& request) {
  const auto hosts = request.count(bhttp::field::host);
  if (hosts > 1) return defect("several Host fields");
  if (hosts == 0 && request.version() >= 11) return defect("missing Host");
  return std::nullopt;
}

}  // namespace

std::optional<RequestDefect> checkRawHead(std::string_view head) {
  bool request_line = true;
  std::size_t start = 0;
  while (start < head.size()) {
    const auto lf = head.find('\n', start);
    if (lf == std::string_view::npos) break;
    if (lf == start || head[lf - 1] != '\r') return defect("bare LF in request head");
    const auto line = head.substr(start, lf - 1 - start);
    start = lf + 1;
    if (line.empty()) {
      if (request_line) return defect("empty request line");
      return std::nullopt;  // the end of the head
    }
    auto found = request_line ? checkRequestLine(line) : checkFieldLine(line);
    if (found) return found;
    request_line = false;
  }
  // No empty line: a NUL or a bare CR in the unfinished remainder is still worth naming. A CR as the very
  // last byte may yet be followed by LF, so it is not called bare.
  const auto rest = head.substr(start);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '\0') return defect("NUL in request head");
    if (rest[i] == '\r' && i + 1 < rest.size()) return defect("bare CR in request head");
  }
  return defect("incomplete request head");
}

std::optional<RequestDefect> checkFraming(const RequestHeader& request) {
  const bool has_length = request.count(bhttp::field::content_length) > 0;
  const bool has_coding = request.count(bhttp::field::transfer_encoding) > 0;
  if (has_length && has_coding) return defect("both Content-Length and Transfer-Encoding");
  if (has_coding && request.version() < 11) return defect("Transfer-Encoding in HTTP/1.0");
  if (has_length) {
    if (auto found = checkContentLength(request)) return found;
  }
  if (has_coding) {
    if (auto found = checkTransferEncoding(request)) return found;
  }
  if (auto found = checkHost(request)) return found;
  return checkTarget(request);
}

bool isFieldName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!isTchar(c)) return false;
  }
  return true;
}

bool isFieldValue(std::string_view value) {
  for (char c : value) {
    if (isControl(c) && c != '\t') return false;
  }
  return true;
}

}  // namespace gatehouse::http
