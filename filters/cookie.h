// Reading one cookie out of a request's Cookie header fields, the way browsers send them and the npm `cookie`
// library (which express-session uses) reads them: pairs separated by ';', name and value trimmed, a value in
// double quotes unquoted, a value with '%' percent-decoded (left as is when the escapes are malformed), pairs
// without '=' ignored. Several Cookie fields read as one, joined by "; ", as Node does.
//
// Where the npm library keeps the first of two cookies with the same name, this reader reports Duplicate: the
// session filter and the application could otherwise disagree on which session the request carries.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "filters/filter.h"

namespace gatehouse::filters {

struct CookieLookup {
  enum class Status { Absent, Found, Duplicate };
  Status status = Status::Absent;
  std::string value;  // decoded; meaningful when Found
};

// Looks for `name` (compared exactly, as cookie names are case-sensitive) in the given Cookie field values.
// `reuse`: a string whose memory the found value may take over (a connection's requests then do not each
// allocate one); its contents do not matter.
CookieLookup findCookie(std::span<const std::string_view> cookie_fields, std::string_view name,
                        std::string reuse = {});

// The same over every Cookie field of a request header.
CookieLookup findCookie(const RequestHeader& request, std::string_view name, std::string reuse = {});

// decodeURIComponent's percent-decoding: nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percentDecode(std::string_view text);

// encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is escaped as %XX (upper-case hex).
std::string percentEncodeComponent(std::string_view text);

}  // namespace gatehouse::filters
