// Reading values out of a yaml-cpp tree the way every config section needs it: ${VAR} substitution before
// type conversion, strict types, and every problem recorded as a ConfigError (key path, line, column) instead
// of thrown, so that one load reports all of them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "proxy/config/loader.h"
#include "proxy/config/parse_result.h"
#include "proxy/config/suggest.h"

namespace gatehouse::config {

std::string childPath(const std::string& parent, std::string_view key);  // "a" + "b" → "a.b"
std::string indexPath(const std::string& parent, std::size_t index);     // "a" + 2 → "a[2]"

// The allowed words of an enum-like key, in the order the docs list them.
template <typename E>
using Choices = std::vector<std::pair<std::string, E>>;

class YamlReader {
 public:
  YamlReader(const Environment& env, std::vector<ConfigError>& errors) : env_(env), errors_(errors) {}

  void error(const YAML::Mark& mark, std::string path, std::string message);
  void error(const YAML::Node& at, std::string path, std::string message) {
    error(at.Mark(), std::move(path), std::move(message));
  }

  // A scalar after ${VAR} substitution. `what` names the expected value in messages ("a duration").
  std::optional<std::string> string(const YAML::Node& node, const std::string& path,
                                    std::string_view what = "a string");
  std::optional<bool> boolean(const YAML::Node& node, const std::string& path);
  std::optional<std::uint64_t> count(const YAML::Node& node, const std::string& path, std::uint64_t min,
                                     std::uint64_t max);
  std::optional<Duration> duration(const YAML::Node& node, const std::string& path, Duration min);
  std::optional<std::uint64_t> size(const YAML::Node& node, const std::string& path, std::uint64_t min);

  // A scalar run through a parser that returns ParseResult<T>; its message becomes the error.
  template <typename T, typename Parse>
  std::optional<T> parsed(const YAML::Node& node, const std::string& path, std::string_view what,
                          Parse&& parse) {
    auto text = string(node, path, what);
    if (!text) return std::nullopt;
    ParseResult<T> result = parse(*text);
    if (!result) error(node, path, std::move(result.error));
    return std::move(result.value);
  }

  template <typename E>
  std::optional<E> choice(const YAML::Node& node, const std::string& path, const Choices<E>& choices) {
    auto text = string(node, path);
    if (!text) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& [name, value] : choices) {
      if (name == *text) return value;
      names.push_back(name);
    }
    error(node, path,
          "unknown value \"" + *text + "\"; expected one of: " + joinNames(names) + didYouMean(*text, names));
    return std::nullopt;
  }

  // Calls visit(element, "path[i]") for each element of a list. A missing value (`key:`) is an empty list.
  void forEach(const YAML::Node& node, const std::string& path,
               const std::function<void(const YAML::Node&, const std::string&)>& visit);

  // Calls visit(key node, value, "path.key") for each entry of a map whose keys are names the user chooses
  // (policy names). Keys must be scalars and unique. A missing value is an empty map.
  void forEachEntry(
      const YAML::Node& node, const std::string& path,
      const std::function<void(const YAML::Node&, const YAML::Node&, const std::string&)>& visit);

  // "a map", "a list", "the string \"x\"", "no value": for "expected ..., found ..." messages.
  static std::string describe(const YAML::Node& node);

 private:
  const Environment& env_;
  std::vector<ConfigError>& errors_;
};

// One YAML map: checks its keys once (unknown → error with a suggestion, duplicates → error) and reads fields
// into a config struct. Each read* leaves the target unchanged when the key is absent or its value is
// invalid, so defaults stay in place and later checks do not pile up errors on top of the first.
class MapReader {
 public:
  // A missing value (`tls:`) is an empty map; anything else that is not a map is reported.
  MapReader(YamlReader& reader, const YAML::Node& node, std::string path,
            std::vector<std::string> known_keys);

  bool isMap() const { return is_map_; }
  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }
  YamlReader& reader() { return reader_; }

  const YAML::Node* find(std::string_view key) const;  // nullptr when absent
  std::string pathOf(std::string_view key) const { return childPath(path_, key); }
  // Reports the key as missing, at the map's position. Returns whether it is present.
  bool require(std::string_view key);

  void read(std::string_view key, std::string& out);
  void read(std::string_view key, bool& out);
  void readDuration(std::string_view key, Duration& out, Duration min = Duration::zero());

  template <typename Int>
  void readCount(std::string_view key, Int& out, std::uint64_t min, std::uint64_t max) {
    if (const auto* node = find(key)) {
      if (auto value = reader_.count(*node, pathOf(key), min, max)) out = static_cast<Int>(*value);
    }
  }

  template <typename Int>
  void readSize(std::string_view key, Int& out, std::uint64_t min) {
    if (const auto* node = find(key)) {
      if (auto value = reader_.size(*node, pathOf(key), min)) out = static_cast<Int>(*value);
    }
  }

  template <typename E>
  void readChoice(std::string_view key, E& out, const Choices<E>& choices) {
    if (const auto* node = find(key)) {
      if (auto value = reader_.choice(*node, pathOf(key), choices)) out = *value;
    }
  }

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
  };

  YamlReader& reader_;
  YAML::Node node_;
  std::string path_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> suggested_;  // keys offered as "did you mean" for unknown keys of this map
};

}  // namespace gatehouse::config
