// An upstream on a unix-domain socket (`address: unix:/path`), as sidecars often talk to their app.
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "tests/integration/harness.h"

namespace gatehouse::testing {
namespace {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

TEST(UnixUpstream, RequestsReachAnAppOnAUnixSocketOverOneKeptAliveConnection) {
  const auto path = "/tmp/gatehouse-unix-" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  asio::io_context io;
  local::acceptor acceptor(io, local::endpoint(path));
  std::atomic<int> connections{0};
  std::thread app([&] {
    // Serves one connection, answering each request with its target, until the proxy closes it.
    local::socket socket(io);
    acceptor.accept(socket);
    ++connections;
    boost::beast::flat_buffer buffer;
    for (;;) {
      Request request;
      boost::beast::error_code ec;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      Response response{http::status::ok, 11};
      response.body() = "unix:" + std::string(request.target());
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec) return;
    }
  });

  {
    ProxyInstance proxy(
        testConfig("unix:" + path, "  - name: app\n    match: {prefix: /}\n    filters: []\n"));
    HttpClient client(proxy.port());
    EXPECT_EQ(client.get("/one").body(), "unix:/one");
    EXPECT_EQ(client.get("/two").body(), "unix:/two");
  }  // the proxy stops and closes its upstream connection, which ends the app's loop
  app.join();
  EXPECT_EQ(connections.load(), 1);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace gatehouse::testing
