// Checks made once before the workers start, off any event loop.
#pragma once

#include <optional>
#include <string>

#include "proxy/config/config.h"

namespace gatehouse::proxy {

// For a Redis store: connects once and runs the handshake. A configuration mistake (wrong password, unknown
// ACL user, a TLS certificate that does not verify, a bad db) returns the error, and Gatehouse refuses to
// start. A Redis that is merely not usable yet does not — down, unreachable, accepting connections but not
// answering, or answering LOADING / BUSY / MASTERDOWN: it may come up after Gatehouse (a sidecar starts in
// any order); that is logged, /readyz reports it, and each policy's on_store_error applies until it answers.
std::optional<std::string> checkStoreAtStartup(const config::StoreConfig& store);

}  // namespace gatehouse::proxy
