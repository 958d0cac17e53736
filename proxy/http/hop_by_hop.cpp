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

bool isAlwaysHopByHop(bhttp::field name, bool keep_upgrade) {
  switch (name) {
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
      return true;
    case bhttp::field::upgrade:
      return !keep_upgrade;
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

void removeHopByHop(bhttp::fields& fields, bool keep_upgrade) {
  Tokens nominated;
  const auto [first, last] = fields.equal_range(bhttp::field::connection);
  for (auto it = first; it != last; ++it) collectTokens(it->value(), nominated);

  for (auto it = fields.begin(); it != fields.end();) {
    const auto name = it->name();
    bool remove = false;
    if (name == bhttp::field::connection || isProtected(name)) {
      remove = false;  // Connection goes last: the nominated tokens point into it
    } else if (isAlwaysHopByHop(name, keep_upgrade)) {
      remove = true;
    } else if (name == bhttp::field::upgrade) {
      remove = false;  // kept for the upgrade even when Connection names it, as it must
    } else {
      remove = !nominated.empty() && isNominated(it->name_string(), nominated);
    }
    it = remove ? fields.erase(it) : std::next(it);
  }
  fields.erase(bhttp::field::connection);
}

}  // namespace gatehouse::http
