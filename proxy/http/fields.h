// The one name of Gatehouse's HTTP header types. Everything that holds or edits header fields — the
// connection's parsers and local replies, the filters, the header rules of proxy/http, the writer of
// outgoing heads and the tests — uses these, so that fields made during an exchange live in the exchange's
// FieldArena (see arena_allocator.h; a default-constructed header uses the heap).
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include "proxy/http/arena_allocator.h"

namespace gatehouse::http {

using FieldAllocator = ArenaAllocator<char>;
using Fields = boost::beast::http::basic_fields<FieldAllocator>;
using RequestHeader = boost::beast::http::request_header<Fields>;
using ResponseHeader = boost::beast::http::response_header<Fields>;

}  // namespace gatehouse::http
