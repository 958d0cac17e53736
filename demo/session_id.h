// Session ids for the demo app: 32 lowercase hex characters (128 random bits), the shape of the seed's ids.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gatehouse::demo {

inline constexpr std::size_t kSessionIdLength = 32;

std::string newSessionId();

// True for a string newSessionId() could have made; the app refuses anything else before it builds a Redis
// key.
bool isSessionId(std::string_view text);

}  // namespace gatehouse::demo
