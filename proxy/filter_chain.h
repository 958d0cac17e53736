// Runs a route's filters over one request: in route order on the request, in reverse on the response. Knows
// nothing of sockets: the connection hands it the request and learns the outcome through ChainSink. Reused
// across the requests of a keep-alive connection, and so are its filters while the requests use the same
// factories (the same route, or routes with the very same filters): creating them anew would cost an
// allocation or more per filter and request.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "filters/filter.h"

namespace gatehouse::proxy {

using FilterFactoryList = std::vector<std::shared_ptr<const filters::FilterFactory>>;

// Where the chain's outcome goes. Called exactly once per start(), possibly from inside start() itself.
class ChainSink {
 public:
  virtual ~ChainSink() = default;
  virtual void onChainContinue() = 0;                        // every filter let the request pass
  virtual void onChainReply(filters::LocalReply reply) = 0;  // a filter answered locally
};

class FilterChain final : public filters::FilterCallbacks {
 public:
  // Runs the route's filters until one stops or all have passed: the filters of the previous request when
  // `factories` and `services` are the same as then, else new ones from `factories`. The header, info and
  // sink must outlive the request (until reset()).
  void start(const FilterFactoryList& factories, filters::WorkerServices& services,
             filters::RequestHeader& request, filters::RequestInfo& info, ChainSink& sink);

  // The response hooks of the filters that let the request pass, in reverse order.
  void onResponse(filters::ResponseHeader& response);

  // The request is abandoned (client gone, shutdown): a stopped filter is told, and no outcome is delivered.
  void cancel();

  // Ready for the next request: a stopped filter is cancelled, and every filter is reset (Filter::reset) and
  // kept for the next request. Drops every reference to this request's header, info and sink.
  void reset();

  bool waiting() const { return state_ == State::Stopped; }

  // FilterCallbacks, for the stopped filter.
  void resume() override;
  void reply(filters::LocalReply reply) override;

 private:
  enum class State { Idle, Running, Stopped, Done };
  void advance();
  void finishWithReply(filters::LocalReply reply);
  bool madeBy(const FilterFactoryList& factories, const filters::WorkerServices& services) const;
  void createFilters(const FilterFactoryList& factories, filters::WorkerServices& services);

  std::vector<std::unique_ptr<filters::Filter>> filters_;
  // What filters_ were made from. The factories are held, not just their addresses: a factory dropped by a
  // config reload cannot be freed and another one built at its address, so equal pointers mean the same
  // factories. Keeps an old config's factories alive until the connection's next request on another list.
  FilterFactoryList factories_;
  // The worker's, so the same for the connection's lifetime; compared all the same, as the filters hold it.
  const filters::WorkerServices* services_ = nullptr;
  std::size_t index_ = 0;   // the filter being run
  std::size_t passed_ = 0;  // filters [0, passed_) let the request pass: they see the response
  State state_ = State::Idle;
  bool in_call_ = false;  // inside a filter's onRequest: callbacks are recorded, not acted on
  bool resumed_in_call_ = false;
  std::optional<filters::LocalReply> reply_in_call_;

  filters::RequestHeader* request_ = nullptr;
  filters::RequestInfo* info_ = nullptr;
  ChainSink* sink_ = nullptr;
};

}  // namespace gatehouse::proxy
