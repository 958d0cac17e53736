// Connecting: ACL and legacy authentication, SELECT, TLS (and its verification), unix sockets, and the clear
// error texts of probe().
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/support/redis_server.h"
#include "tests/support/redis_test_client.h"
#include "tests/support/run_until.h"

namespace gatehouse::store {
namespace {

using namespace std::chrono_literals;
using testing::connectedClient;
using testing::optionsFor;
using testing::Outcome;
using testing::RedisServer;
using testing::RedisServerOptions;
using testing::runCommand;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

RedisServerOptions withTls() {
  RedisServerOptions options;
  options.tls = true;
  return options;
}

TEST(RedisConnect, ProbeSucceedsAgainstAHealthyServer) {
  RedisServer server;
  EXPECT_EQ(RedisClient::probe(optionsFor(server), 2s), std::nullopt);
}

TEST(RedisConnect, ProbeReportsConnectionRefused) {
  std::uint16_t port = 0;
  {
    RedisServer server;
    port = server.port();
  }
  RedisClientOptions options;
  options.url.port = port;
  const auto error = RedisClient::probe(options, 2s);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(contains(*error, "redis 127.0.0.1:" + std::to_string(port) + ": connect:")) << *error;
  EXPECT_TRUE(contains(*error, "refused")) << *error;
}

TEST(RedisConnect, AclUserAuthenticatesAndWrongPasswordIsAClearError) {
  RedisServerOptions server_options;
  server_options.acl_users = {"alice on >s3cret ~* &* +@all"};
  RedisServer server(server_options);

  RedisClientOptions options = optionsFor(server);
  options.url.user = "alice";
  options.url.password = "s3cret";
  EXPECT_EQ(RedisClient::probe(options, 2s), std::nullopt);

  boost::asio::io_context io;
  auto client = connectedClient(io, options);
  const Outcome whoami = runCommand(io, *client, {"ACL", "WHOAMI"});
  EXPECT_EQ(whoami.reply.str, "alice");
  client->stop();

  options.url.password = "wrong-password";
  const auto error = RedisClient::probe(options, 2s);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(
      contains(*error, "redis 127.0.0.1:" + std::to_string(server.port()) + ": authentication failed: "))
      << *error;
  EXPECT_TRUE(contains(*error, "WRONGPASS")) << *error;
  EXPECT_FALSE(contains(*error, "wrong-password")) << "the password leaked into the error text";
}

TEST(RedisConnect, LegacyRequirepass) {
  RedisServerOptions server_options;
  server_options.requirepass = "hunter2";
  RedisServer server(server_options);

  boost::asio::io_context io;
  auto client = connectedClient(io, optionsFor(server));  // redisUrl() carries the password
  EXPECT_EQ(runCommand(io, *client, {"SET", "k", "v"}).reply.str, "OK");
  client->stop();

  RedisClientOptions no_password = optionsFor(server);
  no_password.url.password.clear();
  const auto missing = RedisClient::probe(no_password, 2s);
  ASSERT_TRUE(missing.has_value());
  EXPECT_TRUE(contains(*missing, "NOAUTH")) << *missing;

  RedisClientOptions wrong = optionsFor(server);
  wrong.url.password = "nope";
  const auto refused = RedisClient::probe(wrong, 2s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(contains(*refused, "authentication failed")) << *refused;
}

TEST(RedisConnect, SelectsTheConfiguredDatabaseAndNamesTheConnection) {
  RedisServer server;
  RedisClientOptions options = optionsFor(server);
  options.url.db = 3;
  boost::asio::io_context io;
  auto client = connectedClient(io, options);
  ASSERT_EQ(runCommand(io, *client, {"SET", "where", "db3"}).reply.str, "OK");
  const Outcome info = runCommand(io, *client, {"CLIENT", "INFO"});
  EXPECT_TRUE(contains(info.reply.str, " db=3 ")) << info.reply.str;
  EXPECT_TRUE(contains(info.reply.str, " name=gatehouse ")) << info.reply.str;
  EXPECT_TRUE(server.command({"GET", "where"}).isNil()) << "written to db 0";
  EXPECT_EQ(
      server.command({"EVAL", "redis.call('SELECT', 3) return redis.call('GET', KEYS[1])", "1", "where"}).str,
      "db3");
  client->stop();

  options.url.db = 99;  // past the default 16 databases
  const auto error = RedisClient::probe(options, 2s);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(contains(*error, "SELECT 99 failed")) << *error;
}

class RedisTlsTest : public ::testing::Test {
 protected:
  RedisTlsTest() : server_(withTls()) {}

  RedisClientOptions tlsOptions(const std::string& host = "127.0.0.1") const {
    RedisClientOptions options = optionsFor(server_);
    options.url.tls = true;
    options.url.host = host;
    options.url.port = server_.tlsPort();
    options.tls.ca_file = server_.tlsDir() + "/ca.crt";
    return options;
  }

  RedisServer server_;
};

TEST_F(RedisTlsTest, ConnectsWithTheGeneratedCa) {
  boost::asio::io_context io;
  auto client = connectedClient(io, tlsOptions());
  EXPECT_EQ(runCommand(io, *client, {"ECHO", "over tls"}).reply.str, "over tls");
  client->stop();
  EXPECT_EQ(RedisClient::probe(tlsOptions("localhost"), 2s), std::nullopt) << "SAN DNS:localhost";
}

TEST_F(RedisTlsTest, PresentsAClientCertificate) {
  RedisClientOptions options = tlsOptions();
  options.tls.cert_file = server_.tlsDir() + "/client.crt";
  options.tls.key_file = server_.tlsDir() + "/client.key";
  boost::asio::io_context io;
  auto client = connectedClient(io, options);
  EXPECT_EQ(runCommand(io, *client, {"PING"}).reply.str, "PONG");
  client->stop();
}

TEST_F(RedisTlsTest, RejectsAServerSignedByAnotherCa) {
  RedisServer other(withTls());
  RedisClientOptions options = tlsOptions();
  options.tls.ca_file = other.tlsDir() + "/ca.crt";
  const auto error = RedisClient::probe(options, 2s);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(contains(*error, "TLS handshake")) << *error;
  EXPECT_TRUE(contains(*error, "certificate verify failed")) << *error;

  options.tls.verify = false;  // explicitly trusting anything
  EXPECT_EQ(RedisClient::probe(options, 2s), std::nullopt);
}

TEST_F(RedisTlsTest, AMissingCaFileIsReported) {
  RedisClientOptions options = tlsOptions();
  options.tls.ca_file = server_.tlsDir() + "/no-such-ca.crt";
  const auto error = RedisClient::probe(options, 2s);
  ASSERT_TRUE(error.has_value());
  EXPECT_TRUE(contains(*error, "no-such-ca.crt")) << *error;
  boost::asio::io_context io;
  EXPECT_THROW(RedisClient::create(io, options), std::runtime_error);
}

TEST(RedisConnect, UnixSocket) {
  RedisServerOptions server_options;
  server_options.unix_socket = true;
  RedisServer server(server_options);
  RedisClientOptions options;
  options.url.unix_socket = true;
  options.url.path = server.unixSocketPath();
  boost::asio::io_context io;
  auto client = connectedClient(io, options);
  EXPECT_EQ(runCommand(io, *client, {"SET", "via", "unix"}).reply.str, "OK");
  EXPECT_EQ(server.command({"GET", "via"}).str, "unix");
  client->stop();
}

}  // namespace
}  // namespace gatehouse::store
