// The outcome of parsing one config value: the value, or a message saying what was expected. The loader turns
// the message into a ConfigError with the key path and position it knows about.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace gatehouse::config {

template <typename T>
struct ParseResult {
  std::optional<T> value;
  std::string error;  // set when value is empty

  static ParseResult ok(T parsed) { return ParseResult{std::move(parsed), {}}; }
  static ParseResult fail(std::string message) { return ParseResult{std::nullopt, std::move(message)}; }
  explicit operator bool() const { return value.has_value(); }
};

}  // namespace gatehouse::config
