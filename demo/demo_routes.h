// The demo app's endpoints: the "app" Gatehouse stands in front of in the demo, the docker example and the
// benchmarks. It shows what reaches an app behind Gatehouse (identity headers, X-Forwarded-For, X-Request-ID)
// and creates sessions the way the seed app does, so that Gatehouse's session filter has something real to
// check.
//
//   GET  /              {"app":"demo","path":"/"}
//   GET  /health        {"status":"ok"}
//   GET  /bench         a tiny fixed JSON body (benchmarks)
//   GET  /api/whoami    the identity headers the app received
//   GET  /login         how to log in
//   POST /login?user=alice&role=admin   SET session:<id> {"username","role","name"} PX <ttl>; Set-Cookie:
//   sid=<id> POST /logout        DEL session:<sid cookie>; clears the cookie GET  /public/...
//   {"public":true,"path":...} anything else       200, an echo of method, path, query, headers and body size
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "demo/session_backend.h"

namespace gatehouse::demo {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// Answers one request. Does no socket I/O, so tests call it directly. `sessions` may be null (no --redis):
// login and logout then answer 503. The response is complete: version, keep-alive and Content-Length follow
// the request.
Response handleRequest(const Request& request, SessionBackend* sessions);

}  // namespace gatehouse::demo
