// One client connection, from accept to close, on one worker thread. It reads a request head, checks it,
// picks the route, runs the route's filters, and relays the exchange with the upstream app: headers
// transformed, bodies streamed through fixed-size buffers in both directions (never held whole), then the
// next keep-alive request.
//
// Each asynchronous step is a do_/on_ pair; every on_ handles its error first. A deadline is set right before
// each operation that waits on a peer; the worker's sweep enforces it (see Worker::sweepDeadlines): no timer
// per operation. The object is kept alive by the handlers of its pending operations (shared_from_this), and
// while the filter chain waits on the store, by self_hold_.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "filters/filter.h"
#include "proxy/buffer_pool.h"
#include "proxy/filter_chain.h"
#include "proxy/http/field_arena.h"
#include "proxy/http/field_scan.h"
#include "proxy/http/fields.h"
#include "proxy/http/forwarded.h"
#include "proxy/http/parse_buffered.h"
#include "proxy/outgoing_message.h"
#include "proxy/route_stats.h"
#include "proxy/upstream_pool.h"

namespace gatehouse::proxy {

class Worker;

class DownstreamConnection : public std::enable_shared_from_this<DownstreamConnection>, private ChainSink {
 public:
  // The worker's io_context executor, not the type-erased any_io_executor: no executor copies per operation.
  using Socket =
      boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
  using Clock = std::chrono::steady_clock;

  DownstreamConnection(Socket socket, Worker& worker);
  ~DownstreamConnection() override;

  void start();
  // Shutdown: an idle connection closes now; a busy one closes after its current response.
  void drain();
  // Closes at once (worker stop after drain_timeout).
  void abort() { close(); }

  // When the operation in progress times out (time_point::max() when none is waiting on a peer).
  Clock::time_point deadline() const { return deadline_; }
  // Called by the worker's sweep once deadline() has passed.
  void onDeadline();

 private:
  // The parsers' fields (and the local reply's) live in fields_arena_.
  using RequestParser =
      boost::beast::http::request_parser<boost::beast::http::buffer_body, http::FieldAllocator>;
  using ResponseParser =
      boost::beast::http::response_parser<boost::beast::http::buffer_body, http::FieldAllocator>;
  using LocalResponse = boost::beast::http::response<boost::beast::http::string_body, http::Fields>;
  using ErrorCode = boost::system::error_code;

  // What the current deadline guards, and so what its expiry means.
  enum class Waiting {
    Nothing,   // the filters or the upstream pool are working: they have timeouts of their own
    Head,      // a request head (idle_timeout between requests, header_timeout once it has begun): 408
    Client,    // the client reading or sending a body: closed
    Upstream,  // the upstream app (response_timeout): 504, or cut off if the response has begun
  };

  static constexpr std::size_t kChunkBytes = BufferPool::kBufferBytes;
  static constexpr std::size_t kIdleBufferBytes = 4096;  // the most client-buffer room kept between requests
  static constexpr unsigned kClientClosedRequest = 499;  // logged for an exchange closed before any response
  static constexpr std::chrono::seconds kLingerTime{5};  // the longest a closing connection drains the client

  // Request head.
  void doReadHead();
  void onReadHead(ErrorCode ec, std::size_t bytes);
  void armDeadline(Waiting what, Clock::time_point deadline);
  void armDeadline(Waiting what, Clock::duration timeout) { armDeadline(what, Clock::now() + timeout); }
  void clearDeadline() { armDeadline(Waiting::Nothing, Clock::time_point::max()); }
  void processHead(std::size_t head_bytes);
  void prepareUpstreamRequest(const http::RequestFieldValues& incoming);

  // Filters (ChainSink).
  void onChainContinue() override;
  void onChainReply(filters::LocalReply reply) override;

  // Upstream exchange.
  void doAcquireUpstream(bool fresh);
  void onAcquireUpstream(ErrorCode ec, UpstreamConnectionPtr connection);
  void doWriteContinue();
  void doSendRequest();
  void doReadRequestBody();
  void pumpRequestBody();  // parse buffered client bytes, read more until some body bytes are in
  void onReadRequestBody(ErrorCode ec);
  void doWriteRequest(std::string_view data, bool last);
  void onWriteRequest(ErrorCode ec, bool last);
  void doReadResponseHeader();
  void pumpResponse(http::ParseGoal goal);  // parse buffered upstream bytes, read more until the goal
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
  // After an answer that closes the connection: half-close, drop what the client still sends, then close.
  void lingerThenClose();
  void discardClientBytes();

  void finishExchange();
  // Destroys the exchange's filters and headers (the parsers and the local reply) and gives the arena's block
  // back.
  void endExchange();
  // Tells the worker an exchange began or ended (its count of requests in flight, which busy polling reads).
  void markInFlight(bool in_flight);
  // For the exchange's parsers and local reply: Beast's piecewise constructors pass it to their fields (the
  // body's arguments come first, none here).
  http::FieldAllocator arenaAllocator() { return http::FieldAllocator(&fields_arena_); }
  // The end of an exchange, whatever ended it: counted in its route's responses, and access-logged.
  void recordExchange();
  void logAccess();
  void closeUpstream();
  void close();

  Worker& worker_;
  Socket socket_;
  boost::beast::flat_buffer buffer_;  // client bytes; may hold the next pipelined request
  http::Peer peer_;                   // the client's end of the connection (a proxy's, if trusted)
  std::size_t scanned_ = 0;           // head bytes already searched for the end of the head
  Clock::time_point request_start_{};
  bool idle_ = true;  // waiting for the first byte of a request
  Clock::time_point deadline_ = Clock::time_point::max();
  Waiting waiting_ = Waiting::Nothing;
  bool head_timed_out_ = false;      // a late head is still told 408: its read is cancelled, not the socket
  bool upstream_timed_out_ = false;  // the upstream operation was cancelled by its deadline: 504
  bool draining_ = false;
  bool closed_ = false;
  bool in_flight_ = false;  // counted in the worker's requests in flight

  // The header fields of the current exchange: a block from the worker's pool, held from the request head
  // until the exchange ends (endExchange). Declared before every header that allocates from it, so that at
  // destruction they go first and the block goes back last.
  http::FieldArena fields_arena_;

  // The current request.
  std::optional<RequestParser> request_;
  OutgoingMessage to_upstream_;  // the request as it goes upstream: head + framed body
  filters::RequestInfo info_;
  std::size_t route_index_ = 0;
  // The route's response counters, counted once when the exchange ends; kept from one request to the next
  // while they stay the same (a keep-alive connection on one route costs no reference counting per request).
  // routed_ says whether this exchange has a route; without one it counts as unrouted.
  std::shared_ptr<RouteStats> route_stats_;
  bool routed_ = false;
  std::uint64_t body_limit_ = 0;
  std::uint64_t request_body_bytes_ = 0;
  bool client_keep_alive_ = false;
  bool client_http10_ = false;  // the client spoke HTTP/1.0: no chunked framing towards it
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
  bool response_head_written_ = false;  // the client has the response head: an upstream failure cuts it off
  Clock::time_point upstream_start_{};
  std::chrono::microseconds upstream_time_{0};

  // Local replies: made per reply in the arena, destroyed once written.
  std::optional<LocalResponse> local_response_;
  bool close_after_local_reply_ = false;

  // Access-log figures.
  unsigned status_ = 0;
  std::uint64_t response_body_bytes_ = 0;

  BufferPool::Lease request_chunk_;          // held only while a request body streams
  BufferPool::Lease response_chunk_;         // held only while a response body streams
  boost::beast::flat_buffer tunnel_buffer_;  // client→upstream during a tunnel
};

}  // namespace gatehouse::proxy
