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
// A message rarely carries more than one Connection field.
using ConnectionFields = boost::container::small_vector<Fields::const_iterator, 2>;

bool isOws(char c) {
  return c == ' ' || c == '\t';
}

// The commonest tokens name fields whose fate their name alone decides (Keep-Alive always goes; Upgrade goes
// unless kept for an upgrade, whatever Connection says): leaving them out changes nothing, and spares the
// usual "Connection: keep-alive" message a second pass.
bool namesAFieldDecidedByName(std::string_view token) {
  return boost::beast::iequals(token, "keep-alive") || boost::beast::iequals(token, "upgrade");
}

void collectTokens(std::string_view list, Tokens& tokens) {
  while (true) {
    const auto comma = list.find(',');
    auto token = list.substr(0, comma);
    while (!token.empty() && isOws(token.front())) token.remove_prefix(1);
    while (!token.empty() && isOws(token.back())) token.remove_suffix(1);
    if (!token.empty() && !namesAFieldDecidedByName(token)) tokens.push_back(token);
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

// Fields that go whatever Connection says.
bool isRemovedByName(bhttp::field name, bool keep_upgrade) {
  return isAlwaysHopByHop(name) || (name == bhttp::field::upgrade && !keep_upgrade);
}

// Connection fields are not decided here: they go last, after every other field was looked at.
bool shouldRemove(const Fields::value_type& field, bool keep_upgrade, const Tokens& nominated) {
  const auto name = field.name();
  if (name == bhttp::field::connection || isProtected(name)) return false;
  if (isRemovedByName(name, keep_upgrade)) return true;
  if (name == bhttp::field::upgrade) return false;  // kept for an upgrade even though Connection names it
  return !nominated.empty() && isNominated(field.name_string(), nominated);
}

}  // namespace

void removeHopByHop(Fields& fields, bool keep_upgrade) {
  // First pass, comparing enums only: the Connection fields (kept until the end: the nominated tokens point
  // into their values) and their tokens. Most messages have nothing to remove and end here.
  Tokens nominated;
  ConnectionFields connections;
  bool remove_by_name = false;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const auto name = it->name();
    if (name == bhttp::field::connection) {
      connections.push_back(it);
      collectTokens(it->value(), nominated);
    } else if (isRemovedByName(name, keep_upgrade)) {
      remove_by_name = true;
    }
  }
  if (!remove_by_name && nominated.empty()) {
    for (const auto& connection : connections) fields.erase(connection);
    return;
  }

  for (auto it = fields.begin(); it != fields.end();) {
    it = shouldRemove(*it, keep_upgrade, nominated) ? fields.erase(it) : std::next(it);
  }
  for (const auto& connection : connections) fields.erase(connection);
}

}  // namespace gatehouse::http
