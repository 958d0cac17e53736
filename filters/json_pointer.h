// Typed reads out of a parsed JSON document by RFC 6901 pointer ("/user/username"), on top of Boost.JSON's
// find_pointer. Each returns nullopt when the pointer is malformed, leads nowhere, or finds a value of
// another type: a stored session is data written by another program, never trusted to have the expected
// shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace gatehouse::filters {

// The value at `pointer`, or nullptr. The empty pointer designates the whole document.
const boost::json::value* findPointer(const boost::json::value& document, std::string_view pointer);

// A string, or an integer written in decimal (numeric user ids are common).
std::optional<std::string> readScalarString(const boost::json::value& document, std::string_view pointer);

// A string (one element) or an array whose string elements are kept (others are skipped).
std::optional<std::vector<std::string>> readStringList(const boost::json::value& document,
                                                       std::string_view pointer);
// The same into `out`, replacing what it held (its memory is reused); false, with `out` emptied, where
// readStringList says nullopt.
bool readStringListInto(const boost::json::value& document, std::string_view pointer,
                        std::vector<std::string>& out);

// An instant as epoch milliseconds: a number (epoch ms, as Date.now() writes) or an ISO-8601 string.
std::optional<std::int64_t> readTimestampMillis(const boost::json::value& document, std::string_view pointer);

// "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM[:SS[.fraction]]" (a space may stand for 'T') followed by 'Z', "+HH:MM",
// "-HH:MM", "+HHMM" or nothing. A time without an offset is read as UTC (JavaScript would read it as local
// time; a server-side session should not depend on the proxy's zone). Returns epoch milliseconds.
std::optional<std::int64_t> parseIso8601Millis(std::string_view text);

}  // namespace gatehouse::filters
