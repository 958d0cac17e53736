#include "store/redis_stream.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

namespace gatehouse::store {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

std::unique_ptr<std::variant<RedisStream::Tcp, RedisStream::Unix, RedisStream::Tls>> makeSocket(
    asio::io_context& io, const config::RedisUrl& url, asio::ssl::context* tls_context) {
  using Socket = std::variant<RedisStream::Tcp, RedisStream::Unix, RedisStream::Tls>;
  if (url.unix_socket) return std::make_unique<Socket>(std::in_place_type<RedisStream::Unix>, io);
  if (url.tls && tls_context != nullptr) {
    return std::make_unique<Socket>(std::in_place_type<RedisStream::Tls>, io, *tls_context);
  }
  return std::make_unique<Socket>(std::in_place_type<RedisStream::Tcp>, io);
}

}  // namespace

RedisStream::RedisStream(asio::io_context& io, const config::RedisUrl& url, asio::ssl::context* tls_context)
    : url_(url), socket_(makeSocket(io, url, tls_context)), resolver_(io) {}

RedisStream::Tcp& RedisStream::tcpSocket() {
  if (auto* tls = std::get_if<Tls>(socket_.get())) return tls->next_layer();
  return std::get<Tcp>(*socket_);
}

void RedisStream::asyncConnect(ConnectHandler done) {
  if (auto* unix_socket = std::get_if<Unix>(socket_.get())) {
    unix_socket->async_connect(asio::local::stream_protocol::endpoint(url_.path),
                               [done = std::move(done)](const error_code& error) { done(error, "connect"); });
    return;
  }
  error_code not_literal;
  const asio::ip::address literal = asio::ip::make_address(url_.host, not_literal);
  if (!not_literal) {
    tcpSocket().async_connect(asio::ip::tcp::endpoint(literal, url_.port),
                              [this, done = std::move(done)](const error_code& error) mutable {
                                onTcpConnected(error, std::move(done));
                              });
    return;
  }
  resolver_.async_resolve(
      url_.host, std::to_string(url_.port),
      [this, done = std::move(done)](const error_code& error,
                                     const asio::ip::tcp::resolver::results_type& results) mutable {
        if (error) {
          done(error, "resolve");
          return;
        }
        asio::async_connect(tcpSocket(), results,
                            [this, done = std::move(done)](const error_code& connect_error,
                                                           const asio::ip::tcp::endpoint&) mutable {
                              onTcpConnected(connect_error, std::move(done));
                            });
      });
}

void RedisStream::onTcpConnected(const error_code& error, ConnectHandler done) {
  if (error) {
    done(error, "connect");
    return;
  }
  // Pipelined commands are flushed once per event-loop turn; Nagle would only add latency to each flush.
  error_code ignored;
  tcpSocket().set_option(asio::ip::tcp::no_delay(true), ignored);
  auto* tls = std::get_if<Tls>(socket_.get());
  if (tls == nullptr) {
    done(error, "connect");
    return;
  }
  error_code not_literal;
  asio::ip::make_address(url_.host, not_literal);
  if (not_literal) {
    // SNI carries names only, never IP literals (RFC 6066). SSL_ctrl: the usual macro has a C-style cast.
    SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(url_.host.c_str()));
  }
  if ((SSL_get_verify_mode(tls->native_handle()) & SSL_VERIFY_PEER) != 0) {
    // Besides a chain to a trusted CA, the certificate must name the host we dialled (a SAN DNS or IP entry).
    tls->set_verify_callback(asio::ssl::host_name_verification(url_.host));
  }
  tls->async_handshake(asio::ssl::stream_base::client,
                       [done = std::move(done)](const error_code& handshake_error) {
                         done(handshake_error, "TLS handshake");
                       });
}

void RedisStream::close() {
  error_code ignored;
  resolver_.cancel();
  std::visit(
      [&](auto& socket) {
        if constexpr (std::is_same_v<std::decay_t<decltype(socket)>, Tls>) {
          socket.lowest_layer().close(ignored);
        } else {
          socket.close(ignored);
        }
      },
      *socket_);
}

}  // namespace gatehouse::store
