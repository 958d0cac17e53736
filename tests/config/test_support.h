// Helpers shared by the config tests: an injected environment and lookups into a LoadResult.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "proxy/config/error_report.h"
#include "proxy/config/loader.h"

namespace gatehouse::config::testing {

// The smallest valid document: everything else has a default.
inline constexpr std::string_view kMinimalConfig = "upstream: {address: 127.0.0.1:3000}\n";

inline Environment fakeEnvironment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

inline LoadResult load(std::string_view yaml, std::map<std::string, std::string> variables = {}) {
  return loadConfigString(yaml, fakeEnvironment(std::move(variables)), "test.yaml");
}

// The first error reported for exactly this key path, or nullptr.
inline const ConfigError* errorAt(const LoadResult& result, std::string_view key) {
  for (const auto& error : result.errors) {
    if (error.key == key) return &error;
  }
  return nullptr;
}

// For assertion messages: every error, one per line.
inline std::string errorsOf(const LoadResult& result) {
  return formatErrors(result);
}

}  // namespace gatehouse::config::testing
