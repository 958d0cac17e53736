// The body of every reply Gatehouse makes itself: {"error":"...","request_id":"..."}, so that a client (or a
// person reading a log) can quote the id back.
#pragma once

#include <ostream>  // before Beast: Boost 1.81's core string_view uses std::ostream without including it
#include <string>
#include <string_view>

#include <boost/beast/http/status.hpp>

namespace gatehouse::http {

// Both values are JSON-escaped (quote, backslash, control characters); bytes >= 0x80 are copied as they are,
// so UTF-8 text stays readable.
std::string errorBody(std::string_view error, std::string_view request_id);

// Adds "request_id" as the last member of a JSON object body that lacks one (a filter's 401, 403, 429, 503),
// so that every answer Gatehouse makes can be quoted back. Anything else is left as it is.
void addRequestId(std::string& body, std::string_view request_id);

// The status's reason phrase ("Too Many Requests"); for a code without one, the phrase of its class
// ("Client Error", "Server Error"...).
std::string_view reasonFor(boost::beast::http::status status);
std::string_view reasonFor(unsigned status);

}  // namespace gatehouse::http
