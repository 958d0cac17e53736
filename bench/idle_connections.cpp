// bench_idle_connections: opens N keep-alive connections to an HTTP server, sends one request on each and
// reads the response, then leaves every connection open and idle until told to stop. The benchmark reads the
// server's RSS before and after, so the difference divided by N is what one idle keep-alive connection costs
// the server.
//
// One request per connection matters: a connection that never sent a request is still in its header phase (a
// header timeout, maybe a pre-allocated parser); one that completed a request is in the keep-alive idle
// state, which is the state a sidecar holds thousands of.
//
// Protocol with the caller (bench/run.sh): once every connection is set up (or failed), prints one line
//   ready opened=<n> failed=<n>
// on stdout, then holds the connections until stdin reaches EOF, SIGINT/SIGTERM arrives, or --hold elapses.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace gatehouse::bench {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string path = "/";
  std::size_t count = 10000;
  std::size_t concurrency =
      256;  // connections being set up at once: bounded so the listen backlog never overflows
  std::chrono::seconds setup_timeout{60};
  std::chrono::seconds hold{600};
};

constexpr std::string_view kUsage = R"(Usage: bench_idle_connections --port PORT [options]

  --host ADDR          IPv4/IPv6 literal to connect to (default 127.0.0.1)
  --port PORT          the server's port (required)
  --path PATH          the request target of the one request per connection (default /)
  --count N            connections to open (default 10000)
  --concurrency N      connections being set up at once (default 256)
  --setup-timeout S    give up setting up after S seconds (default 60)
  --hold S             close everything after S seconds at the latest (default 600)

Prints "ready opened=N failed=N" once set up, then holds the connections until stdin closes, SIGINT/SIGTERM, or --hold.
)";

template <typename Number>
std::optional<Number> parseNumber(std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<Options> parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string_view value = argv[++i];
    if (flag == "--host") {
      options.host = std::string(value);
    } else if (flag == "--port") {
      const auto port = parseNumber<unsigned short>(value);
      if (!port || *port == 0) return std::nullopt;
      options.port = *port;
    } else if (flag == "--path") {
      options.path = std::string(value);
    } else if (flag == "--count") {
      const auto count = parseNumber<std::size_t>(value);
      if (!count) return std::nullopt;
      options.count = *count;
    } else if (flag == "--concurrency") {
      const auto concurrency = parseNumber<std::size_t>(value);
      if (!concurrency || *concurrency == 0) return std::nullopt;
      options.concurrency = *concurrency;
    } else if (flag == "--setup-timeout") {
      const auto seconds = parseNumber<int>(value);
      if (!seconds || *seconds <= 0) return std::nullopt;
      options.setup_timeout = std::chrono::seconds(*seconds);
    } else if (flag == "--hold") {
      const auto seconds = parseNumber<int>(value);
      if (!seconds || *seconds <= 0) return std::nullopt;
      options.hold = std::chrono::seconds(*seconds);
    } else {
      return std::nullopt;
    }
  }
  if (options.port == 0) return std::nullopt;
  return options;
}

// Sets up connections with at most `concurrency` in flight, then keeps the sockets and nothing else: the
// request, the response and the read buffer are released once the exchange completes.
class IdleConnectionOpener {
 public:
  IdleConnectionOpener(asio::io_context& io, Options options)
      : io_(io),
        options_(std::move(options)),
        endpoint_(asio::ip::make_address(options_.host), options_.port) {
    idle_.reserve(options_.count);
  }

  // Calls `ready` once every connection has either been set up or failed.
  void start(std::function<void()> ready) {
    ready_ = std::move(ready);
    const std::size_t first_batch = std::min(options_.count, options_.concurrency);
    for (std::size_t i = 0; i < first_batch; ++i) startNext();
    if (options_.count == 0) ready_();
  }

  std::size_t opened() const { return idle_.size(); }
  std::size_t failed() const { return failed_; }

  void closeAll() {
    for (auto& socket : idle_) {
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
    idle_.clear();
  }

 private:
  // The state of one connection while its request is in flight; dropped, except for the socket, afterwards.
  struct Exchange {
    explicit Exchange(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    http::request<http::empty_body> request;
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
  };

  void startNext() {
    if (started_ == options_.count) return;
    ++started_;
    auto exchange = std::make_shared<Exchange>(io_);
    exchange->request.method(http::verb::get);
    exchange->request.target(options_.path);
    exchange->request.set(http::field::host, options_.host);
    exchange->request.keep_alive(true);
    exchange->socket.async_connect(endpoint_, [this, exchange](boost::system::error_code error) {
      if (error) return finish(*exchange, false);
      http::async_write(exchange->socket, exchange->request,
                        [this, exchange](boost::system::error_code write_error, std::size_t) {
                          if (write_error) return finish(*exchange, false);
                          http::async_read(
                              exchange->socket, exchange->buffer, exchange->response,
                              [this, exchange](boost::system::error_code read_error, std::size_t) {
                                // The connection must still be usable: a response that asks to close
                                // would not leave an idle keep-alive connection behind.
                                finish(*exchange, !read_error && exchange->response.keep_alive());
                              });
                        });
    });
  }

  void finish(Exchange& exchange, bool kept_alive) {
    if (kept_alive) {
      idle_.push_back(std::move(exchange.socket));
    } else {
      ++failed_;
    }
    if (idle_.size() + failed_ == options_.count) {
      ready_();
      return;
    }
    startNext();
  }

  asio::io_context& io_;
  Options options_;
  tcp::endpoint endpoint_;
  std::vector<tcp::socket> idle_;
  std::size_t started_ = 0;
  std::size_t failed_ = 0;
  std::function<void()> ready_;
};

int run(const Options& options) {
  asio::io_context io;
  IdleConnectionOpener opener(io, options);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer deadline(io);
  asio::posix::stream_descriptor input(io, ::dup(STDIN_FILENO));
  std::array<char, 64> input_buffer{};
  bool ready = false;

  auto stop = [&] {
    opener.closeAll();
    signals.cancel();
    deadline.cancel();
    boost::system::error_code ignored;
    input.close(ignored);
    io.stop();
  };

  // Holding: the connections stay open until the caller closes our stdin, signals us, or the hold time is up.
  std::function<void()> waitForStdinEof = [&] {
    input.async_read_some(asio::buffer(input_buffer), [&](boost::system::error_code error, std::size_t) {
      if (error) return stop();
      waitForStdinEof();
    });
  };

  signals.async_wait([&](boost::system::error_code error, int) {
    if (!error) stop();
  });
  deadline.expires_after(options.setup_timeout);
  deadline.async_wait([&](boost::system::error_code error) {
    if (error) return;
    std::cerr << "bench_idle_connections: set-up did not finish within " << options.setup_timeout.count()
              << "s (opened " << opener.opened() << ", failed " << opener.failed() << ")\n";
    stop();
  });

  opener.start([&] {
    ready = true;
    std::cout << "ready opened=" << opener.opened() << " failed=" << opener.failed() << std::endl;
    deadline.expires_after(options.hold);
    deadline.async_wait([&](boost::system::error_code error) {
      if (!error) stop();
    });
    waitForStdinEof();
  });

  io.run();
  return ready ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace
}  // namespace gatehouse::bench

int main(int argc, char** argv) {
  const auto options = gatehouse::bench::parseOptions(argc, argv);
  if (!options) {
    std::cerr << gatehouse::bench::kUsage;
    return 2;
  }
  try {
    return gatehouse::bench::run(*options);
  } catch (const std::exception& e) {
    std::cerr << "bench_idle_connections: " << e.what() << "\n";
    return EXIT_FAILURE;
  }
}
