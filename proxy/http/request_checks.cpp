#include "proxy/http/request_checks.h"

#include <array>
#include <cstdint>
#include <cstring>
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

// True when some byte of the 8 is a CTL (below 0x20, or 0x7f), HTAB included. Exact, not a guess: the classic
// "has a byte less than n" and "has a zero byte" word tricks, which bytes >= 0x80 (obs-text) do not set off.
bool mayHoldControl(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHighBits = 0x8080808080808080;
  const std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighBits;
  const std::uint64_t del_bytes = word ^ (kOnes * 0x7f);  // a zero byte where word held 0x7f
  const std::uint64_t del = (del_bytes - kOnes) & ~del_bytes & kHighBits;
  return (below_space | del) != 0;
}

bool isForbiddenControl(char c, bool allow_tab) {
  return isControl(c) && !(allow_tab && c == '\t');
}

std::uint64_t loadWord(const char* at) {
  std::uint64_t word;
  std::memcpy(&word, at, sizeof(word));
  return word;
}

// The position of the first control character of `text` at or after `from` (HTAB too unless allow_tab), or
// npos.
std::size_t findControlBytewise(std::string_view text, std::size_t from, bool allow_tab) {
  for (std::size_t i = from; i < text.size(); ++i) {
    if (isForbiddenControl(text[i], allow_tab)) return i;
  }
  return std::string_view::npos;
}

// The position of the first control character of `text` (HTAB too unless allow_tab), or npos. Heads are
// mostly values without any: eight bytes are looked at per step (the last step overlaps the one before when
// the length is not a multiple of eight), and only a step that holds a control character (in practice an
// HTAB) is looked at byte by byte.
std::size_t findControl(std::string_view text, bool allow_tab) {
  if (text.size() < 8) return findControlBytewise(text, 0, allow_tab);
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    if (!mayHoldControl(loadWord(text.data() + i))) continue;
    const auto found = findControlBytewise(text.substr(0, i + 8), i, allow_tab);
    if (found != std::string_view::npos) return found;
  }
  if (i == text.size() || !mayHoldControl(loadWord(text.data() + text.size() - 8))) {
    return std::string_view::npos;
  }
  return findControlBytewise(text, i, allow_tab);
}

std::optional<RequestDefect> checkRequestLine(std::string_view line) {
  const auto control = findControl(line, false);
  if (control != std::string_view::npos)
    return controlDefect(line[control], "control character in request line");
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
  const auto value = line.substr(i + 1);
  const auto control = findControl(value, true);
  if (control != std::string_view::npos)
    return controlDefect(value[control], "control character in field value");
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

// The framing fields of a request, counted in one pass over its fields rather than a lookup by name each.
struct FramingFields {
  std::size_t content_lengths = 0;
  std::string_view content_length;  // the value of the first Content-Length field
  std::size_t transfer_encodings = 0;
  std::size_t hosts = 0;
};

FramingFields countFramingFields(const RequestHeader& request) {
  FramingFields found;
  for (const auto& field : request) {
    switch (field.name()) {
      case bhttp::field::content_length:
        if (found.content_lengths++ == 0) found.content_length = field.value();
        break;
      case bhttp::field::transfer_encoding:
        ++found.transfer_encodings;
        break;
      case bhttp::field::host:
        ++found.hosts;
        break;
      default:
        break;
    }
  }
  return found;
}

std::optional<RequestDefect> checkContentLength(const FramingFields& found) {
  if (found.content_lengths > 1) return defect("several Content-Length fields");
  const auto value = found.content_length;
  if (value.find(',') != std::string_view::npos) return defect("Content-Length list value");
  if (!parseContentLength(value)) return defect("invalid Content-Length");
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

std::optional<RequestDefect> checkHost(const RequestHeader& request, std::size_t hosts) {
  if (hosts > 1) return defect("several Host fields");
  if (hosts == 0 && request.version() >= 11) return defect("missing Host");
  return std::nullopt;
}

}  // namespace

std::optional<RequestDefect> checkTransferEncoding(const Fields& fields) {
  // Every coding, across every field, in order; the only acceptable list is exactly ["chunked"].
  int codings = 0;
  for (const auto& field : fields) {
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
  const auto framing = countFramingFields(request);
  const bool has_length = framing.content_lengths > 0;
  const bool has_coding = framing.transfer_encodings > 0;
  if (has_length && has_coding) return defect("both Content-Length and Transfer-Encoding");
  if (has_coding && request.version() < 11) return defect("Transfer-Encoding in HTTP/1.0");
  if (has_length) {
    if (auto found = checkContentLength(framing)) return found;
  }
  if (has_coding) {
    if (auto found = checkTransferEncoding(request)) return found;
  }
  if (auto found = checkHost(request, framing.hosts)) return found;
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
  return findControl(value, true) == std::string_view::npos;
}

}  // namespace gatehouse::http
