#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "store/redis_reply.h"

namespace gatehouse::testing {

namespace {

// The test client uses hiredis's own blocking API; its replies are copied into the store's type.
store::RedisReply toRedisReply(const redisReply& reply) {
  store::RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = reply.type == REDIS_REPLY_STRING   ? store::RedisReply::Type::String
                 : reply.type == REDIS_REPLY_STATUS ? store::RedisReply::Type::Status
                                                    : store::RedisReply::Type::Error;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = store::RedisReply::Type::Integer;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = store::RedisReply::Type::Array;
      for (std::size_t i = 0; i < reply.elements; ++i)
        out.elements.push_back(toRedisReply(*reply.element[i]));
      break;
    default:
      out.type = store::RedisReply::Type::Nil;
      break;
  }
  return out;
}

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kStartAttempts = 5;   // a free port may be taken between our probe and redis's bind
constexpr auto kStartTimeout = 5s;  // per attempt, until PING answers
constexpr auto kPollInterval = 10ms;

struct ContextFree {
  void operator()(redisContext* context) const { redisFree(context); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

std::string systemError(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Binds port 0 on loopback to let the kernel pick a free port, then releases it for redis-server to take.
std::uint16_t pickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(systemError("socket"));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = systemError("bind 127.0.0.1:0");
    ::close(fd);
    throw std::runtime_error(error);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::vector<char*> toArgv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

// fork + exec with stdout/stderr appended to `log`. The child dies with the test process (PR_SET_PDEATHSIG),
// so a crashed test never leaves a redis-server behind.
pid_t spawn(std::vector<std::string> args, const fs::path& log) {
  std::vector<char*> argv = toArgv(args);
  const std::string log_path = log.string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(systemError("fork"));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

void runTool(std::vector<std::string> args, const fs::path& log) {
  const std::string tool = args.front();
  const pid_t pid = spawn(std::move(args), log);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(tool + " failed; see " + log.string());
  }
}

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the
// CA. EC keys: generating them is instant, unlike RSA.
void generateCertificates(const fs::path& dir) {
  const fs::path log = dir / "openssl.log";
  const auto file = [&](const char* name) { return (dir / name).string(); };
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                           "-nodes"};
  auto request = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), ec_key.begin(), ec_key.end());
    head.insert(head.end(), tail.begin(), tail.end());
    runTool(std::move(head), log);
  };
  request({"openssl", "req", "-x509", "-new"}, {"-keyout", file("ca.key"), "-out", file("ca.crt"), "-days",
                                                "2", "-subj", "/CN=gatehouse test CA"});
  writeFile(
      dir / "server.ext",
      "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
      "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  writeFile(
      dir / "client.ext",
      "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
  for (const char* role : {"server", "client"}) {
    const std::string name(role);
    request({"openssl", "req", "-new"},
            {"-keyout", file((name + ".key").c_str()), "-out", file((name + ".csr").c_str()), "-subj",
             name == "server" ? "/CN=127.0.0.1" : "/CN=gatehouse test client"});
    runTool({"openssl", "x509", "-req", "-in", file((name + ".csr").c_str()), "-CA", file("ca.crt"), "-CAkey",
             file("ca.key"), "-CAcreateserial", "-days", "2", "-out", file((name + ".crt").c_str()),
             "-extfile", file((name + ".ext").c_str())},
            log);
  }
}

std::vector<std::string> splitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace

struct RedisServer::State {
  RedisServerOptions options;
  fs::path dir;
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::uint16_t tls_port = 0;

  std::vector<std::string> arguments() const {
    std::vector<std::string> args = {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                     "--save",       "",       "--appendonly",       "no",     "--dir",
                                     dir.string()};
    if (options.tls) {
      args.insert(args.end(),
                  {"--tls-port", std::to_string(tls_port), "--tls-cert-file", (dir / "server.crt").string(),
                   "--tls-key-file", (dir / "server.key").string(), "--tls-ca-cert-file",
                   (dir / "ca.crt").string(), "--tls-auth-clients", "optional"});
    }
    if (options.unix_socket) {
      args.insert(args.end(), {"--unixsocket", (dir / "redis.sock").string(), "--unixsocketperm", "700"});
    }
    if (!options.requirepass.empty()) args.insert(args.end(), {"--requirepass", options.requirepass});
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
    return args;
  }

  // A fresh blocking connection on the plain port, authenticated as the default user when requirepass is set.
  Context connect(std::chrono::milliseconds timeout) const {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    Context context(redisConnectWithTimeout("127.0.0.1", port, tv));
    if (!context || context->err != 0) return nullptr;
    redisSetTimeout(context.get(), tv);
    if (!options.requirepass.empty()) {
      const char* argv[] = {"AUTH", options.requirepass.c_str()};
      Reply reply(static_cast<redisReply*>(redisCommandArgv(context.get(), 2, argv, nullptr)));
      if (!reply || reply->type == REDIS_REPLY_ERROR) return nullptr;
    }
    return context;
  }

  // Reaps the process when it has exited (e.g. its port was taken), so that its pid is never signalled again.
  bool alive() {
    if (pid <= 0) return false;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == 0) return true;
    pid = -1;
    return false;
  }

  bool waitForPing() {
    const auto deadline = Clock::now() + kStartTimeout;
    while (Clock::now() < deadline && alive()) {
      if (Context context = connect(200ms)) {
        Reply reply(static_cast<redisReply*>(redisCommand(context.get(), "PING")));
        if (reply && reply->type == REDIS_REPLY_STATUS) return true;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    return false;
  }

  void launch() {
    pid = spawn(arguments(), dir / "redis.log");
    if (!waitForPing()) {
      stopProcess();
      throw std::runtime_error("redis-server did not answer PING on port " + std::to_string(port) + "; see " +
                               (dir / "redis.log").string());
    }
    for (const std::string& user : options.acl_users) {
      std::vector<std::string> argv = {"ACL", "SETUSER"};
      for (std::string& word : splitWords(user)) argv.push_back(std::move(word));
      const store::RedisReply reply = command(argv);
      if (reply.isError()) throw std::runtime_error("ACL SETUSER " + user + ": " + reply.str);
    }
  }

  void stopProcess() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }

  store::RedisReply command(const std::vector<std::string>& argv) const {
    Context context = connect(2000ms);
    if (!context) throw std::runtime_error("cannot connect to redis-server on port " + std::to_string(port));
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : argv) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(context.get(), static_cast<int>(argv.size()), pointers.data(), lengths.data())));
    if (!reply) throw std::runtime_error(std::string("redis command failed: ") + context->errstr);
    return toRedisReply(*reply);
  }
};

RedisServer::RedisServer(RedisServerOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  std::string pattern = (fs::temp_directory_path() / "gatehouse-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error(systemError("mkdtemp " + pattern));
  state_->dir = pattern;
  try {
    if (state_->options.tls) generateCertificates(state_->dir);
    for (int attempt = 1;; ++attempt) {
      state_->port = pickFreePort();
      state_->tls_port = state_->options.tls ? pickFreePort() : 0;
      try {
        state_->launch();
        return;
      } catch (const std::runtime_error&) {
        if (attempt == kStartAttempts) throw;
      }
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(state_->dir, ignored);
    throw;
  }
}

RedisServer::~RedisServer() {
  state_->stopProcess();
  std::error_code ignored;
  fs::remove_all(state_->dir, ignored);
}

std::uint16_t RedisServer::port() const {
  return state_->port;
}
std::uint16_t RedisServer::tlsPort() const {
  return state_->tls_port;
}
std::string RedisServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(state_->port) + "/0";
}
std::string RedisServer::tlsDir() const {
  return state_->options.tls ? state_->dir.string() : std::string();
}
std::string RedisServer::unixSocketPath() const {
  return state_->options.unix_socket ? (state_->dir / "redis.sock").string() : std::string();
}

config::RedisUrl RedisServer::redisUrl() const {
  config::RedisUrl url;
  url.host = "127.0.0.1";
  url.port = state_->port;
  url.password = state_->options.requirepass;
  return url;
}

void RedisServer::kill() {
  state_->stopProcess();
}

void RedisServer::restart() {
  if (state_->pid > 0)
    throw std::logic_error("RedisServer::restart() while it is running; call kill() first");
  state_->launch();
}

void RedisServer::pause() {
  if (state_->pid > 0) ::kill(state_->pid, SIGSTOP);
}

void RedisServer::resume() {
  if (state_->pid > 0) ::kill(state_->pid, SIGCONT);
}

store::RedisReply RedisServer::command(const std::vector<std::string>& argv) const {
  return state_->command(argv);
}

}  // namespace gatehouse::testing
