#include "tests/integration/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/websocket.hpp>

#include "proxy/config/loader.h"
#include "proxy/runtime.h"
#include "proxy/server.h"

namespace gatehouse::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using asio::ip::tcp;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::size_t kKeepBodyBytes = 1 << 20;
constexpr std::size_t kChunk = 64 * 1024;

}  // namespace

std::string ReceivedRequest::header(const std::string& name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

// ---- TestUpstream: a thread per connection, blocking I/O; simple to read, and only ever a test peer
// -------------------

class TestUpstream::Session {
 public:
  static void run(TestUpstream& upstream, tcp::socket socket, std::uint64_t id) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
      http::request_parser<http::buffer_body> parser;
      parser.body_limit(boost::none);
      parser.header_limit(64 * 1024);
      http::read_header(socket, buffer, parser, ec);
      if (ec) return;
      ReceivedRequest received;
      received.connection_id = id;
      const auto& header = parser.get();
      received.method = std::string(header.method_string());
      received.target = std::string(header.target());
      for (const auto& field : header) {
        auto name = lower(field.name_string());
        auto& value = received.headers[name];
        value = value.empty() ? std::string(field.value()) : value + ", " + std::string(field.value());
      }
      const bool websocket_upgrade = websocket::is_upgrade(parser.get());
      if (websocket_upgrade) {
        upstream.record(received);
        echoWebSocket(std::move(socket), buffer, parser.get());
        return;
      }
      std::vector<char> chunk(kChunk);
      while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        http::read(socket, buffer, parser, ec);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) return;
        const auto got = chunk.size() - parser.get().body().size;
        received.body_bytes += got;
        if (received.body.size() < kKeepBodyBytes)
          received.body.append(chunk.data(), std::min(got, kKeepBodyBytes));
      }
      const bool keep_alive = parser.keep_alive();
      const auto reply = upstream.handle(received);
      upstream.record(std::move(received));
      if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
      if (!writeReply(socket, reply, keep_alive && !reply.close, header.method() == http::verb::head)) return;
      if (!keep_alive || reply.close || reply.drop_after) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
    }
  }

 private:
  static bool writeReply(tcp::socket& socket, const UpstreamReply& reply, bool keep_alive, bool head) {
    beast::error_code ec;
    if (reply.stream_bytes > 0) {
      // A large body generated on the fly: header, then fixed-size writes; nothing is held whole.
      std::ostringstream head_text;
      head_text << "HTTP/1.1 " << reply.status << " OK\r\nContent-Length: " << reply.stream_bytes
                << "\r\nContent-Type: application/octet-stream\r\n"
                << (keep_alive ? "" : "Connection: close\r\n") << "\r\n";
      asio::write(socket, asio::buffer(head_text.str()), ec);
      if (ec) return false;
      std::vector<char> chunk(kChunk, 'x');
      for (std::uint64_t left = reply.stream_bytes; left > 0;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
        asio::write(socket, asio::buffer(chunk.data(), n), ec);
        if (ec) return false;
        left -= n;
      }
      return true;
    }
    Response response{static_cast<http::status>(reply.status), 11};
    response.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : reply.headers) response.insert(name, value);
    response.body() = reply.body;
    response.keep_alive(keep_alive);
    if (reply.chunked) {
      response.chunked(true);
    } else {
      response.prepare_payload();
    }
    if (head) {
      http::response_serializer<http::string_body> serializer(response);
      http::write_header(socket, serializer, ec);
      return !ec;
    }
    http::write(socket, response, ec);
    return !ec;
  }

  static void echoWebSocket(tcp::socket socket, beast::flat_buffer& leftover,
                            const http::request<http::buffer_body>& req) {
    http::request<http::empty_body> upgrade;
    upgrade.base() = req.base();
    websocket::stream<tcp::socket> ws(std::move(socket));
    beast::error_code ec;
    (void)leftover;
    ws.accept(upgrade, ec);
    if (ec) return;
    for (;;) {
      beast::flat_buffer message;
      ws.read(message, ec);
      if (ec) return;
      ws.text(ws.got_text());
      ws.write(message.data(), ec);
      if (ec) return;
    }
  }
};

TestUpstream::TestUpstream() : TestUpstream([](const ReceivedRequest&) { return UpstreamReply{}; }) {}

TestUpstream::TestUpstream(Handler handler) : acceptor_(io_), handler_(std::move(handler)) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { accept(); });
}

void TestUpstream::accept() {
  std::vector<std::thread> sessions;
  std::vector<int> fds;
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec) break;
    const auto id = ++connections_;
    fds.push_back(socket.native_handle());
    sessions.emplace_back(
        [this, socket = std::move(socket), id]() mutable { Session::run(*this, std::move(socket), id); });
  }
  // Unblock every session still reading, then wait for them.
  for (const int fd : fds) ::shutdown(fd, SHUT_RDWR);
  for (auto& session : sessions) session.join();
}

TestUpstream::~TestUpstream() {
  // Shutting the listening socket down makes the blocked accept() return.
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  beast::error_code ec;
  acceptor_.close(ec);
  thread_.join();
}

void TestUpstream::setHandler(Handler handler) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

UpstreamReply TestUpstream::handle(const ReceivedRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(mutex_);
    handler = handler_;
  }
  return handler(request);
}

void TestUpstream::record(ReceivedRequest request) {
  std::lock_guard lock(mutex_);
  requests_.push_back(std::move(request));
}

std::vector<ReceivedRequest> TestUpstream::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t TestUpstream::requestCount() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

// ---- Gatehouse
// ---------------------------------------------------------------------------------------------------

std::string testConfig(const std::string& upstream_address, const std::string& routes_yaml,
                       const std::string& extra_yaml) {
  std::ostringstream yaml;
  yaml << "listen: 127.0.0.1:0\n"
       << "workers: 1\n"
       << "log: {level: warn, access: off}\n"
       << "upstream:\n  address: " << upstream_address << "\n  connect_timeout: 1s\n  response_timeout: 2s\n"
       << extra_yaml << "\n"
       << "routes:\n"
       << routes_yaml;
  return yaml.str();
}

std::string withPort(std::string yaml, std::uint16_t port) {
  yaml.replace(yaml.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(port));
  return yaml;
}

std::shared_ptr<const config::Config> loadTestConfig(const std::string& yaml) {
  const auto loaded = config::loadConfigString(yaml, [](std::string_view name) -> std::optional<std::string> {
    if (const char* value = std::getenv(std::string(name).c_str())) return std::string(value);
    return std::nullopt;
  });
  if (!loaded.errors.empty()) {
    std::string message = "test config invalid:";
    for (const auto& error : loaded.errors) message += "\n  " + error.toString();
    throw std::runtime_error(message + "\n" + yaml);
  }
  return loaded.config;
}

ProxyInstance::ProxyInstance(const std::string& yaml) {
  server_ = std::make_unique<proxy::Server>(proxy::buildRuntime(loadTestConfig(yaml)));
  server_->start();
}

ProxyInstance::~ProxyInstance() {
  shutdown();
}
std::uint16_t ProxyInstance::port() const {
  return server_->port();
}
std::uint16_t ProxyInstance::adminPort() const {
  return server_->adminPort();
}
void ProxyInstance::shutdown() {
  server_->shutdown();
}

std::string gatehouseBinary() {
  if (const char* path = std::getenv("GATEHOUSE_BINARY")) return path;
  return GATEHOUSE_BINARY_PATH;
}

std::uint16_t freePort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

ProxyProcess::ProxyProcess(const std::string& yaml, std::uint16_t port) : port_(port) {
  char dir_template[] = "/tmp/gatehouse-test-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir_template;
  const auto config_path = dir_ + "/config.yaml";
  std::ofstream(config_path) << yaml;
  const auto binary = gatehouseBinary();
  const auto stderr_path = dir_ + "/stderr.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, STDERR_FILENO);
    ::dup2(err, STDOUT_FILENO);
    ::execl(binary.c_str(), binary.c_str(), "--config", config_path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    asio::io_context io;
    tcp::socket probe(io);
    beast::error_code ec;
    probe.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    if (!ec) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("gatehouse exited at startup: " + stderrText());
    }
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("gatehouse did not start listening: " + stderrText());
}

ProxyProcess::~ProxyProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void ProxyProcess::signal(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

std::optional<int> ProxyProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

long ProxyProcess::peakRssKiB() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::string ProxyProcess::stderrText() const {
  std::ifstream file(dir_ + "/stderr.log");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// ---- clients
// -----------------------------------------------------------------------------------------------------

HttpClient::HttpClient(std::uint16_t port) : socket_(io_) {
  socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

Response HttpClient::send(Request request, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (request.find(http::field::host) == request.end()) request.set(http::field::host, "localhost");
  request.prepare_payload();
  http::write(socket_, request);
  Response response;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  if (request.method() == http::verb::head) parser.skip(true);
  http::read(socket_, buffer_, parser);
  return parser.release();
}

Response HttpClient::get(const std::string& target,
                         std::vector<std::pair<std::string, std::string>> headers) {
  Request request{http::verb::get, target, 11};
  for (auto& [name, value] : headers) request.insert(name, value);
  return send(std::move(request));
}

bool HttpClient::isOpen() {
  char byte;
  const auto n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

RawResult rawExchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(socket, asio::buffer(bytes));
  RawResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    timeval tv{0, 50'000};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    const auto n = ::recv(socket.native_handle(), chunk, sizeof(chunk), 0);
    if (n > 0) {
      result.data.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      result.closed = true;
      break;
    }
  }
  return result;
}

unsigned firstStatus(const std::string& data) {
  if (data.rfind("HTTP/1.", 0) != 0 || data.size() < 12) return 0;
  return static_cast<unsigned>(std::atoi(data.substr(9, 3).c_str()));
}

}  // namespace gatehouse::testing
