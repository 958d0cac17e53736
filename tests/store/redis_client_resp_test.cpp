// Unit tests without a server: RESP formatting and parsing, script hashing, reconnect backoff.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis_backoff.h"
#include "store/redis_client.h"
#include "store/redis_resp.h"

#include <hiredis/hiredis.h>

namespace gatehouse::store {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

TEST(RedisResp, FormatsArgumentsAsLengthPrefixedBulkStrings) {
  CommandFormatter formatter;
  const std::string_view argv[] = {"SET", "k\0\r\n"sv, ""};
  const FormattedCommand command = formatter.format(argv);
  EXPECT_EQ(command.bytes(), "*3\r\n$3\r\nSET\r\n$4\r\nk\0\r\n\r\n$0\r\n\r\n"sv);
}

TEST(RedisResp, FormatsExactlyAsHiredisDoes) {
  // hiredis's own formatter is the reference: many arguments (a two-digit count), long and binary ones.
  std::vector<std::string> args = {"EVALSHA", std::string(40, 'f'), "10"};
  for (int i = 0; i < 10; ++i)
    args.push_back(std::string(static_cast<std::size_t>(i * 397), static_cast<char>(i)));
  std::vector<std::string_view> views(args.begin(), args.end());
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) pointers.push_back(arg.data()), lengths.push_back(arg.size());
  char* expected = nullptr;
  const int size =
      redisFormatCommandArgv(&expected, static_cast<int>(args.size()), pointers.data(), lengths.data());
  ASSERT_GT(size, 0);
  const std::string reference(expected, static_cast<std::size_t>(size));
  redisFreeCommand(expected);
  CommandFormatter formatter;
  EXPECT_EQ(formatter.format(views).bytes(), reference);
}

TEST(RedisResp, AppendsAfterTheCommandsTheBufferAlreadyHolds) {
  // The connection formats each command straight into its output buffer, behind the batch waiting there.
  std::string out = "*1\r\n$4\r\nPING\r\n";
  const std::size_t held = out.size();
  const std::string_view get[] = {"GET", "session:abc"};
  const std::string long_value(1000, 'v');  // past the buffer's capacity: the append must grow it
  const std::string_view set[] = {"SET", long_value, "x"};
  CommandFormatter formatter;
  formatter.append(out, get);
  formatter.append(out, set);
  EXPECT_EQ(out.substr(0, held), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(out.substr(held),
            std::string(formatter.format(get).bytes()) + std::string(formatter.format(set).bytes()));
}

TEST(RedisResp, ParsesEveryReplyTypeWhenFedOneByteAtATime) {
  const std::string wire =
      "+OK\r\n-ERR bad\r\n:-42\r\n$5\r\na\0\r\nb\r\n$-1\r\n*3\r\n:1\r\n*1\r\n$1\r\nx\r\n*-1\r\n"s;
  RespReader reader;
  std::vector<RedisReply> replies;
  for (char byte : wire) {
    ASSERT_TRUE(reader.feed(std::string_view(&byte, 1)));
    RedisReply reply;
    while (reader.next(reply) == RespReader::Result::Reply) replies.push_back(reply);
  }
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0].type, RedisReply::Type::Status);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_TRUE(replies[1].isError());
  EXPECT_EQ(replies[1].str, "ERR bad");
  EXPECT_EQ(replies[2].type, RedisReply::Type::Integer);
  EXPECT_EQ(replies[2].integer, -42);
  EXPECT_EQ(replies[3].type, RedisReply::Type::String);
  EXPECT_EQ(replies[3].str, "a\0\r\nb"sv);
  EXPECT_TRUE(replies[4].isNil());
  ASSERT_EQ(replies[5].type, RedisReply::Type::Array);
  ASSERT_EQ(replies[5].elements.size(), 3u);
  EXPECT_EQ(replies[5].elements[0].integer, 1);
  ASSERT_EQ(replies[5].elements[1].elements.size(), 1u);
  EXPECT_EQ(replies[5].elements[1].elements[0].str, "x");
  EXPECT_TRUE(replies[5].elements[2].isNil());
}

// The connection passes one reply object to every next() call, so the reader builds into storage that held a
// reply of another shape: nothing of the previous reply may show through.
TEST(RedisResp, ReusingOneReplyObjectLeavesNothingOfThePreviousReply) {
  const std::string wire =
      "*5\r\n:1\r\n:0\r\n:1700000000000\r\n:99\r\n:60000\r\n"  // a rate-limit answer
      "$18\r\n{\"username\":\"ann\"}\r\n"                      // a session
      "*2\r\n$1\r\na\r\n*1\r\n:7\r\n"                          // a smaller, nested array
      "$-1\r\n"                                                // nil
      "-NOSCRIPT No matching script\r\n"
      ":5\r\n"
      "*0\r\n"s;
  RespReader reader;
  ASSERT_TRUE(reader.feed(wire));
  RedisReply reply;

  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  ASSERT_EQ(reply.type, RedisReply::Type::Array);
  ASSERT_EQ(reply.elements.size(), 5u);
  EXPECT_EQ(reply.elements[2].integer, 1700000000000);

  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  EXPECT_EQ(reply.type, RedisReply::Type::String);
  EXPECT_EQ(reply.str, R"({"username":"ann"})");
  EXPECT_TRUE(reply.elements.empty());

  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  ASSERT_EQ(reply.type, RedisReply::Type::Array);
  EXPECT_TRUE(reply.str.empty());
  ASSERT_EQ(reply.elements.size(), 2u);
  EXPECT_EQ(reply.elements[0].type, RedisReply::Type::String);
  EXPECT_EQ(reply.elements[0].str, "a");
  EXPECT_TRUE(reply.elements[0].elements.empty());
  ASSERT_EQ(reply.elements[1].type, RedisReply::Type::Array);
  ASSERT_EQ(reply.elements[1].elements.size(), 1u);
  EXPECT_EQ(reply.elements[1].elements[0].integer, 7);

  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  EXPECT_TRUE(reply.isNil());
  EXPECT_TRUE(reply.str.empty());
  EXPECT_TRUE(reply.elements.empty());

  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  EXPECT_TRUE(reply.isError());
  EXPECT_EQ(reply.str, "NOSCRIPT No matching script");

  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  EXPECT_EQ(reply.type, RedisReply::Type::Integer);
  EXPECT_EQ(reply.integer, 5);
  EXPECT_TRUE(reply.str.empty());

  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  EXPECT_EQ(reply.type, RedisReply::Type::Array);
  EXPECT_TRUE(reply.elements.empty());

  EXPECT_EQ(reader.next(reply), RespReader::Result::NeedMore);
}

TEST(RedisResp, ReportsAProtocolErrorOnGarbage) {
  RespReader reader;
  reader.feed("?what\r\n");
  RedisReply reply;
  EXPECT_EQ(reader.next(reply), RespReader::Result::ProtocolError);
  EXPECT_FALSE(reader.error().empty());
}

TEST(RedisResp, WaitsForTheRestOfAnIncompleteReply) {
  RespReader reader;
  reader.feed("$10\r\n01234");
  RedisReply reply;
  EXPECT_EQ(reader.next(reply), RespReader::Result::NeedMore);
  reader.feed("56789\r\n");
  ASSERT_EQ(reader.next(reply), RespReader::Result::Reply);
  EXPECT_EQ(reply.str, "0123456789");
}

TEST(LuaScript, Sha1IsTheHexDigestRedisUses) {
  const LuaScript script = LuaScript::fromSource("return 1");
  EXPECT_EQ(script.source, "return 1");
  EXPECT_EQ(script.sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(ReconnectBackoff, DoublesWithJitterUpToTheCap) {
  using std::chrono::milliseconds;
  ReconnectBackoff backoff(milliseconds(50), milliseconds(1000), 7);
  const long steps[] = {50, 100, 200, 400, 800, 1000, 1000, 1000};
  for (long step : steps) {
    const auto delay = backoff.next().count();
    EXPECT_GE(delay, step / 2) << "step " << step;
    EXPECT_LE(delay, step) << "step " << step;
  }
  EXPECT_EQ(backoff.attempts(), 8);
  backoff.reset();
  EXPECT_LE(backoff.next().count(), 50);
}

TEST(ReconnectBackoff, JitterSpreadsTheDelays) {
  using std::chrono::milliseconds;
  ReconnectBackoff backoff(milliseconds(1000), milliseconds(1000), 42);
  std::vector<long> delays;
  for (int i = 0; i < 20; ++i) delays.push_back(backoff.next().count());
  std::sort(delays.begin(), delays.end());
  EXPECT_LT(delays.front(), delays.back()) << "every delay was identical: no jitter";
}

}  // namespace
}  // namespace gatehouse::store
