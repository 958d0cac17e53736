#include "demo/demo_routes.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "demo/session_id.h"

namespace gatehouse::demo {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kServerName = "gatehouse-demo-app";
constexpr std::size_t kMaxNameLength = 64;

struct Target {
  std::string_view path;
  std::string_view query;
};

Target splitTarget(std::string_view target) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return {target, {}};
  return {target.substr(0, question), target.substr(question + 1)};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte. A malformed escape is kept
// literally.
std::string formDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 && hexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (formDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : formDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The value of cookie `name` in every Cookie field of the request (RFC 6265 section 5.4: "; "-separated
// pairs).
std::optional<std::string> cookieValue(const Request& request, std::string_view name) {
  const auto [first, last] = request.equal_range(http::field::cookie);
  for (auto field = first; field != last; ++field) {
    std::string_view rest = field->value();
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      const std::string_view pair = trim(rest.substr(0, semi));
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
        return std::string(trim(pair.substr(eq + 1)));
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

// User and role names end up in JSON and in Gatehouse's identity headers: keep them to a safe, printable set.
bool isValidName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

json::value headerOrNull(const Request& request, std::string_view name) {
  const auto found = request.find(name);
  if (found == request.end()) return nullptr;
  return json::string(found->value());
}

Response jsonResponse(const Request& request, http::status status, const json::value& body) {
  Response response{status, request.version()};
  response.set(http::field::server, kServerName);
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = json::serialize(body);
  response.body().push_back('\n');
  response.prepare_payload();
  return response;
}

Response errorResponse(const Request& request, http::status status, std::string_view message) {
  return jsonResponse(request, status, json::object{{"error", message}});
}

Response login(const Request& request, std::string_view query, SessionBackend* sessions) {
  const std::string user = queryParam(query, "user").value_or("");
  const std::string role = queryParam(query, "role").value_or("user");
  if (!isValidName(user) || !isValidName(role)) {
    return errorResponse(
        request, http::status::bad_request,
        "user and role must be 1-64 characters of [A-Za-z0-9._@-]: POST /login?user=alice&role=admin");
  }
  if (sessions == nullptr) {
    return errorResponse(request, http::status::service_unavailable,
                         "no session store: start the demo app with --redis redis://HOST:PORT");
  }
  // The seed's session value: Gatehouse's `plain` policy reads /username and /role from it.
  const json::object session{{"username", user}, {"role", role}, {"name", user}};
  const auto id = sessions->create(json::serialize(session));
  if (!id) return errorResponse(request, http::status::service_unavailable, "session store unavailable");

  Response response = jsonResponse(request, http::status::ok,
                                   json::object{{"logged_in", true}, {"user", user}, {"role", role}});
  response.set(http::field::set_cookie, "sid=" + *id + "; HttpOnly; Path=/");
  return response;
}

Response logout(const Request& request, SessionBackend* sessions) {
  if (sessions == nullptr) {
    return errorResponse(request, http::status::service_unavailable,
                         "no session store: start the demo app with --redis redis://HOST:PORT");
  }
  const auto sid = cookieValue(request, "sid");
  // Only a well-formed id becomes part of a Redis key; anything else cannot name a session the app created.
  if (sid && isSessionId(*sid) && !sessions->remove(*sid)) {
    return errorResponse(request, http::status::service_unavailable, "session store unavailable");
  }
  Response response = jsonResponse(request, http::status::ok, json::object{{"logged_out", true}});
  response.set(http::field::set_cookie, "sid=; Max-Age=0; HttpOnly; Path=/");
  return response;
}

Response echo(const Request& request, std::string_view path, std::string_view query) {
  json::object headers;
  for (const auto& field : request) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // A repeated field is reported once, its values joined as RFC 9110 section 5.3 allows for list fields.
    if (auto* existing = headers.if_contains(name)) {
      std::string joined(existing->as_string());
      joined.append(", ").append(field.value());
      *existing = joined;
    } else {
      headers.emplace(name, field.value());
    }
  }
  return jsonResponse(request, http::status::ok,
                      json::object{{"method", request.method_string()},
                                   {"path", path},
                                   {"query", query},
                                   {"headers", std::move(headers)},
                                   {"body_bytes", request.body().size()}});
}

Response route(const Request& request, SessionBackend* sessions) {
  const auto [path, query] = splitTarget(request.target());
  const http::verb method = request.method();
  const bool get = method == http::verb::get || method == http::verb::head;

  if (get && path == "/")
    return jsonResponse(request, http::status::ok, json::object{{"app", "demo"}, {"path", path}});
  if (get && path == "/health")
    return jsonResponse(request, http::status::ok, json::object{{"status", "ok"}});
  if (get && path == "/bench") return jsonResponse(request, http::status::ok, json::object{{"ok", true}});
  if (get && path == "/api/whoami") {
    return jsonResponse(request, http::status::ok,
                        json::object{{"x-user", headerOrNull(request, "x-user")},
                                     {"x-user-roles", headerOrNull(request, "x-user-roles")},
                                     {"x-forwarded-for", headerOrNull(request, "x-forwarded-for")},
                                     {"x-request-id", headerOrNull(request, "x-request-id")}});
  }
  if (path == "/login") {
    if (method == http::verb::post) return login(request, query, sessions);
    if (get) {
      return jsonResponse(request, http::status::ok,
                          json::object{{"login", "POST /login?user=NAME&role=ROLE"},
                                       {"next", queryParam(query, "next").value_or("/")}});
    }
  }
  if (method == http::verb::post && path == "/logout") return logout(request, sessions);
  if (get && path.starts_with("/public/")) {
    return jsonResponse(request, http::status::ok, json::object{{"public", true}, {"path", path}});
  }
  return echo(request, path, query);
}

}  // namespace

Response handleRequest(const Request& request, SessionBackend* sessions) {
  Response response = route(request, sessions);
  if (request.method() == http::verb::head) {
    // HEAD: the same header as GET, Content-Length included, and no body.
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  return response;
}

}  // namespace gatehouse::demo
