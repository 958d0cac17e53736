// "Did you mean ...?" for misspelt keys, enum values and names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::config {

// Levenshtein distance, counting a swap of two neighbours as one edit ("tiemout" is one edit from "timeout").
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to word, when it is close enough to be a plausible typo (at most a third of its
// length, at least one edit, never every letter); nullopt otherwise.
std::optional<std::string> closestMatch(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean \"x\"?" or "" — ready to append to a message.
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c" for "expected one of: ..." messages.
std::string joinNames(const std::vector<std::string>& names);

}  // namespace gatehouse::config
