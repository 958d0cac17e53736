#include "store/store_factory.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "store/redis_client.h"
#include "store/redis_store.h"

namespace gatehouse::store {
namespace {

// A worker's handle on the process-wide memory store: every call goes straight to it.
class SharedMemoryStore final : public Store {
 public:
  explicit SharedMemoryStore(std::shared_ptr<MemoryStore> memory) : memory_(std::move(memory)) {}

  void lookupSession(const SessionLookup& lookup, SessionCallback done) override {
    memory_->lookupSession(lookup, std::move(done));
  }
  void checkRateLimit(const RateLimitCheck& check, RateLimitCallback done) override {
    memory_->checkRateLimit(check, std::move(done));
  }
  void ping(StatusCallback done) override { memory_->ping(std::move(done)); }

 private:
  std::shared_ptr<MemoryStore> memory_;
};

}  // namespace

std::shared_ptr<MemoryStore> makeMemoryStore(const config::StoreConfig& config) {
  MemoryStoreOptions options;
  options.max_keys = config.memory_max_keys;
  return std::make_shared<MemoryStore>(std::move(options));
}

std::unique_ptr<Store> makeWorkerStore(boost::asio::io_context& io, const config::StoreConfig& config,
                                       std::shared_ptr<MemoryStore> memory) {
  if (config.type == config::StoreConfig::Type::Memory) {
    if (!memory)
      throw std::invalid_argument("makeWorkerStore: the memory store type needs the shared memory store");
    return std::make_unique<SharedMemoryStore>(std::move(memory));
  }
  RedisClientOptions options;
  options.url = config.redis;
  options.tls = config.tls;
  options.command_timeout = config.timeout;
  std::vector<std::shared_ptr<RedisClient>> clients;
  for (int i = 0; i < std::max(1, config.connections); ++i) {
    clients.push_back(RedisClient::create(io, options));
    clients.back()->start();
  }
  return std::make_unique<RedisStore>(std::move(clients));
}

}  // namespace gatehouse::store
