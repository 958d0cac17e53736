#include "proxy/config/yaml_reader.h"

#include <algorithm>

#include "proxy/config/env_substitution.h"
#include "proxy/config/units.h"

namespace gatehouse::config {

std::string childPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string indexPath(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

void YamlReader::error(const YAML::Mark& mark, std::string path, std::string message) {
  ConfigError error;
  error.key = std::move(path);
  if (!mark.is_null()) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  error.message = std::move(message);
  errors_.push_back(std::move(error));
}

std::string YamlReader::describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "no value";
}

std::optional<std::string> YamlReader::string(const YAML::Node& node, const std::string& path,
                                              std::string_view what) {
  if (!node.IsScalar()) {
    std::string message = "expected " + std::string(what) + ", found " + describe(node);
    if (node.IsNull()) message += " (write \"\" for an empty string)";
    error(node, path, std::move(message));
    return std::nullopt;
  }
  auto substituted = substituteEnvironment(node.Scalar(), env_);
  if (!substituted) {
    error(node, path, std::move(substituted.error));
    return std::nullopt;
  }
  return std::move(substituted.value);
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, const std::string& path) {
  auto text = string(node, path, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  error(node, path, "expected true or false, found \"" + *text + "\"");
  return std::nullopt;
}

std::optional<std::uint64_t> YamlReader::count(const YAML::Node& node, const std::string& path,
                                               std::uint64_t min, std::uint64_t max) {
  auto value = parsed<std::uint64_t>(node, path, "a whole number", parseUnsigned);
  if (!value) return std::nullopt;
  if (*value < min) {
    error(node, path, "must be at least " + std::to_string(min) + ", found " + std::to_string(*value));
    return std::nullopt;
  }
  if (*value > max) {
    error(node, path, "must be at most " + std::to_string(max) + ", found " + std::to_string(*value));
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> YamlReader::duration(const YAML::Node& node, const std::string& path, Duration min) {
  auto value = parsed<Duration>(node, path, "a duration", parseDuration);
  if (!value) return std::nullopt;
  const auto range =
      "; allowed: " + formatDuration(min) + " to " + formatDuration(kMaxDuration) + " (365 days)";
  if (*value < min) {
    error(node, path, "must be at least " + formatDuration(min) + range);
    return std::nullopt;
  }
  if (*value > kMaxDuration) {
    error(node, path, "\"" + formatDuration(*value) + "\" is too large" + range);
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> YamlReader::size(const YAML::Node& node, const std::string& path,
                                              std::uint64_t min) {
  auto value = parsed<std::uint64_t>(node, path, "a size", parseSize);
  if (!value) return std::nullopt;
  if (*value < min) {
    error(node, path, "must be at least " + formatSize(min));
    return std::nullopt;
  }
  return value;
}

void YamlReader::forEach(const YAML::Node& node, const std::string& path,
                         const std::function<void(const YAML::Node&, const std::string&)>& visit) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    error(node, path, "expected a list, found " + describe(node));
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) visit(node[i], indexPath(path, i));
}

void YamlReader::forEachEntry(
    const YAML::Node& node, const std::string& path,
    const std::function<void(const YAML::Node&, const YAML::Node&, const std::string&)>& visit) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    error(node, path, "expected a map, found " + describe(node));
    return;
  }
  std::vector<std::string> seen;
  for (const auto& entry : node) {
    // yaml-cpp iterators yield a temporary pair: copy the nodes (cheap handles) rather than bind references.
    const YAML::Node key_node = entry.first;
    if (!key_node.IsScalar()) {
      error(key_node, path, "a key must be a plain name, found " + describe(key_node));
      continue;
    }
    const std::string& key = key_node.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      error(key_node, childPath(path, key), "duplicate key");
      continue;
    }
    seen.push_back(key);
    visit(key_node, entry.second, childPath(path, key));
  }
}

MapReader::MapReader(YamlReader& reader, const YAML::Node& node, std::string path,
                     std::vector<std::string> known_keys)
    : reader_(reader), node_(node), path_(std::move(path)) {
  if (node.IsNull()) {
    is_map_ = true;
    return;
  }
  if (!node.IsMap()) {
    reader_.error(node, path_, "expected a map, found " + YamlReader::describe(node));
    return;
  }
  is_map_ = true;
  for (const auto& entry : node) {
    // yaml-cpp iterators yield a temporary pair: copy the nodes (cheap handles) rather than bind references.
    const YAML::Node key_node = entry.first;
    if (!key_node.IsScalar()) {
      reader_.error(key_node, path_, "a key must be a plain name, found " + YamlReader::describe(key_node));
      continue;
    }
    const std::string& key = key_node.Scalar();
    if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end()) {
      if (auto suggestion = closestMatch(key, known_keys)) suggested_.push_back(std::move(*suggestion));
      reader_.error(
          key_node, childPath(path_, key),
          "unknown key" + didYouMean(key, known_keys) + " (known keys: " + joinNames(known_keys) + ")");
      continue;
    }
    if (find(key) != nullptr) {
      reader_.error(key_node, childPath(path_, key), "duplicate key");
      continue;
    }
    entries_.push_back(Entry{key, entry.second});
  }
}

const YAML::Node* MapReader::find(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

bool MapReader::require(std::string_view key) {
  if (find(key) != nullptr) return true;
  // A misspelt key was already reported with this key as the suggestion; "missing" would say the same twice.
  const bool reported_as_typo = std::find(suggested_.begin(), suggested_.end(), key) != suggested_.end();
  if (is_map_ && !reported_as_typo) reader_.error(node_, childPath(path_, key), "missing required key");
  return false;
}

void MapReader::read(std::string_view key, std::string& out) {
  if (const auto* node = find(key)) {
    if (auto value = reader_.string(*node, pathOf(key))) out = std::move(*value);
  }
}

void MapReader::read(std::string_view key, bool& out) {
  if (const auto* node = find(key)) {
    if (auto value = reader_.boolean(*node, pathOf(key))) out = *value;
  }
}

void MapReader::readDuration(std::string_view key, Duration& out, Duration min) {
  if (const auto* node = find(key)) {
    if (auto value = reader_.duration(*node, pathOf(key), min)) out = *value;
  }
}

}  // namespace gatehouse::config
