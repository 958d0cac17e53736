// X-Request-ID: the id that ties a request's log lines, error body and upstream logs together. A client's own
// id is kept when it is safe to log and echo; otherwise Gatehouse makes one.
#pragma once

#include <string>
#include <string_view>

namespace gatehouse::http {

// Beast has no field enum for it.
inline constexpr std::string_view kRequestIdHeader = "X-Request-ID";

inline constexpr std::size_t kMaxRequestIdLength = 128;

// 1..128 characters of [A-Za-z0-9] and "-_.:+/=". That covers UUIDs, hex and base64 ids, ULIDs and the
// "service:host:seq" styles, while keeping out spaces, quotes, backslashes, ';' and ',' so that the id can be
// written into logs, JSON and headers without escaping and cannot forge log fields.
bool isValidRequestId(std::string_view id);

// A random UUIDv4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"): 122 random bits from a per-thread generator
// seeded once from std::random_device. No lock and no system call per id. Not for secrets: ids are meant to
// be seen. The first form writes into `out`, reusing its memory.
void generateRequestId(std::string& out);
std::string generateRequestId();

}  // namespace gatehouse::http
