#include "proxy/operation_memory.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace gatehouse::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

TEST(OperationMemory, AFreedBlockIsTakenAgainInsteadOfANewOne) {
  OperationMemory memory(640);
  void* first = memory.allocate(100);
  void* second = memory.allocate(640);
  EXPECT_EQ(memory.blocksCreated(), 2u);
  memory.deallocate(first, 100);
  memory.deallocate(second, 640);
  EXPECT_EQ(memory.spareBlocks(), 2u);

  void* again = memory.allocate(300);
  EXPECT_TRUE(again == first || again == second);
  EXPECT_EQ(memory.blocksCreated(), 2u);
  memory.deallocate(again, 300);
}

TEST(OperationMemory, LargerRequestsBypassThePool) {
  OperationMemory memory(256);
  void* big = memory.allocate(257);
  memory.deallocate(big, 257);
  EXPECT_EQ(memory.blocksCreated(), 0u);
  EXPECT_EQ(memory.spareBlocks(), 0u);
}

TEST(OperationMemory, KeepsAtMostMaxSpareBlocks) {
  OperationMemory memory(256);
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < OperationMemory::kMaxSpare + 10; ++i) blocks.push_back(memory.allocate(64));
  for (void* block : blocks) memory.deallocate(block, 64);
  EXPECT_EQ(memory.spareBlocks(), OperationMemory::kMaxSpare);
}

// What the pool is for: writes started in one handler (as a Redis reply resumes a batch of requests) draw
// their Asio operations from it, and the next batch reuses them, however many there are.
TEST(OperationMemory, AsyncWritesStartedTogetherReuseTheBlocksOfTheLastBatch) {
  constexpr std::size_t kWrites = 8;
  asio::io_context io;
  OperationMemory memory(640);  // as the worker's pool for writes
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::vector<std::unique_ptr<tcp::socket>> writers;
  std::vector<std::unique_ptr<tcp::socket>> readers;
  for (std::size_t i = 0; i < kWrites; ++i) {
    writers.push_back(std::make_unique<tcp::socket>(io));
    writers.back()->connect(acceptor.local_endpoint());
    readers.push_back(std::make_unique<tcp::socket>(acceptor.accept()));
  }
  const std::string payload = "GET / HTTP/1.1\r\nHost: app\r\n\r\n";
  const std::array<asio::const_buffer, 2> parts{asio::buffer(payload), asio::buffer(payload)};
  std::size_t completed = 0;
  auto batch = [&] {
    asio::post(io, [&] {
      for (auto& writer : writers) {
        // The buffer sequence the proxy writes (OutgoingMessage::next): a span of buffers.
        asio::async_write(*writer, std::span<const asio::const_buffer>(parts),
                          asio::bind_allocator(OperationAllocator<void>(memory),
                                               [&](boost::system::error_code ec, std::size_t bytes) {
                                                 EXPECT_FALSE(ec);
                                                 EXPECT_EQ(bytes, 2 * payload.size());
                                                 ++completed;
                                               }));
      }
    });
    io.restart();
    io.run();
  };

  batch();
  ASSERT_EQ(completed, kWrites);
  EXPECT_EQ(memory.blocksCreated(), kWrites) << "each write in flight holds a block of the pool";
  EXPECT_EQ(memory.spareBlocks(), kWrites) << "and gives it back when it completes";

  batch();
  EXPECT_EQ(completed, 2 * kWrites);
  EXPECT_EQ(memory.blocksCreated(), kWrites) << "the second batch took no new memory";
  EXPECT_EQ(memory.spareBlocks(), kWrites);
}

}  // namespace
}  // namespace gatehouse::proxy
