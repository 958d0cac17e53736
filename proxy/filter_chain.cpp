#include "proxy/filter_chain.h"

#include <utility>

namespace gatehouse::proxy {

void FilterChain::start(const FilterFactoryList& factories, filters::WorkerServices& services,
                        filters::RequestHeader& request, filters::RequestInfo& info, ChainSink& sink) {
  reset();
  if (!madeBy(factories, services)) createFilters(factories, services);
  request_ = &request;
  info_ = &info;
  sink_ = &sink;
  state_ = State::Running;
  for (auto& filter : filters_) filter->onPrefetch(request, info);
  advance();
}

bool FilterChain::madeBy(const FilterFactoryList& factories, const filters::WorkerServices& services) const {
  return services_ == &services && factories_ == factories;  // shared_ptr ==: the same factory objects
}

void FilterChain::createFilters(const FilterFactoryList& factories, filters::WorkerServices& services) {
  filters_.clear();
  for (const auto& factory : factories) filters_.push_back(factory->create(services));
  factories_ = factories;
  services_ = &services;
}

void FilterChain::advance() {
  while (index_ < filters_.size()) {
    in_call_ = true;
    resumed_in_call_ = false;
    const auto status = filters_[index_]->onRequest(*request_, *info_, *this);
    in_call_ = false;
    if (reply_in_call_) {
      auto reply = std::move(*reply_in_call_);
      reply_in_call_.reset();
      finishWithReply(std::move(reply));
      return;
    }
    if (status == filters::FilterStatus::Stop && !resumed_in_call_) {
      state_ = State::Stopped;
      return;
    }
    // Continue, or a Stop whose asynchronous work finished before onRequest returned: resume exactly once.
    passed_ = ++index_;
  }
  state_ = State::Done;
  sink_->onChainContinue();
}

void FilterChain::resume() {
  if (in_call_) {
    resumed_in_call_ = true;
    return;
  }
  if (state_ != State::Stopped) return;  // a late or second resume: ignored, the request has moved on
  state_ = State::Running;
  passed_ = ++index_;
  advance();
}

void FilterChain::reply(filters::LocalReply reply) {
  if (in_call_) {
    reply_in_call_ = std::move(reply);
    return;
  }
  if (state_ != State::Stopped) return;
  finishWithReply(std::move(reply));
}

void FilterChain::finishWithReply(filters::LocalReply reply) {
  state_ = State::Done;
  sink_->onChainReply(std::move(reply));
}

void FilterChain::onResponse(filters::ResponseHeader& response) {
  for (std::size_t i = passed_; i-- > 0;) filters_[i]->onResponse(response, *info_);
}

void FilterChain::cancel() {
  if (state_ == State::Stopped && index_ < filters_.size()) filters_[index_]->onCancel();
  state_ = State::Done;
}

void FilterChain::reset() {
  if (state_ == State::Idle) return;  // no request since the last reset: the filters are fresh
  if (state_ == State::Stopped) cancel();
  for (auto& filter : filters_) filter->reset();
  request_ = nullptr;
  info_ = nullptr;
  sink_ = nullptr;
  index_ = 0;
  passed_ = 0;
  state_ = State::Idle;
  in_call_ = false;
  resumed_in_call_ = false;
  reply_in_call_.reset();
}

}  // namespace gatehouse::proxy
