#include "filters/identity_headers.h"

#include <algorithm>

namespace gatehouse::filters {
namespace {

char foldHeaderChar(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  if (c == '_') return '-';
  return c;
}

void addUnique(std::vector<std::string>& names, const std::string& name) {
  if (name.empty()) return;
  const bool known = std::any_of(names.begin(), names.end(), [&](const std::string& existing) {
    return isSameHeaderName(existing, name);
  });
  if (!known) names.push_back(name);
}

}  // namespace

bool isSameHeaderName(std::string_view field, std::string_view name) {
  if (field.size() != name.size()) return false;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (foldHeaderChar(field[i]) != foldHeaderChar(name[i])) return false;
  }
  return true;
}

std::size_t stripIdentityHeaders(RequestHeader& request, std::span<const std::string> names) {
  std::size_t removed = 0;
  if (names.empty()) return removed;
  for (auto it = request.begin(); it != request.end();) {
    const std::string_view field = it->name_string();
    const bool identity = std::any_of(names.begin(), names.end(),
                                      [&](const std::string& name) { return isSameHeaderName(field, name); });
    if (identity) {
      it = request.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

std::vector<std::string> identityHeaderNames(const config::Config& config) {
  std::vector<std::string> names;
  for (const auto& [policy_name, policy] : config.sessions) {
    addUnique(names, policy.user_header);
    addUnique(names, policy.roles_header);
  }
  return names;
}

void setIdentityHeaders(RequestHeader& request, const config::SessionPolicy& policy, std::string_view user,
                        std::span<const std::string> roles) {
  request.set(policy.user_header, user);
  if (roles.empty()) return;
  std::string joined;
  for (const std::string& role : roles) {
    if (!joined.empty()) joined.push_back(',');
    joined.append(role);
  }
  request.set(policy.roles_header, joined);
}

}  // namespace gatehouse::filters
