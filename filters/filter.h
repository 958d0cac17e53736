// The filter interface. A route's filters run in the order the route lists them; each sees the request header
// before it goes upstream and may let it pass, change it, hold it while it does asynchronous work, or answer
// it locally. On the way back, the response header crosses the filters that let the request pass, in reverse
// order.
//
// Filters never touch sockets: they act on the request only through FilterCallbacks, and on the store only
// through the store interface (store/store.h). A Filter object serves one request at a time, on one worker
// thread, so it needs no locks: the filter chain of a connection keeps its filters from one request to the
// next while they come from the same factories, and reset()s them in between. Its factory is built once from
// the config and shared, immutable, by every filter it makes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/status.hpp>

#include "proxy/http/fields.h"

namespace boost::asio {
class io_context;
}

namespace gatehouse::store {
class Store;
}

namespace gatehouse::filters {

// Fields allocated in the exchange's arena (proxy/http/fields.h): a filter that keeps a header past the
// request keeps a copy, which takes the heap.
using RequestHeader = http::RequestHeader;
using ResponseHeader = http::ResponseHeader;

// An answer made by Gatehouse instead of the upstream (401, 403, 429, 503...). The body is sent as is.
struct LocalReply {
  boost::beast::http::status status = boost::beast::http::status::internal_server_error;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields (Location, Retry-After, ...)
};

// What the data plane knows of a request besides its header. Owned by the connection; outlives every filter
// call.
struct RequestInfo {
  std::string client_ip;   // the client as Gatehouse believes it (X-Forwarded-For only from trusted_proxies)
  std::string route_name;  // the matched route
  std::string request_id;  // X-Request-ID as sent upstream
  std::string path;        // the target's path, without the query
  bool wants_json =
      false;  // the client's Accept prefers application/json (a login redirect would not help it)

  // Set by the session filter when a valid session was found; read by later filters (rate_limit's
  // session.user).
  std::optional<std::string> user;
  std::vector<std::string> roles;
  // Set by the session filter's onPrefetch: the user this session id belonged to at its last successful
  // lookup on this worker. A guess that lets rate_limit prefetch a session.user-keyed check; never an
  // identity.
  std::optional<std::string> predicted_user;

  // Back to a default-constructed RequestInfo, except that the strings every request fills, and the roles
  // list, keep their memory: the connection reuses one RequestInfo, so that a request id, a path or a
  // session's roles cost no allocation. (A field added later is reset too: everything but these buffers comes
  // from a fresh RequestInfo.)
  void reset() {
    std::string ip = std::move(client_ip), route = std::move(route_name), id = std::move(request_id),
                target_path = std::move(path);
    std::vector<std::string> role_list = std::move(roles);
    *this = RequestInfo{};
    client_ip = std::move(ip);
    route_name = std::move(route);
    request_id = std::move(id);
    path = std::move(target_path);
    roles = std::move(role_list);
    client_ip.clear();
    route_name.clear();
    request_id.clear();
    path.clear();
    roles.clear();
  }
};

enum class FilterStatus {
  Continue,  // go on with the next filter
  Stop,      // the filter will call resume() or reply() exactly once, later (or already did, synchronously)
};

// How a stopped filter hands the request back. Valid until the filter's onCancel() or destruction.
class FilterCallbacks {
 public:
  virtual ~FilterCallbacks() = default;
  // Continue with the next filter (or upstream). Safe to call from inside onRequest before returning Stop.
  virtual void resume() = 0;
  // Answer the client with a local reply; later filters and the upstream never see the request.
  virtual void reply(LocalReply reply) = 0;
};

// The per-worker things a filter may use: the worker's event loop and its store connection. Owned by the
// worker.
struct WorkerServices {
  boost::asio::io_context& io;
  store::Store& store;        // the configured store (this worker's Redis connection, or the memory store)
  store::Store& local_store;  // the process's in-memory store: rate_limit's `on_store_error: local` fallback
};

class Filter {
 public:
  virtual ~Filter() = default;

  // Called for every filter of the route, in route order, before the first onRequest. A filter whose store
  // call depends only on the request as it arrived (not on what an earlier filter finds) may start it here:
  // the store calls of one request then leave in the same turn of the event loop — one pipelined write, one
  // round trip — instead of one after another. The filter must not act on the request here; it answers in
  // onRequest as usual. It may leave a hint for later filters' prefetch in `info` (predicted_user).
  virtual void onPrefetch(const RequestHeader& /*request*/, RequestInfo& /*info*/) {}

  // Called once per request, in route order. The filter may change the request header. Return Continue to
  // pass the request on; return Stop and call callbacks.resume() or callbacks.reply() exactly once, now or
  // later.
  virtual FilterStatus onRequest(RequestHeader& request, RequestInfo& info, FilterCallbacks& callbacks) = 0;

  // Called in reverse route order on the response header (from the upstream, or a local reply made by a later
  // filter or by the proxy itself), for each filter whose onRequest let the request pass. May add or change
  // fields.
  virtual void onResponse(ResponseHeader& /*response*/, const RequestInfo& /*info*/) {}

  // Called when the client went away while this filter was stopped. No callback may be called afterwards, and
  // any reply from the store that arrives later must be ignored.
  virtual void onCancel() {}

  // Called between two requests (after the response, or after onCancel): makes the filter exactly as its
  // factory made it, for the next request of the connection. Nothing of the request that ended may remain (no
  // identity, result, header or reference to its header, info or callbacks), and any reply from the store to
  // a call the ended request made must be ignored, whether or not it was told onCancel (a filter whose
  // prefetch was in flight when an earlier filter answered the request never is). Per-request state is best
  // kept in one struct re-assigned from a default-constructed one, so that a field added later is reset too.
  virtual void reset() = 0;
};

// Builds the Filters of a route: one per connection that uses the route (reused, through Filter::reset, for
// the connection's following requests on it). Built once per route from the config; immutable and shared by
// all workers. A filter may outlive its factory (a config reload): it keeps what it needs by shared_ptr.
class FilterFactory {
 public:
  virtual ~FilterFactory() = default;
  virtual std::unique_ptr<Filter> create(WorkerServices& services) const = 0;
  virtual std::string_view name() const = 0;  // "session", "rate_limit", "headers"
};

}  // namespace gatehouse::filters
