#include "proxy/http/error_body.h"

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;

std::size_t escapedSize(std::string_view text) {
  std::size_t size = 0;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
      size += 2;
    } else if (u < 0x20) {
      size += 6;  // \u00XX
    } else {
      size += 1;
    }
  }
  return size;
}

void appendEscaped(std::string& out, std::string_view text) {
  constexpr std::string_view kHex = "0123456789abcdef";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
      }
    }
  }
}

}  // namespace

std::string errorBody(std::string_view error, std::string_view request_id) {
  constexpr std::string_view kOpen = R"({"error":")";
  constexpr std::string_view kMiddle = R"(","request_id":")";
  constexpr std::string_view kClose = R"("})";
  std::string body;
  body.reserve(kOpen.size() + escapedSize(error) + kMiddle.size() + escapedSize(request_id) + kClose.size());
  body += kOpen;
  appendEscaped(body, error);
  body += kMiddle;
  appendEscaped(body, request_id);
  body += kClose;
  return body;
}

void addRequestId(std::string& body, std::string_view request_id) {
  constexpr std::string_view kKey = R"("request_id":")";
  const auto close = body.find_last_of('}');
  if (body.empty() || body.front() != '{' || close == std::string::npos) return;
  if (body.find(R"("request_id")") != std::string::npos) return;
  const auto before = body.find_last_not_of(" \t\r\n", close - 1);
  const bool empty_object = before == 0;  // only the opening brace before the closing one
  std::string field;
  field.reserve(1 + kKey.size() + escapedSize(request_id) + 1);
  if (!empty_object) field += ',';
  field += kKey;
  appendEscaped(field, request_id);
  field += '"';
  body.insert(close, field);
}

std::string_view reasonFor(bhttp::status status) {
  // Beast's table of phrases; "obsolete" only because HTTP/2 dropped the phrase from the status line.
  if (const auto phrase = bhttp::obsolete_reason(status); phrase != "<unknown-status>") return phrase;
  switch (bhttp::to_status_class(static_cast<unsigned>(status))) {
    case bhttp::status_class::informational:
      return "Informational";
    case bhttp::status_class::successful:
      return "Success";
    case bhttp::status_class::redirection:
      return "Redirection";
    case bhttp::status_class::client_error:
      return "Client Error";
    case bhttp::status_class::server_error:
      return "Server Error";
    case bhttp::status_class::unknown:
      break;
  }
  return "Unknown Status";
}

std::string_view reasonFor(unsigned status) {
  return reasonFor(static_cast<bhttp::status>(status));
}

}  // namespace gatehouse::http
