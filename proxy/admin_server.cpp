#include "proxy/admin_server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "proxy/http/fields.h"
#include "proxy/metrics.h"
#include "store/store_factory.h"

namespace gatehouse::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

namespace {

// One admin client connection: small requests, answered one at a time.
class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(asio::ip::tcp::socket socket, AdminServer& server)
      : stream_(std::move(socket)), server_(server) {}

  void read() {
    request_ = {};
    stream_.expires_after(10s);
    bhttp::async_read(stream_, buffer_, request_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->stream_.close();
                        self->handle();
                      });
  }

 private:
  void handle() {
    const auto target = request_.target();
    if (target == "/healthz") return respond(bhttp::status::ok, R"({"status":"alive"})");
    if (target == "/metrics") return respond(bhttp::status::ok, server_.metrics(), kMetricsContentType);
    if (target == "/readyz") {
      server_.checkReady([self = shared_from_this()](bool ready, std::string reason) {
        boost::json::object body{{"status", ready ? "ready" : "not ready"}};
        if (!ready) body["reason"] = reason;
        self->respond(ready ? bhttp::status::ok : bhttp::status::service_unavailable,
                      boost::json::serialize(body));
      });
      return;
    }
    respond(bhttp::status::not_found, R"({"error":"not found"})");
  }

  void respond(bhttp::status status, std::string body, std::string_view content_type = "application/json") {
    response_ = {};
    response_.result(status);
    response_.version(request_.version());
    response_.set(bhttp::field::content_type, content_type);
    response_.set(bhttp::field::cache_control, "no-store");
    response_.keep_alive(request_.keep_alive());
    response_.body() = std::move(body);
    response_.prepare_payload();
    bhttp::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->stream_.close();
      self->read();
    });
  }

  beast::tcp_stream stream_;
  AdminServer& server_;
  beast::flat_buffer buffer_;
  // Gatehouse's header type; the admin thread lends no arena, so these fields live on the heap.
  bhttp::request<bhttp::string_body, http::Fields> request_;
  bhttp::response<bhttp::string_body, http::Fields> response_;
};

}  // namespace

AdminServer::AdminServer(std::shared_ptr<const Runtime> runtime, std::shared_ptr<store::MemoryStore> memory)
    : runtime_(std::move(runtime)),
      memory_(std::move(memory)),
      store_(store::makeWorkerStore(io_, runtime_->config->store, memory_)),
      upstream_(io_, runtime_->config->upstream),
      acceptor_(io_),
      serving_(runtime_) {}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::start() {
  const auto& address = *runtime_->config->admin;
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address.host), address.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

void AdminServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<AdminSession>(std::move(socket), *this)->read();
    accept();
  });
}

void AdminServer::checkReady(std::function<void(bool, std::string)> done) {
  if (draining_.load(std::memory_order_relaxed)) return done(false, "draining: shutting down");
  // The upstream first: a fresh connection (not a pooled one) proves the app accepts connections now.
  upstream_.connect(
      [this, done = std::move(done)](boost::system::error_code ec, UpstreamConnectionPtr) mutable {
        if (ec)
          return done(false, "upstream " + runtime_->config->upstream.address.text + ": " + ec.message());
        store_->ping([done = std::move(done)](store::StoreStatus status) {
          if (status != store::StoreStatus::Ok) {
            return done(false, "store: " + std::string(store::toString(status)));
          }
          done(true, {});
        });
      });
}

void AdminServer::setRuntime(std::shared_ptr<const Runtime> runtime) {
  std::lock_guard lock(serving_mutex_);
  serving_ = std::move(runtime);
}

std::string AdminServer::metrics() const {
  std::shared_ptr<const Runtime> runtime;
  {
    std::lock_guard lock(serving_mutex_);
    runtime = serving_;
  }
  return renderMetrics(*runtime);
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  io_.stop();
  thread_.join();
  upstream_.shutdown();
}

}  // namespace gatehouse::proxy
