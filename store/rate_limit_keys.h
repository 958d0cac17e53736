// What both stores agree on about a rate-limit check before any counting: whether it is well formed, and the
// name of the key that holds each limit's state. The names are Redis's ("gh:rl:{<key>}:sw:<window_ms>"): the
// base key is the hash tag, so every key of a check lives in one Redis Cluster slot; the algorithm is part of
// the name, so a policy switched from one algorithm to the other starts afresh instead of meeting a key of
// the wrong type.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace gatehouse::store {

// Why the check cannot be evaluated, or nullopt when it can: a check needs at least one limit, windows > 0, a
// cost > 0 and a key without '{' or '}'.
std::optional<std::string> invalidCheckReason(const RateLimitCheck& check);

std::string rateLimitKey(std::string_view base_key, RateLimitAlgorithm algorithm, Millis window);

// The same name appended to `out`: a store that keeps one buffer for the keys of a check builds them without
// an allocation per check.
void appendRateLimitKey(std::string& out, std::string_view base_key, RateLimitAlgorithm algorithm,
                        Millis window);

}  // namespace gatehouse::store
