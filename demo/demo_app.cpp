// gatehouse_demo_app: the small upstream app of the demo, the docker example and the benchmarks. A
// single-threaded Beast HTTP/1.1 server with keep-alive; its endpoints are in demo_routes.h.
//
//   gatehouse_demo_app [--port N] [--bind ADDRESS] [--redis redis://HOST:PORT/DB] [--session-ttl SECONDS]
//
// --port 0 binds a free port. Either way the app prints "listening on ADDRESS:PORT" once it accepts
// connections, so scripts can wait for that line instead of guessing when it is ready.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "demo/demo_routes.h"
#include "demo/redis_sessions.h"

namespace gatehouse::demo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::uint64_t kBodyLimit = 1024 * 1024;
// A keep-alive connection with no request for this long is closed, as any server must to bound idle sockets.
constexpr std::chrono::seconds kIdleTimeout{60};
constexpr std::chrono::seconds kWriteTimeout{30};

constexpr std::string_view kUsage =
    "Usage: gatehouse_demo_app [--port N] [--bind ADDRESS] [--redis redis://HOST:PORT/DB] [--session-ttl "
    "SECONDS]\n";

struct Options {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 3000;
  std::optional<std::string> redis_url;
  std::chrono::seconds session_ttl{24 * 60 * 60};
};

template <typename Int>
Int parseNumber(std::string_view text, std::string_view flag) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument(std::string(flag) + ": not a number: '" + std::string(text) + "'");
  }
  return value;
}

Options parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + ": missing value");
    const std::string_view value = argv[++i];
    if (flag == "--port") {
      options.port = parseNumber<std::uint16_t>(value, flag);
    } else if (flag == "--bind") {
      options.bind = std::string(value);
    } else if (flag == "--redis") {
      options.redis_url = std::string(value);
    } else if (flag == "--session-ttl") {
      options.session_ttl = std::chrono::seconds(parseNumber<std::uint32_t>(value, flag));
      if (options.session_ttl.count() == 0) throw std::invalid_argument("--session-ttl must be positive");
    } else {
      throw std::invalid_argument("unknown argument '" + std::string(flag) + "'");
    }
  }
  return options;
}

// True for the parser's own errors (a malformed request or a broken limit), which deserve an answer; socket
// errors mean the peer is gone.
bool isParseError(const beast::error_code& ec) {
  return ec.category() == beast::error_code(http::error::bad_target).category();
}

// What a malformed request is told before the connection closes; the parser's error says which limit it
// broke.
http::status statusForReadError(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (ec == http::error::body_limit) return http::status::payload_too_large;
  return http::status::bad_request;
}

// One client connection: reads a request, answers it, and repeats while the client keeps the connection
// alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, SessionBackend* sessions)
      : stream_(std::move(socket)), sessions_(sessions) {}

  void start() { doRead(); }

 private:
  void doRead() {
    parser_.emplace();  // a fresh parser per request: Beast parsers are single-use
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return closeSend();
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return;
    if (ec) {
      if (!isParseError(ec)) return;
      Response response{statusForReadError(ec), 11};
      response.set(http::field::content_type, "application/json");
      response.body() = R"({"error":")" + ec.message() + "\"}\n";
      response.keep_alive(false);
      response.prepare_payload();
      return doWrite(std::move(response));
    }
    doWrite(handleRequest(parser_->get(), sessions_));
  }

  void doWrite(Response response) {
    response_ = std::move(response);
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onWrite(ec); });
  }

  void onWrite(beast::error_code ec) {
    if (ec) return;
    if (!response_.keep_alive()) return closeSend();
    doRead();
  }

  void closeSend() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  SessionBackend* sessions_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, const tcp::endpoint& endpoint, SessionBackend* sessions)
      : acceptor_(io, endpoint), sessions_(sessions) {}

  tcp::endpoint localEndpoint() const { return acceptor_.local_endpoint(); }

  void doAccept() {
    acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection>(std::move(socket), self->sessions_)->start();
      // Accept errors (EMFILE, ECONNABORTED) are transient: keep accepting.
      self->doAccept();
    });
  }

  void close() {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  tcp::acceptor acceptor_;
  SessionBackend* sessions_;
};

int run(const Options& options) {
  asio::io_context io{1};

  std::unique_ptr<RedisSessions> sessions;
  if (options.redis_url) {
    sessions = std::make_unique<RedisSessions>(
        RedisEndpoint::parse(*options.redis_url),
        std::chrono::duration_cast<std::chrono::milliseconds>(options.session_ttl));
  }

  const tcp::endpoint endpoint{asio::ip::make_address(options.bind), options.port};
  auto listener = std::make_shared<Listener>(io, endpoint, sessions.get());
  listener->doAccept();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io, &listener](beast::error_code, int) {
    listener->close();
    io.stop();
  });

  const auto local = listener->localEndpoint();
  std::cout << "gatehouse_demo_app: listening on " << local.address().to_string() << ":" << local.port()
            << (sessions ? " (sessions in redis)" : " (no session store)") << std::endl;
  io.run();
  return 0;
}

}  // namespace
}  // namespace gatehouse::demo

int main(int argc, char** argv) {
  try {
    return gatehouse::demo::run(gatehouse::demo::parseOptions(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "gatehouse_demo_app: " << e.what() << "\n" << gatehouse::demo::kUsage;
    return 2;
  }
}
