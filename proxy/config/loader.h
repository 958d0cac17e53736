// Loads config.yaml into an immutable Config. Every error names the key path, the line and column, and what
// was expected; loading goes on after an error so that one run reports all of them (like `nginx -t`).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/config/config.h"

namespace gatehouse::config {

struct ConfigError {
  std::string key;  // dotted path, e.g. "routes[2].match.prefix" ("" for the document itself)
  int line = 0;     // 1-based; 0 when unknown
  int column = 0;   // 1-based; 0 when unknown
  std::string message;

  std::string toString() const;  // "config.yaml:12:5: routes[2].match: expected ... "
};

// Looks up an environment variable; tests inject their own.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment processEnvironment();

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is not empty
  std::vector<ConfigError> errors;
  std::string source_name;  // file name, or "<string>"
};

LoadResult loadConfigFile(const std::string& path, const Environment& env = processEnvironment());
LoadResult loadConfigString(std::string_view yaml, const Environment& env = processEnvironment(),
                            std::string source_name = "<string>");

// The effective config as YAML, with defaults filled in and secrets (session secrets, store password)
// redacted, for `gatehouse --check`.
std::string describeEffectiveConfig(const Config& config);

}  // namespace gatehouse::config
