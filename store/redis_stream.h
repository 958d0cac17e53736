// The byte stream under one Redis connection: TCP, a unix socket, or TLS over TCP (rediss://), hidden behind
// one interface so that the client reads and writes the same way over all three. Used on one io_context.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "proxy/config/config.h"

namespace gatehouse::store {

class RedisStream {
 public:
  using Tcp = boost::asio::ip::tcp::socket;
  using Unix = boost::asio::local::stream_protocol::socket;
  using Tls = boost::asio::ssl::stream<Tcp>;
  // `stage` names the step that failed ("resolve", "connect", "TLS handshake") for the error text.
  using ConnectHandler = std::function<void(const boost::system::error_code& error, std::string_view stage)>;

  // tls_context is used (and must outlive the stream) when url.tls; verification settings come from the
  // context, the expected host name from the url.
  RedisStream(boost::asio::io_context& io, const config::RedisUrl& url,
              boost::asio::ssl::context* tls_context);

  // Resolves (host names only), connects, sets TCP_NODELAY and runs the TLS handshake when configured.
  void asyncConnect(ConnectHandler done);

  template <class MutableBuffer, class Handler>
  void asyncReadSome(const MutableBuffer& buffer, Handler&& handler) {
    std::visit([&](auto& socket) { socket.async_read_some(buffer, std::forward<Handler>(handler)); },
               *socket_);
  }

  // Writes the whole buffer (a composed write).
  template <class ConstBuffer, class Handler>
  void asyncWrite(const ConstBuffer& buffer, Handler&& handler) {
    std::visit(
        [&](auto& socket) { boost::asio::async_write(socket, buffer, std::forward<Handler>(handler)); },
        *socket_);
  }

  // Closes the socket at once (no TLS close_notify: the connection is being abandoned); pending operations
  // complete with operation_aborted.
  void close();

 private:
  using Socket = std::variant<Tcp, Unix, Tls>;

  void onTcpConnected(const boost::system::error_code& error, ConnectHandler done);
  Tcp& tcpSocket();

  config::RedisUrl url_;
  std::unique_ptr<Socket> socket_;
  boost::asio::ip::tcp::resolver resolver_;
};

}  // namespace gatehouse::store
