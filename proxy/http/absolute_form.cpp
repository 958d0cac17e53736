#include "proxy/http/absolute_form.h"

#include <boost/beast/core/string.hpp>

namespace gatehouse::http {
namespace {

bool startsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && boost::beast::iequals(text.substr(0, prefix.size()), prefix);
}

}  // namespace

std::optional<AbsoluteForm> parseAbsoluteForm(std::string_view target) {
  std::size_t scheme_end = 0;
  if (startsWithIgnoringCase(target, "http://")) {
    scheme_end = 7;
  } else if (startsWithIgnoringCase(target, "https://")) {
    scheme_end = 8;
  } else {
    return std::nullopt;
  }
  const auto rest = target.substr(scheme_end);
  const auto authority_end = rest.find_first_of("/?#");
  AbsoluteForm form;
  form.authority = rest.substr(0, authority_end);
  // user@host is deprecated for http(s) URIs (RFC 9110 §4.2.4) and a known way to make a proxy and the app
  // disagree on the host: refused.
  form.valid = !form.authority.empty() && form.authority.find('@') == std::string_view::npos;
  const auto path_and_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (path_and_query.empty() || path_and_query.front() != '/') form.origin_form = "/";
  form.origin_form.append(path_and_query.substr(0, path_and_query.find('#')));
  return form;
}

}  // namespace gatehouse::http
