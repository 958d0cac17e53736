// One client connection, from accept to close, on one worker thread. It reads a request head, checks it,
// picks the route, runs the route's filters, and relays the exchange with the upstream app: headers
// transformed, bodies streamed through fixed-size buffers in both directions (never held whole), then the
// next keep-alive request.
//
// Each asynchronous step is a do_/on_ pair; every on_ handles its error first. A timeout is set right before
// each operation. The object is kept alive by the handlers of its pending operations (shared_from_this), and
// while the filter chain waits on the store, by self_hold_.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "filters/filter.h"
#include "proxy/buffer_pool.h"
#include "proxy/filter_chain.h"
#include "proxy/outgoing_message.h"
#include "proxy/upstream_pool.h"

namespace gatehouse::proxy {

class Worker;

class DownstreamConnection : public std::enable_shared_from_this<DownstreamConnection>, private ChainSink {
 public:
  DownstreamConnection(boost::asio::ip::tcp::socket socket, Worker& worker);
  ~DownstreamConnection() override;

  void start();
  // Shutdown: an idle connection closes now; a busy one closes after its current response.
  void drain();
  // Closes at once (worker stop after drain_timeout).
  void abort() { close(); }

 private:
  using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  using ResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;
  using ErrorCode = boost::system::error_code;
  using Clock = std::chrono::steady_clock;

  static constexpr std::size_t kChunkBytes = BufferPool::kBufferBytes;

  // Request head.
  void doReadHead();
  void onReadHead(ErrorCode ec, std::size_t bytes);
  void armHeadTimer(Clock::time_point deadline);
  void processHead(std::size_t head_bytes);
  void prepareUpstreamRequest();

  // Filters (ChainSink).
  void onChainContinue() override;
  void onChainReply(filters::LocalReply reply) override;

  // Upstream exchange.
  void doAcquireUpstream(bool fresh);
  void onAcquireUpstream(ErrorCode ec, UpstreamConnectionPtr connection);
  void doWriteContinue();
  void doSendRequest();
  void doReadRequestBody();
  void onReadRequestBody(ErrorCode ec);
  void doWriteRequest(std::string_view data, bool last);
  void onWriteRequest(ErrorCode ec, bool last);
  void doReadResponseHeader();
  void onReadResponseHeader(ErrorCode ec);
  void doReadResponseBody();
  void onReadResponseBody(ErrorCode ec);
  void doWriteResponse(std::string_view data, bool last);
  void onWriteResponse(ErrorCode ec, bool last);
  bool retryOnFreshConnection(ErrorCode ec);
  void upstreamFailed(ErrorCode ec, bool response_started);

  // Upgrade (101): raw bytes both ways until either side closes.
  void startTunnel();
  void tunnelClientToUpstream();
  void tunnelUpstreamToClient();

  // Local replies: proxy errors and filter answers.
  void sendError(boost::beast::http::status status, std::string_view error, bool close);
  void sendLocalReply(filters::LocalReply reply, bool close);
  void onWriteLocalReply(ErrorCode ec);

  void finishExchange();
  void logAccess();
  void closeUpstream();
  void close();

  Worker& worker_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;  // client bytes; may hold the next pipelined request
  std::string client_address_;        // the peer, as text
  boost::asio::ip::address peer_;
  std::size_t scanned_ = 0;  // head bytes already searched for the end of the head
  Clock::time_point request_start_{};
  bool idle_ = true;  // waiting for the first byte of a request
  // The head is read under a timer of our own, not the stream's: a stream timeout closes the socket, and a
  // client whose head is late must still be told 408.
  boost::asio::steady_timer head_timer_;
  bool reading_head_ = false;
  bool head_timed_out_ = false;
  bool draining_ = false;
  bool closed_ = false;

  // The current request.
  std::optional<RequestParser> request_;
  OutgoingMessage to_upstream_;  // the request as it goes upstream: head + framed body
  filters::RequestInfo info_;
  std::size_t route_index_ = 0;
  std::uint64_t body_limit_ = 0;
  std::uint64_t request_body_bytes_ = 0;
  bool client_keep_alive_ = false;
  bool expect_continue_ = false;
  bool upgrade_requested_ = false;
  bool request_head_sent_ = false;
  bool retried_ = false;
  FilterChain chain_;
  std::shared_ptr<DownstreamConnection> self_hold_;  // keeps us alive while a filter waits on the store

  // The upstream side.
  UpstreamConnectionPtr upstream_;
  UpstreamConnectionPtr retired_upstream_;  // closed, kept until pending operations on it have completed
  std::optional<ResponseParser> response_;
  OutgoingMessage to_client_;  // the response as it goes to the client
  bool response_keep_alive_ = false;
  Clock::time_point upstream_start_{};
  std::chrono::microseconds upstream_time_{0};

  // Local replies.
  boost::beast::http::response<boost::beast::http::string_body> local_response_;
  bool close_after_local_reply_ = false;

  // Access-log figures.
  unsigned status_ = 0;
  std::uint64_t response_body_bytes_ = 0;

  BufferPool::Lease request_chunk_;          // held only while a request body streams
  BufferPool::Lease response_chunk_;         // held only while a response body streams
  boost::beast::flat_buffer tunnel_buffer_;  // client→upstream during a tunnel
};

}  // namespace gatehouse::proxy
