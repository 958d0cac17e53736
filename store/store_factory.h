// Builds the stores a worker uses from store config: the process-wide memory store, and each worker's view of
// the configured store.
#pragma once

#include <memory>

#include "proxy/config/config.h"
#include "store/memory_store.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace gatehouse::store {

// The process's memory store (store.type: memory, and the rate_limit `local` fallback), capped at
// config.memory_max_keys keys, on the system clock.
std::shared_ptr<MemoryStore> makeMemoryStore(const config::StoreConfig& config);

// The store one worker uses, on that worker's io_context. For type memory: a Store that forwards to the
// shared `memory` (and keeps it alive). For type redis: a RedisStore over a new, started RedisClient (url,
// tls and the per-command timeout from config) — destroy it on io's thread; that stops the client. Throws
// std::runtime_error when a rediss:// url's TLS files cannot be loaded.
std::unique_ptr<Store> makeWorkerStore(boost::asio::io_context& io, const config::StoreConfig& config,
                                       std::shared_ptr<MemoryStore> memory);

}  // namespace gatehouse::store
