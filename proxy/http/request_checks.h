// Request-smuggling defences: the checks a proxy must make before it trusts a request's framing. A request
// that two HTTP implementations could read differently (where one request ends, which body belongs to it) is
// refused with 400 and the connection is closed, instead of being "repaired" and forwarded.
//
// Two stages, because Beast is lenient in places and normalises what it parses:
//   checkRawHead  on the bytes of the head as received, before Beast parses them;
//   checkFraming  on the parsed header, before anything is forwarded.
// Both are pure, allocation-free and linear in the head's size.
#pragma once

#include <optional>
#include <string_view>

#include <boost/beast/http/status.hpp>

#include "proxy/http/fields.h"

namespace gatehouse::http {

struct RequestDefect {
  boost::beast::http::status status = boost::beast::http::status::bad_request;
  std::string_view reason;  // short, static text for the error body and the log ("bare CR in request head")
};

// `head` starts at the request line (leading empty lines already skipped) and runs to the empty line that
// ends the head; bytes after that line (a body already read into the same buffer) are ignored. Rejects, per
// RFC 9112:
//   - NUL anywhere in the head;
//   - bare CR (not followed by LF) and bare LF (a line ended without CR): only CRLF ends a line;
//   - obs-fold (a field line starting with SP or HTAB);
//   - a field line without a colon, an empty field name, whitespace between name and colon, non-token name
//   chars;
//   - control characters in a field value other than HTAB (obs-text, bytes >= 0x80, is allowed);
//   - control characters (HTAB included) in the request line;
//   - a head that does not end with an empty line.
std::optional<RequestDefect> checkRawHead(std::string_view head);

// On the parsed header. Rejects:
//   - both Content-Length and Transfer-Encoding;
//   - a Content-Length value that is not exactly 1*DIGIT (sign, inner spaces, empty) or overflows 64 bits;
//   - several Content-Length fields or a list value ("42, 42"), even with identical members. RFC 9110 §8.6
//   lets a
//     recipient either reject that or replace it with one value, and forbids forwarding it as is; the header
//     is const here and no real client sends duplicates, so refusing is both the simpler and the safer
//     choice;
//   - Transfer-Encoding other than exactly one `chunked` coding (case-insensitive, no parameters; several
//   fields
//     count as one list; empty list elements are ignored per RFC 9110 §5.6.1);
//   - Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: the framing is faulty);
//   - HTTP/1.1 without exactly one Host field, and HTTP/1.0 with several (RFC 9112 §3.2);
//   - a target not in origin-form ("/..."), except "*" for OPTIONS and absolute-form ("http://" / "https://",
//     which RFC 9112 §3.2.2 obliges a server to accept; the router must take the path from it).
//     Authority-form (CONNECT) is refused.
std::optional<RequestDefect> checkFraming(const RequestHeader& request);

// The Transfer-Encoding fields, taken as one list, are exactly one `chunked` coding (the rule checkFraming
// applies to requests; the relay applies it to responses too, as it re-frames a body only from chunked).
std::optional<RequestDefect> checkTransferEncoding(const Fields& fields);

// RFC 9110 §5.1 field-name: 1*tchar. Also used to validate configured header names.
bool isFieldName(std::string_view name);

// RFC 9110 §5.5 field-value as Gatehouse sends it: no control characters other than HTAB (so no CR, LF or
// NUL), obs-text allowed. Also used to validate configured header values.
bool isFieldValue(std::string_view value);

}  // namespace gatehouse::http
