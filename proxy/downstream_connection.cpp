#include "proxy/downstream_connection.h"

#include <algorithm>
#include <string_view>

#include <spdlog/spdlog.h>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/write.hpp>

#include "filters/identity_headers.h"
#include "proxy/access_log.h"
#include "proxy/http/absolute_form.h"
#include "proxy/http/error_body.h"
#include "proxy/http/field_scan.h"
#include "proxy/http/forwarded.h"
#include "proxy/http/hop_by_hop.h"
#include "proxy/http/parse_buffered.h"
#include "proxy/http/request_checks.h"
#include "proxy/http/request_id.h"
#include "proxy/router.h"
#include "proxy/worker.h"

namespace gatehouse::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// The most an upstream's chunk line or trailers may hold (Beast's own limit on a response head).
constexpr std::size_t kResponseFramingBytes = 8192;

// The end of the request head: the byte after the first empty line, or npos. A bare-LF empty line ends the
// head too, so that checkRawHead can reject it at once instead of waiting for a CRLFCRLF that never comes.
std::size_t findHeadEnd(std::string_view data, std::size_t from) {
  for (auto i = data.find('\n', from); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

bool containsToken(std::string_view list, std::string_view token) {
  // Case-insensitive search for a comma-separated token (Connection, Expect, Accept media ranges).
  std::size_t pos = 0;
  while (pos <= list.size()) {
    auto end = list.find(',', pos);
    if (end == std::string_view::npos) end = list.size();
    auto item = list.substr(pos, end - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (const auto semi = item.find(';'); semi != std::string_view::npos) item = item.substr(0, semi);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (beast::iequals(item, token)) return true;
    pos = end + 1;
  }
  return false;
}

bool isIdempotent(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
    case bhttp::verb::trace:
      return true;
    default:
      return false;
  }
}

bool isPeerGone(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::partial_message;
}

}  // namespace

DownstreamConnection::DownstreamConnection(Socket socket, Worker& worker)
    : worker_(worker), socket_(std::move(socket)), fields_arena_(worker.fieldBlocks()) {
  boost::system::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) peer_ = http::Peer(endpoint.address(), worker_.runtime().config->trusted_proxies);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  worker_.add(this);
}

DownstreamConnection::~DownstreamConnection() {
  chain_.reset();
  // A connection let go of without close() (the worker stopping) is not in flight either.
  markInFlight(false);
  worker_.remove(this);
}

void DownstreamConnection::start() {
  doReadHead();
}

void DownstreamConnection::drain() {
  draining_ = true;
  if (idle_ && buffer_.size() == 0 && !closed_) {
    // Waiting for a request that has not begun: nothing is lost by closing now.
    ErrorCode ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }
}

// ---- deadlines ----

void DownstreamConnection::armDeadline(Waiting what, Clock::time_point deadline) {
  waiting_ = what;
  deadline_ = deadline;
}

void DownstreamConnection::onDeadline() {
  auto self = shared_from_this();  // close() may drop the last other reference
  const auto what = waiting_;
  clearDeadline();
  ErrorCode ignored;
  switch (what) {
    case Waiting::Nothing:
      return;
    case Waiting::Head:
      // Only the read is cancelled: onReadHead still owes a started request its 408.
      head_timed_out_ = true;
      socket_.cancel(ignored);
      return;
    case Waiting::Client:
      return close();
    case Waiting::Upstream:
      upstream_timed_out_ = true;
      if (upstream_) upstream_->socket.cancel(ignored);
      return;
  }
}

// ---- request head ----

void DownstreamConnection::doReadHead() {
  const auto& limits = worker_.runtime().config->limits;
  const auto data = std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size());

  // Tolerate the empty lines some clients send between requests (RFC 9112 §2.2).
  std::size_t blank = 0;
  while (blank < data.size() && (data[blank] == '\r' || data[blank] == '\n')) ++blank;
  if (blank > 0 && blank == data.size()) {
    buffer_.consume(blank);
    scanned_ = 0;
  } else if (blank > 0 && blank < data.size()) {
    buffer_.consume(blank);
    scanned_ = 0;
  }

  const auto head = std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  if (!head.empty()) {
    if (idle_) {
      idle_ = false;
      request_start_ = Clock::now();
    }
    const auto end = findHeadEnd(head, scanned_ > 2 ? scanned_ - 2 : 0);
    if (end != std::string_view::npos) return processHead(end);
    scanned_ = head.size();
    // The request line alone is longer than a URI may be: 414 before reading further.
    if (head.find('\n') == std::string_view::npos && head.size() > limits.uri_bytes + 64) {
      return sendError(bhttp::status::uri_too_long, "uri too long", true);
    }
    if (head.size() >= limits.header_bytes) {
      return sendError(bhttp::status::request_header_fields_too_large, "request header too large", true);
    }
  }

  if (draining_ && idle_) return close();
  // Idle keep-alive connections get idle_timeout; once a request has begun, its whole head must arrive within
  // header_timeout of its first byte (a slowloris client trickling bytes does not reset the clock).
  head_timed_out_ = false;
  armDeadline(Waiting::Head,
              idle_ ? Clock::now() + limits.idle_timeout : request_start_ + limits.header_timeout);
  // Small reads while the head is small: an idle keep-alive connection then holds a small buffer (most heads
  // are a few hundred bytes); a larger head grows it.
  const auto step = buffer_.size() < 512 ? std::size_t{1024} : std::size_t{4096};
  worker_.startRead(
      socket_, buffer_.prepare(step),
      [self = shared_from_this()](ErrorCode ec, std::size_t bytes) { self->onReadHead(ec, bytes); });
}

void DownstreamConnection::onReadHead(ErrorCode ec, std::size_t bytes) {
  clearDeadline();
  if (head_timed_out_) {
    if (idle_) return close();  // an idle keep-alive connection simply ends
    return sendError(bhttp::status::request_timeout, "request header timeout", true);
  }
  if (ec) return close();
  buffer_.commit(bytes);
  doReadHead();
}

void DownstreamConnection::processHead(std::size_t head_bytes) {
  const auto& runtime = worker_.runtime();
  const auto& config = *runtime.config;
  const auto head = std::string_view(static_cast<const char*>(buffer_.data().data()), head_bytes);

  clearDeadline();  // the filters' store calls have their own timeout
  markInFlight(true);
  fields_arena_.begin();  // every header of this exchange, error replies included, from here on
  info_.reset();
  routed_ = false;
  status_ = 0;
  response_body_bytes_ = 0;
  request_body_bytes_ = 0;
  upstream_time_ = {};
  retried_ = false;
  request_head_sent_ = false;
  response_head_written_ = false;
  client_http10_ = false;
  upstream_timed_out_ = false;

  if (head_bytes > config.limits.header_bytes) {
    return sendError(bhttp::status::request_header_fields_too_large, "request header too large", true);
  }
  if (const auto line_end = head.find('\n'); line_end > config.limits.uri_bytes + 64) {
    return sendError(bhttp::status::uri_too_long, "uri too long", true);
  }
  if (auto defect = http::checkRawHead(head)) {
    return sendError(static_cast<bhttp::status>(defect->status), defect->reason, true);
  }

  request_.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arenaAllocator()));
  request_->header_limit(static_cast<std::uint32_t>(head_bytes + 1));
  request_->body_limit(boost::none);  // enforced per route below, while streaming
  request_->eager(false);
  ErrorCode ec;
  const auto used = request_->put(asio::buffer(head.data(), head.size()), ec);
  if (ec || !request_->is_header_done()) {
    return sendError(bhttp::status::bad_request, "malformed request", true);
  }
  buffer_.consume(used);
  scanned_ = 0;
  client_http10_ = request_->get().version() < 11;  // the upstream request is re-framed as HTTP/1.1 below

  auto& request = request_->get();
  if (request.target().size() > config.limits.uri_bytes) {
    return sendError(bhttp::status::uri_too_long, "uri too long", true);
  }
  if (auto absolute = http::parseAbsoluteForm(request.target())) {
    // Route, and forward, as if the client had sent origin-form with that Host.
    if (!absolute->valid)
      return sendError(bhttp::status::bad_request, "malformed absolute-form target", true);
    request.set(bhttp::field::host, absolute->authority);  // copies the view before the target changes
    request.target(absolute->origin_form);
  }
  if (auto defect = http::checkFraming(request.base())) {
    return sendError(static_cast<bhttp::status>(defect->status), defect->reason, true);
  }
  client_keep_alive_ = request.keep_alive() && !draining_;
  // Nothing changes the fields from here to prepareUpstreamRequest: one pass reads what both need.
  const auto incoming = http::scanRequestFields(request.base());

  // Identity first: request id and client address are in every log line and error body from here on.
  const auto incoming_id = incoming.request_id;
  if (http::isValidRequestId(incoming_id)) {
    info_.request_id.assign(incoming_id);
  } else {
    http::generateRequestId(info_.request_id);
  }
  info_.client_ip = http::resolveClientIp(request.base(), peer_, config.trusted_proxies);
  info_.path.assign(targetPath(request.target()));
  const auto accept = incoming.accept;
  info_.wants_json = containsToken(accept, "application/json") || !containsToken(accept, "text/html");

  const auto* route =
      matchRoute(config.routes, RouteRequest{info_.path, request.method_string(), incoming.host});
  if (route == nullptr) return sendError(bhttp::status::not_found, "no route", !request_->is_done());
  route_index_ = static_cast<std::size_t>(route - config.routes.data());
  info_.route_name = route->name;
  if (route_stats_ != runtime.route_stats[route_index_]) route_stats_ = runtime.route_stats[route_index_];
  routed_ = true;

  body_limit_ = runtime.bodyLimit(route_index_);
  if (request_->content_length() && *request_->content_length() > body_limit_) {
    return sendError(bhttp::status::payload_too_large, "request body too large", true);
  }

  prepareUpstreamRequest(incoming);
  self_hold_ = shared_from_this();
  chain_.start(runtime.route_filters[route_index_], worker_.services(), request.base(), info_, *this);
}

void DownstreamConnection::prepareUpstreamRequest(const http::RequestFieldValues& incoming) {
  auto& request = request_->get();

  upgrade_requested_ = incoming.has_upgrade && containsToken(incoming.connection, "upgrade");
  expect_continue_ = containsToken(incoming.expect, "100-continue");

  const auto stripped = filters::stripIdentityHeaders(request.base(), worker_.runtime().identity_headers);
  http::removeHopByHop(request.base(), upgrade_requested_);
  if (expect_continue_)
    request.erase(bhttp::field::expect);  // Gatehouse answers 100 itself once filters pass
  // Host is never hop-by-hop: only an identity header named "Host" can have taken the one read before.
  const std::string_view host = stripped == 0 ? incoming.host : std::string_view(request[bhttp::field::host]);
  http::setForwardedHeaders(request.base(), peer_, "http", host);
  http::replaceField(request.base(), http::kRequestIdField, info_.request_id);

  // Re-frame for the upstream: HTTP/1.1, kept alive, body length as the client declared or chunked.
  request.version(11);
  if (upgrade_requested_) {
    request.set(bhttp::field::connection, "Upgrade");
  } else {
    http::setKeepAlive(request, true);
  }
  if (!request_->is_done() && !request_->content_length()) request.chunked(true);
}

// ---- filters ----

void DownstreamConnection::onChainContinue() {
  auto hold = std::move(self_hold_);
  if (closed_) return;
  doAcquireUpstream(false);
}

void DownstreamConnection::onChainReply(filters::LocalReply reply) {
  auto hold = std::move(self_hold_);
  if (closed_) return;
  http::addRequestId(reply.body, info_.request_id);
  // An unread request body would be taken for the next request: close after answering instead.
  sendLocalReply(std::move(reply), !request_->is_done());
}

// ---- upstream exchange ----

void DownstreamConnection::doAcquireUpstream(bool fresh) {
  if (!fresh) {
    // A pooled connection is taken here and now, the common case: no handler to allocate, post and run later.
    if (auto idle = worker_.upstream().takeIdle()) return onAcquireUpstream({}, std::move(idle));
  }
  worker_.upstream().connect([self = shared_from_this()](ErrorCode ec, UpstreamConnectionPtr connection) {
    self->onAcquireUpstream(ec, std::move(connection));
  });
}

void DownstreamConnection::onAcquireUpstream(ErrorCode ec, UpstreamConnectionPtr connection) {
  if (closed_) return;
  if (ec) {
    spdlog::warn("upstream {}: connect failed: {} (request {})",
                 worker_.runtime().config->upstream.address.text, ec.message(), info_.request_id);
    return sendError(bhttp::status::bad_gateway, "upstream unavailable", !request_->is_done());
  }
  upstream_ = std::move(connection);
  upstream_start_ = Clock::now();
  const auto& request = request_->get();
  to_upstream_.startRequest(request.base());
  to_upstream_.setChunked(http::isChunked(request));
  if (expect_continue_ && !request_->is_done()) return doWriteContinue();
  doSendRequest();
}

void DownstreamConnection::doWriteContinue() {
  // The client waits for this before sending its body; sending it only now means a request the filters reject
  // is answered without the body ever being transferred.
  expect_continue_ = false;
  armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
  asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                    [self = shared_from_this()](ErrorCode ec, std::size_t) {
                      if (ec) return self->close();
                      self->doSendRequest();
                    });
}

void DownstreamConnection::doSendRequest() {
  if (request_->is_done()) return doWriteRequest({}, true);
  doReadRequestBody();
}

void DownstreamConnection::doReadRequestBody() {
  if (!request_chunk_) request_chunk_ = worker_.buffers().take();
  auto& body = request_->get().body();
  body.data = request_chunk_.data();
  body.size = request_chunk_.size();
  armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
  pumpRequestBody();
}

void DownstreamConnection::pumpRequestBody() {
  ErrorCode parse_error;
  if (http::parseBuffered(*request_, buffer_, http::ParseGoal::SomeBody, request_chunk_.size(),
                          worker_.runtime().config->limits.header_bytes, parse_error)) {
    return onReadRequestBody(parse_error);
  }
  // At once, not on the next event: a client that leaves mid-body may send its last bytes and its FIN
  // together (see pumpResponse).
  worker_.startReadNow(socket_, buffer_.prepare(kChunkBytes),
                       [self = shared_from_this()](ErrorCode ec, std::size_t n) {
                         if (self->closed_) return;
                         if (ec == asio::error::eof)
                           return self->onReadRequestBody(http::parseEndOfStream(*self->request_));
                         if (ec) return self->onReadRequestBody(ec);
                         self->buffer_.commit(n);
                         self->pumpRequestBody();
                       });
}

void DownstreamConnection::onReadRequestBody(ErrorCode ec) {
  if (closed_) return;
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) {
    // The client stopped sending mid-body (or sent a malformed chunk): the upstream has a partial request, so
    // neither connection can be reused.
    closeUpstream();
    // Any other parse error is the body's framing (a chunk line, a trailer): the client is told why.
    if (!isPeerGone(ec) && ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category()) {
      return sendError(bhttp::status::bad_request, "malformed chunked body", true);
    }
    return close();
  }
  const auto got = request_chunk_.size() - request_->get().body().size;
  request_body_bytes_ += got;
  if (request_body_bytes_ > body_limit_) {
    closeUpstream();
    return sendError(bhttp::status::payload_too_large, "request body too large", true);
  }
  doWriteRequest(std::string_view(request_chunk_.data(), got), request_->is_done());
}

// The continuation may run inside startWrite (a direct write, proxy/direct_write.h). Safe: every caller
// returns right after, and a request write's continuation never ends the exchange (the response is always
// read as a completion).
void DownstreamConnection::doWriteRequest(std::string_view data, bool last) {
  armDeadline(Waiting::Upstream, worker_.runtime().config->upstream.response_timeout);
  worker_.startWrite(
      upstream_->socket, to_upstream_.next(data, last),
      [self = shared_from_this(), last](ErrorCode ec, std::size_t) { self->onWriteRequest(ec, last); });
}

void DownstreamConnection::onWriteRequest(ErrorCode ec, bool last) {
  if (closed_) return;
  if (ec) {
    if (retryOnFreshConnection(ec)) return;
    return upstreamFailed(ec, false);
  }
  to_upstream_.sent();
  request_head_sent_ = true;
  if (last) return doReadResponseHeader();
  doReadRequestBody();
}

void DownstreamConnection::doReadResponseHeader() {
  response_.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arenaAllocator()));
  response_->body_limit(boost::none);  // streamed: the app decides how much it sends
  if (request_->get().method() == bhttp::verb::head) response_->skip(true);
  armDeadline(Waiting::Upstream, worker_.runtime().config->upstream.response_timeout);
  pumpResponse(http::ParseGoal::Header);
}

void DownstreamConnection::pumpResponse(http::ParseGoal goal) {
  const auto done = [this, goal](ErrorCode ec) {
    goal == http::ParseGoal::Header ? onReadResponseHeader(ec) : onReadResponseBody(ec);
  };
  ErrorCode parse_error;
  const auto room = goal == http::ParseGoal::SomeBody ? response_chunk_.size() : 0;
  if (http::parseBuffered(*response_, upstream_->buffer, goal, room, kResponseFramingBytes, parse_error)) {
    return done(parse_error);
  }
  // No body byte has come with the head: send the head now rather than hold it until the app writes (a
  // server-sent event stream, a slow report), as the client may act on the status and fields alone.
  if (goal == http::ParseGoal::SomeBody && !response_head_written_) return doWriteResponse({}, false);
  auto on_read = [self = shared_from_this(), done, goal](ErrorCode ec, std::size_t n) {
    if (self->closed_) return;
    if (!self->upstream_) return done(asio::error::operation_aborted);  // let go of meanwhile
    if (ec == asio::error::eof) return done(http::parseEndOfStream(*self->response_));
    if (ec) return done(ec);
    self->upstream_->buffer.commit(n);
    self->pumpResponse(goal);
  };
  // Once the head is in, the app's close can come with its last bytes, under one readiness event: a read that
  // trusts "a short read emptied the socket" would miss it and wait for response_timeout (a body delimited
  // by the close, an app that dies mid-body). Body reads try the socket at once; only the head read, which
  // follows the request write and so almost always finds nothing yet, waits for the event
  // (proxy/drained_read.h).
  if (goal == http::ParseGoal::SomeBody) {
    return worker_.startReadNow(upstream_->socket, upstream_->buffer.prepare(kChunkBytes),
                                std::move(on_read));
  }
  worker_.startRead(upstream_->socket, upstream_->buffer.prepare(kChunkBytes), std::move(on_read));
}

bool DownstreamConnection::retryOnFreshConnection(ErrorCode ec) {
  // A pooled connection the app closed while it sat idle fails on first use. Retrying is safe only when the
  // app cannot have acted on the request: no body was taken from the client, no response byte came back, and
  // the method is idempotent. Once, on a new connection.
  if (retried_ || !upstream_ || !upstream_->reused || !isPeerGone(ec)) return false;
  if (request_body_bytes_ > 0 || !request_->is_done()) return false;
  if (!isIdempotent(request_->get().method())) return false;
  if (upstream_->buffer.size() > 0) return false;
  retried_ = true;
  closeUpstream();
  request_head_sent_ = false;
  doAcquireUpstream(true);
  return true;
}

void DownstreamConnection::onReadResponseHeader(ErrorCode ec) {
  if (closed_) return;
  if (ec) {
    if (retryOnFreshConnection(ec)) return;
    return upstreamFailed(ec, false);
  }
  auto& response = response_->get();
  const auto status = response.result_int();
  if (status >= 100 && status < 200 && status != 101) {
    // Interim responses (a stray 100, 103 Early Hints) are not relayed; the final one follows.
    return doReadResponseHeader();
  }
  upstream_time_ = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - upstream_start_);
  status_ = status;

  const bool upgrade = status == 101 && upgrade_requested_;
  if (status == 101 && !upgrade) return upstreamFailed(bhttp::error::bad_version, false);
  if (http::hasField(response, bhttp::field::transfer_encoding) && http::checkTransferEncoding(response)) {
    // The relay removes chunked framing and writes its own; any other transfer-coding (gzip, chunked) would
    // reach the client undeclared once the field is gone. nginx refuses such a response the same way.
    spdlog::warn("upstream {}: unsupported Transfer-Encoding \"{}\" (request {})",
                 worker_.runtime().config->upstream.address.text,
                 std::string_view(response[bhttp::field::transfer_encoding]), info_.request_id);
    closeUpstream();
    return sendError(bhttp::status::bad_gateway, "upstream sent an unsupported transfer-encoding", true);
  }

  response_keep_alive_ = response_->keep_alive();
  http::removeHopByHop(response.base(), upgrade);
  http::replaceField(response.base(), http::kRequestIdField, info_.request_id);
  chain_.onResponse(response.base());
  response.version(client_http10_ ? 10 : 11);
  if (upgrade) {
    response.set(bhttp::field::connection, "Upgrade");
  } else {
    const bool has_body = !response_->is_done();
    const bool known_length = response_->content_length().has_value();
    // An HTTP/1.0 client cannot take chunked framing: a body of unknown length ends with the connection.
    if (has_body && !known_length && client_http10_) client_keep_alive_ = false;
    if (draining_ || worker_.draining()) client_keep_alive_ = false;
    // For an HTTP/1.0 client this writes "Connection: keep-alive" when the connection stays open.
    http::setKeepAlive(response, client_keep_alive_);
    if (has_body && !known_length && !client_http10_) response.chunked(true);
  }
  to_client_.startResponse(response.base());
  to_client_.setChunked(http::isChunked(response));
  if (upgrade || response_->is_done()) return doWriteResponse({}, true);
  // The head waits for the first body bytes, so that a small response leaves in one write.
  doReadResponseBody();
}

void DownstreamConnection::doReadResponseBody() {
  if (!response_chunk_) response_chunk_ = worker_.buffers().take();
  auto& body = response_->get().body();
  body.data = response_chunk_.data();
  body.size = response_chunk_.size();
  armDeadline(Waiting::Upstream, worker_.runtime().config->upstream.response_timeout);
  pumpResponse(http::ParseGoal::SomeBody);
}

void DownstreamConnection::onReadResponseBody(ErrorCode ec) {
  if (closed_) return;
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) return upstreamFailed(ec, response_head_written_);
  const auto got = response_chunk_.size() - response_->get().body().size;
  response_body_bytes_ += got;
  doWriteResponse(std::string_view(response_chunk_.data(), got), response_->is_done());
}

// The continuation may run inside startWrite and end the exchange (resetting the filter chain). Safe: every
// caller returns right after, and it is reached only from the completion of an upstream read (an exchange
// starts with nothing buffered from the app), after the filters' response hooks have run.
void DownstreamConnection::doWriteResponse(std::string_view data, bool last) {
  armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
  worker_.startWrite(
      socket_, to_client_.next(data, last),
      [self = shared_from_this(), last](ErrorCode ec, std::size_t) { self->onWriteResponse(ec, last); });
}

void DownstreamConnection::onWriteResponse(ErrorCode ec, bool last) {
  if (closed_) return;
  if (ec) {
    closeUpstream();
    return close();
  }
  to_client_.sent();
  response_head_written_ = true;
  if (status_ == 101) return startTunnel();
  if (last) return finishExchange();
  doReadResponseBody();
}

void DownstreamConnection::upstreamFailed(ErrorCode ec, bool response_started) {
  spdlog::warn("upstream {}: {} (request {}, route {})", worker_.runtime().config->upstream.address.text,
               ec.message(), info_.request_id, info_.route_name);
  closeUpstream();
  if (response_started) return close();  // the client has part of a response: cut it off
  // Only a late response is a timeout (504); a connect that timed out is an upstream error (502, as
  // docs/configuration.md says).
  if (upstream_timed_out_) return sendError(bhttp::status::gateway_timeout, "upstream timeout", true);
  sendError(bhttp::status::bad_gateway, "upstream error", true);
}

// ---- upgrade tunnel ----

void DownstreamConnection::startTunnel() {
  // Bytes already read past the heads belong to the new protocol: the client's go upstream first, and the
  // upstream's (still in its buffer) go to the client.
  tunnel_buffer_ = std::move(buffer_);
  recordExchange();
  // The heads are written and logged, and the filters have seen the response: a tunnel that may stay open for
  // hours keeps neither its filters nor a header block.
  endExchange();
  tunnelClientToUpstream();
  tunnelUpstreamToClient();
}

void DownstreamConnection::tunnelClientToUpstream() {
  if (closed_) return;
  if (tunnel_buffer_.size() > 0) {
    armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
    asio::async_write(upstream_->socket, tunnel_buffer_.data(),
                      [self = shared_from_this()](ErrorCode ec, std::size_t n) {
                        if (ec) return self->close();
                        self->tunnel_buffer_.consume(n);
                        self->tunnelClientToUpstream();
                      });
    return;
  }
  armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
  socket_.async_read_some(tunnel_buffer_.prepare(kChunkBytes),
                          [self = shared_from_this()](ErrorCode ec, std::size_t n) {
                            if (ec) return self->close();
                            self->tunnel_buffer_.commit(n);
                            self->tunnelClientToUpstream();
                          });
}

void DownstreamConnection::tunnelUpstreamToClient() {
  if (closed_ || !upstream_) return;
  auto& from = upstream_->buffer;
  if (from.size() > 0) {
    armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
    asio::async_write(socket_, from.data(), [self = shared_from_this()](ErrorCode ec, std::size_t n) {
      if (ec || !self->upstream_) return self->close();
      self->upstream_->buffer.consume(n);
      self->tunnelUpstreamToClient();
    });
    return;
  }
  armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
  upstream_->socket.async_read_some(from.prepare(kChunkBytes),
                                    [self = shared_from_this()](ErrorCode ec, std::size_t n) {
                                      if (ec || !self->upstream_) return self->close();
                                      self->upstream_->buffer.commit(n);
                                      self->tunnelUpstreamToClient();
                                    });
}

// ---- local replies ----

void DownstreamConnection::sendError(bhttp::status status, std::string_view error, bool close) {
  if (info_.request_id.empty()) http::generateRequestId(info_.request_id);
  filters::LocalReply reply;
  reply.status = status;
  reply.body = http::errorBody(error, info_.request_id);
  if (status >= bhttp::status::internal_server_error || status == bhttp::status::request_timeout) {
    spdlog::warn("{} {}: {} (request {}, client {})", static_cast<unsigned>(status), error, info_.path,
                 info_.request_id, peer_.text);
  } else {
    spdlog::debug("{} {}: {} (request {}, client {})", static_cast<unsigned>(status), error, info_.path,
                  info_.request_id, peer_.text);
  }
  sendLocalReply(std::move(reply), close);
}

void DownstreamConnection::sendLocalReply(filters::LocalReply reply, bool close) {
  status_ = static_cast<unsigned>(reply.status);
  local_response_.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arenaAllocator()));
  local_response_->result(reply.status);
  local_response_->version(request_ && request_->is_header_done() && client_http10_ ? 10 : 11);
  local_response_->set(bhttp::field::content_type, reply.content_type);
  for (auto& [name, value] : reply.headers) local_response_->insert(name, value);
  if (!info_.request_id.empty())
    http::replaceField(local_response_->base(), http::kRequestIdField, info_.request_id);
  // Filters that let the request pass see the local answer too (a rate-limit header on a 401, say).
  chain_.onResponse(local_response_->base());
  const bool head = request_ && request_->is_header_done() && request_->get().method() == bhttp::verb::head;
  response_body_bytes_ = head ? 0 : reply.body.size();
  local_response_->body() = head ? std::string() : std::move(reply.body);
  local_response_->prepare_payload();
  if (head) local_response_->content_length(reply.body.size());
  close_after_local_reply_ = close || !client_keep_alive_ || draining_ || worker_.draining();
  local_response_->keep_alive(!close_after_local_reply_);
  armDeadline(Waiting::Client, worker_.runtime().config->limits.idle_timeout);
  // Head and body in one write, formatted as relayed responses are. Not a direct write: a local reply is
  // often given from inside the filter chain, which must not see the exchange end (and reset) under it.
  to_client_.setChunked(false);
  to_client_.startResponse(local_response_->base());
  asio::async_write(
      socket_, to_client_.next(local_response_->body(), true),
      asio::bind_allocator(worker_.writeAllocator(), [self = shared_from_this()](ErrorCode ec, std::size_t) {
        self->onWriteLocalReply(ec);
      }));
}

void DownstreamConnection::onWriteLocalReply(ErrorCode ec) {
  recordExchange();
  if (ec) {
    endExchange();
    return close();
  }
  if (close_after_local_reply_) {
    endExchange();
    return lingerThenClose();
  }
  endExchange();
  idle_ = true;
  doReadHead();
}

void DownstreamConnection::lingerThenClose() {
  // Closing a socket that still has unread client bytes sends a reset, and the client's kernel may then drop
  // the answer before the client has read it (a 413 or 400 to an upload still being sent). As nginx's
  // lingering close: stop sending, then read and drop what the client still sends, until it closes or a few
  // seconds pass.
  ErrorCode ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  buffer_.consume(buffer_.size());
  armDeadline(Waiting::Client,
              std::min<Clock::duration>(kLingerTime, worker_.runtime().config->limits.idle_timeout));
  discardClientBytes();
}

void DownstreamConnection::discardClientBytes() {
  // readNow: the client's FIN may have come with its last bytes, under an event already consumed.
  worker_.startReadNow(socket_, buffer_.prepare(kChunkBytes),
                       [self = shared_from_this()](ErrorCode ec, std::size_t) {
                         if (self->closed_) return;
                         if (ec)
                           return self->close();  // the client closed (or the deadline closed the socket)
                         self->discardClientBytes();
                       });
}

// ---- end of an exchange ----

void DownstreamConnection::finishExchange() {
  recordExchange();
  request_chunk_.release();
  response_chunk_.release();
  // A request body was read through 16 KiB steps: an idle keep-alive connection should not keep that room.
  if (buffer_.size() == 0 && buffer_.capacity() > kIdleBufferBytes) buffer_.shrink_to_fit();
  if (upstream_ && response_keep_alive_ && response_->is_done() && upstream_->buffer.size() == 0) {
    worker_.upstream().release(std::move(upstream_));
  } else {
    closeUpstream();
  }
  const bool keep_alive = client_keep_alive_ && request_->is_done() && !draining_ && !worker_.draining();
  endExchange();
  if (!keep_alive) return close();
  idle_ = true;
  doReadHead();
}

void DownstreamConnection::endExchange() {
  // The filters go first: they hold references to the headers until reset (they are kept, fresh, for the
  // connection's next request). No operation on either peer is pending on the headers any more; once the
  // headers are destroyed, the arena has nothing alive and its block goes back.
  markInFlight(false);
  chain_.reset();
  local_response_.reset();
  response_.reset();
  request_.reset();
  fields_arena_.end();
}

void DownstreamConnection::markInFlight(bool in_flight) {
  if (in_flight == in_flight_) return;
  in_flight_ = in_flight;
  in_flight ? worker_.exchangeBegan() : worker_.exchangeEnded();
}

void DownstreamConnection::recordExchange() {
  RouteStats& stats = routed_ ? *route_stats_ : *worker_.runtime().unrouted_stats;
  stats.bump(statusClassOf(status_));
  logAccess();
}

void DownstreamConnection::logAccess() {
  if (!worker_.accessLog().enabled()) return;
  if (!request_ || !request_->is_header_done()) {
    worker_.accessLog().log(AccessRecord{"-", info_.path, info_.route_name, status_, response_body_bytes_,
                                         upstream_time_, Clock::now() - request_start_, info_.request_id,
                                         peer_.text});
    return;
  }
  const auto& request = request_->get();
  worker_.accessLog().log(AccessRecord{request.method_string(), request.target(), info_.route_name, status_,
                                       response_body_bytes_, upstream_time_, Clock::now() - request_start_,
                                       info_.request_id, peer_.text});
}

void DownstreamConnection::closeUpstream() {
  if (!upstream_) return;
  ErrorCode ignored;
  upstream_->socket.close(ignored);
  // A read may still be pending on it (a tunnel, or a shutdown cutting a request): its completion writes into
  // the connection's buffer, so the object lives on, closed, until this connection goes.
  retired_upstream_ = std::move(upstream_);
}

void DownstreamConnection::close() {
  if (closed_) return;
  closed_ = true;
  // An exchange cut short (the client left, the app failed mid-response, a timeout) is logged too: with the
  // status sent, or 499 (nginx's "client closed request") when no response had begun.
  if (in_flight_ && request_ && request_->is_header_done()) {
    if (status_ == 0) status_ = kClientClosedRequest;
    recordExchange();
  }
  markInFlight(false);
  clearDeadline();
  chain_.cancel();
  self_hold_.reset();
  closeUpstream();
  ErrorCode ignored;
  socket_.close(ignored);
  // Mid-exchange, pending operations may still refer to the headers: they are destroyed with the connection,
  // and the arena's block goes back with the last of them (FieldArena::end keeps it until then).
  fields_arena_.end();
}

}  // namespace gatehouse::proxy
