// The headers filter: fixed header edits on a route, on the request before it goes upstream and on the
// response before it goes to the client ("headers: {request: {remove: [X-Debug]}, response: {set:
// {Cache-Control: no-store}}}"). Each side applies remove, then set, then add, so "remove X, add X: v" means
// "replace X by v".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/field.hpp>

#include "filters/filter.h"
#include "proxy/config/config.h"

namespace gatehouse::filters {

// One side's operations, with every name resolved to Beast's field enum once, at load.
class CompiledHeaderOps {
 public:
  // Throws std::invalid_argument on a name that is not a token, a value with control characters, or a field
  // that belongs to the connection's framing (Content-Length, Transfer-Encoding, Connection and the other
  // hop-by-hop fields): editing those would desynchronise the proxy's framing from what it tells the peer.
  explicit CompiledHeaderOps(const config::HeaderOps& ops);

  void apply(http::Fields& fields) const;

  bool empty() const { return remove_.empty() && set_.empty() && add_.empty(); }

 private:
  struct Name {
    boost::beast::http::field known;  // field::unknown for a name Beast has no enum for
    std::string text;
  };
  struct Op {
    Name name;
    std::string value;
  };

  std::vector<Name> remove_;
  std::vector<Op> set_;
  std::vector<Op> add_;
};

struct CompiledHeadersConfig {
  CompiledHeaderOps request;
  CompiledHeaderOps response;
};

class HeadersFilterFactory final : public FilterFactory {
 public:
  // Throws std::invalid_argument on invalid operations (see CompiledHeaderOps).
  explicit HeadersFilterFactory(const config::HeadersFilterConfig& config);

  std::unique_ptr<Filter> create(WorkerServices& services) const override;
  std::string_view name() const override { return "headers"; }

 private:
  // Shared with every filter made, so that a request in flight keeps its ops even after a config reload drops
  // the factory.
  std::shared_ptr<const CompiledHeadersConfig> config_;
};

}  // namespace gatehouse::filters
