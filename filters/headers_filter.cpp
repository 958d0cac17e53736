#include "filters/headers_filter.h"

#include <stdexcept>

#include <boost/beast/core/string.hpp>

#include "proxy/config/http_syntax.h"
#include "proxy/http/request_checks.h"

namespace gatehouse::filters {
namespace {

namespace bhttp = boost::beast::http;

void checkName(std::string_view name) {
  if (!http::isFieldName(name)) {
    throw std::invalid_argument("headers filter: invalid header name '" + std::string(name) + "'");
  }
  if (config::isFramingHeader(name)) {
    throw std::invalid_argument("headers filter: '" + std::string(name) +
                                "' is managed by the proxy and cannot be edited");
  }
}

void checkValue(std::string_view name, std::string_view value) {
  if (!http::isFieldValue(value)) {
    throw std::invalid_argument("headers filter: the value of '" + std::string(name) +
                                "' contains control characters");
  }
}

class HeadersFilter final : public Filter {
 public:
  explicit HeadersFilter(std::shared_ptr<const CompiledHeadersConfig> config) : config_(std::move(config)) {}

  FilterStatus onRequest(RequestHeader& request, RequestInfo& /*info*/,
                         FilterCallbacks& /*callbacks*/) override {
    config_->request.apply(request);
    return FilterStatus::Continue;
  }

  void onResponse(ResponseHeader& response, const RequestInfo& /*info*/) override {
    config_->response.apply(response);
  }

  void reset() override {}  // no per-request state

 private:
  std::shared_ptr<const CompiledHeadersConfig> config_;
};

}  // namespace

CompiledHeaderOps::CompiledHeaderOps(const config::HeaderOps& ops) {
  auto compile = [](std::string_view name) {
    checkName(name);
    return Name{bhttp::string_to_field(name), std::string(name)};
  };
  remove_.reserve(ops.remove.size());
  for (const auto& name : ops.remove) remove_.push_back(compile(name));
  set_.reserve(ops.set.size());
  for (const auto& [name, value] : ops.set) {
    checkValue(name, value);
    set_.push_back(Op{compile(name), value});
  }
  add_.reserve(ops.add.size());
  for (const auto& [name, value] : ops.add) {
    checkValue(name, value);
    add_.push_back(Op{compile(name), value});
  }
}

void CompiledHeaderOps::apply(http::Fields& fields) const {
  for (const auto& name : remove_) {
    if (name.known != bhttp::field::unknown) {
      fields.erase(name.known);
    } else {
      fields.erase(name.text);
    }
  }
  for (const auto& op : set_) {
    if (op.name.known != bhttp::field::unknown) {
      fields.set(op.name.known, op.value);
    } else {
      fields.set(op.name.text, op.value);
    }
  }
  for (const auto& op : add_) {
    if (op.name.known != bhttp::field::unknown) {
      fields.insert(op.name.known, op.value);
    } else {
      fields.insert(op.name.text, op.value);
    }
  }
}

HeadersFilterFactory::HeadersFilterFactory(const config::HeadersFilterConfig& config)
    : config_(std::make_shared<const CompiledHeadersConfig>(
          CompiledHeadersConfig{CompiledHeaderOps(config.request), CompiledHeaderOps(config.response)})) {}

std::unique_ptr<Filter> HeadersFilterFactory::create(WorkerServices& /*services*/) const {
  return std::make_unique<HeadersFilter>(config_);
}

}  // namespace gatehouse::filters
