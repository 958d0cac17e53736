// An upstream app written by hand, for the tests that must control when each byte leaves the app and when it
// closes: what a real app does only when it misbehaves or is slow.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace gatehouse::testing {

using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;

// Reads from `socket` until `data` contains `text` (or the peer closes).
inline bool readUntilContains(tcp::socket& socket, std::string& data, std::string_view text) {
  char bytes[4096];
  while (data.find(text) == std::string::npos) {
    boost::system::error_code ec;
    const auto n = socket.read_some(boost::asio::buffer(bytes), ec);
    if (ec) return false;
    data.append(bytes, n);
  }
  return true;
}

// A one-connection app written by hand, to control when each byte leaves it. Everything it does is bounded:
// accepting waits at most 5 s, and each test's waits are bounded by futures with timeouts.
class HandWrittenApp {
 public:
  HandWrittenApp() : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    acceptor_.non_blocking(true);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  bool accept(tcp::socket& socket) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (!ec) return socket.non_blocking(false), true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  // Accepts a connection and reads one request head from it: false when either did not come.
  bool acceptRequest(tcp::socket& socket) {
    std::string request;
    return accept(socket) && readUntilContains(socket, request, "\r\n\r\n");
  }
  // Answers one request with `response`, in one write, then holds the connection until the proxy lets go.
  void answerOnce(const std::string& response) {
    tcp::socket socket(io_);
    if (!acceptRequest(socket)) return;
    boost::asio::write(socket, boost::asio::buffer(response));
    holdUntilClosed(socket);
  }
  static void holdUntilClosed(tcp::socket& socket) {
    std::string rest;
    readUntilContains(socket, rest, "never");
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
};

}  // namespace gatehouse::testing
