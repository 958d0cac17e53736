#include "proxy/http/hop_by_hop.h"

#include <string_view>

#include <boost/beast/core/string.hpp>
#include <boost/container/small_vector.hpp>

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;

// Almost every Connection field names at most a handful of tokens ("keep-alive", "upgrade", "close"): keep
// them on the stack. The views point into the Connection fields' values, which stay alive until the last
// step.
using Tokens = boost::container::small_vector<std::string_view, 8>;

bool isOws(char c) {
  return c == ' ' || c == '\t';
}

void collectTokens(std::string_view list, Tokens& tokens) {
  while (true) {
    const auto comma = list.find(',');
    auto token = list.substr(0, comma);
    while (!token.empty() && isOws(token.front())) token.remove_prefix(1);
    while (!token.empty() && isOws(token.back())) token.remove_suffix(1);
    if (!token.empty()) tokens.push_back(token);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

bool isAlwaysHopByHop(bhttp::field name) {
  switch (name) {
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
      return true;
    default:
      return false;
  }
}

bool isProtected(bhttp::field name) {
  return name == bhttp::field::host || name == bhttp::field::content_length;
}

bool isNominated(std::string_view name, const Tokens& tokens) {
  for (const auto token : tokens) {
    if (boost::beast::iequals(name, token)) return true;
  }
  return false;
}

}  // namespace

void removeHopByHop(Fields& fields, bool keep_upgrade) {
  Tokens nominated;
  const auto [first, last] = fields.equal_range(bhttp::field::connection);
  for (auto it = first; it != last; ++it) collectTokens(it->value(), nominated);

  // Connection itself goes last, after this pass: the nominated tokens point into its values.
  auto shouldRemove = [&](const Fields::value_type& field) {
    const auto name = field.name();
    if (name == bhttp::field::connection || isProtected(name)) return false;
    if (name == bhttp::field::upgrade)
      return !keep_upgrade;  // kept for an upgrade even though Connection names it
    if (isAlwaysHopByHop(name)) return true;
    return !nominated.empty() && isNominated(field.name_string(), nominated);
  };
  for (auto it = fields.begin(); it != fields.end();) {
    it = shouldRemove(*it) ? fields.erase(it) : std::next(it);
  }
  fields.erase(bhttp::field::connection);
}

}  // namespace gatehouse::http
