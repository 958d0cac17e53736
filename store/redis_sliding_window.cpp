#include "store/redis_sliding_window.h"

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "store/decimal_text.h"
#include "store/rate_limit_keys.h"
#include "store/sliding_window.h"

namespace gatehouse::store {
namespace {

constexpr std::size_t kRepliesPerCounter = 3;  // INCRBY, PEXPIRE, GET

// The windows of a check's counters, in the order they first appear: limits of one window share a counter.
PerLimit<Millis> distinctWindows(const WindowLimits& limits) {
  PerLimit<Millis> windows;
  for (const WindowLimit& limit : limits) {
    if (std::find(windows.begin(), windows.end(), limit.window) == windows.end())
      windows.push_back(limit.window);
  }
  return windows;
}

std::size_t counterOf(const PerLimit<Millis>& windows, Millis window) {
  return static_cast<std::size_t>(std::find(windows.begin(), windows.end(), window) - windows.begin());
}

void appendCounterKey(std::string& out, std::string_view base_key, Millis window, std::int64_t window_index) {
  appendRateLimitKey(out, base_key, RateLimitAlgorithm::SlidingWindow, window);
  out.push_back(':');
  out.append(DecimalText(window_index).view());
}

// Until the end of the window after this one, when the counter stops mattering.
DecimalText counterTimeToLive(Millis window, std::int64_t now_ms) {
  const WindowCounter counter{now_ms / window.count(), 0, 0};
  return DecimalText(slidingWindowTimeToLive(counter, now_ms, window.count()).count());
}

// A counter's GET: nil (no request in that window) or the decimal count. A negative count (a DECRBY that
// outlived its key) counts as nothing.
bool readCount(const RedisReply& reply, std::uint64_t& count) {
  count = 0;
  if (reply.isNil()) return true;
  if (reply.type != RedisReply::Type::String) return false;
  const std::optional<std::int64_t> value = parseDecimal(reply.str);
  if (!value) return false;
  count = static_cast<std::uint64_t>(std::max<std::int64_t>(0, *value));
  return true;
}

// The verdict from the replies of a check whose counters are `windows` (distinctWindows of its limits).
RateLimitResult evaluateReplies(const RedisReply& replies, const PerLimit<Millis>& windows,
                                const WindowLimits& limits, std::uint32_t cost, std::int64_t now_ms) {
  if (replies.type != RedisReply::Type::Array ||
      replies.elements.size() != kRepliesPerCounter * windows.size()) {
    return RateLimitResult::failed(StoreStatus::Error);
  }
  PerLimit<WindowCounter> counters(windows.size());
  for (std::size_t j = 0; j < windows.size(); ++j) {
    const RedisReply& counted = replies.elements[kRepliesPerCounter * j];
    const RedisReply& expiry = replies.elements[kRepliesPerCounter * j + 1];
    const RedisReply& previous = replies.elements[kRepliesPerCounter * j + 2];
    std::uint64_t previous_count = 0;
    if (counted.type != RedisReply::Type::Integer || expiry.type != RedisReply::Type::Integer ||
        !readCount(previous, previous_count)) {
      return RateLimitResult::failed(StoreStatus::Error);
    }
    // The count before this request: INCRBY answered it with the cost added.
    const std::int64_t before = std::max<std::int64_t>(0, counted.integer - static_cast<std::int64_t>(cost));
    counters[j] =
        WindowCounter{now_ms / windows[j].count(), static_cast<std::uint64_t>(before), previous_count};
  }
  PerLimit<WindowCounter*> counter_of_limit;
  for (const WindowLimit& limit : limits)
    counter_of_limit.push_back(&counters[counterOf(windows, limit.window)]);
  return evaluateSlidingWindow(counter_of_limit, std::span<const WindowLimit>(limits.data(), limits.size()),
                               cost, now_ms);
}

using ArgvList =
    boost::container::small_vector<std::array<std::string_view, 3>, kRepliesPerCounter * kInlineLimits>;
using CommandList =
    boost::container::small_vector<std::span<const std::string_view>, kRepliesPerCounter * kInlineLimits>;

}  // namespace

RateLimitResult evaluateWindowReplies(const RedisReply& replies, const WindowLimits& limits,
                                      std::uint32_t cost, std::int64_t now_ms) {
  return evaluateReplies(replies, distinctWindows(limits), limits, cost, now_ms);
}

// The checks waiting for their answers, in slots reused from one check to the next: a check keeps what its
// answer needs (the caller's callback, the limits, the keys to take a rejected cost back from) without an
// allocation per request, and its pipeline callback holds only this object and a slot number.
class RedisSlidingWindow::InFlight {
 public:
  struct Check {
    RateLimitCallback done;
    WindowLimits limits;
    std::uint32_t cost = 0;
    std::int64_t now_ms = 0;
    // The connection that counted the request. Used only while it delivers the answer (it is alive then):
    // a rejection's DECRBY goes to the same Redis.
    RedisClient* client = nullptr;
    PerLimit<Millis> windows;  // one counter per distinct window of the limits
    CheckKeys keys;            // the current window's key of each counter
  };

  std::uint32_t acquire() {
    if (free_.empty()) {
      checks_.emplace_back();
      return static_cast<std::uint32_t>(checks_.size() - 1);
    }
    const std::uint32_t id = free_.back();
    free_.pop_back();
    return id;
  }

  Check& at(std::uint32_t id) { return checks_[id]; }

  void complete(std::uint32_t id, StoreStatus status, const RedisReply& reply) {
    Check& check = checks_[id];
    RateLimitResult result = status == StoreStatus::Ok ? evaluateReplies(reply, check.windows, check.limits,
                                                                         check.cost, check.now_ms)
                                                       : RateLimitResult::failed(status);
    // Without an answer (timeout, connection lost) the count may or may not have happened: it stays.
    if (result.status == StoreStatus::Ok && !result.allowed) takeBack(check);
    RateLimitCallback done = std::move(check.done);
    check.done = nullptr;
    free_.push_back(id);  // before the callback, which may start a check that reuses the slot
    done(std::move(result));
  }

 private:
  static void takeBack(const Check& check) {
    const DecimalText cost(check.cost);
    boost::container::small_vector<DecimalText, kInlineLimits> ttls;
    for (Millis window : check.windows) ttls.push_back(counterTimeToLive(window, check.now_ms));
    ArgvList argvs;
    for (std::size_t j = 0; j < check.windows.size(); ++j) {
      argvs.push_back({"DECRBY", check.keys[j], cost.view()});
      argvs.push_back({"PEXPIRE", check.keys[j], ttls[j].view()});
    }
    const CommandList commands(argvs.begin(), argvs.end());
    check.client->pipeline(commands, [](StoreStatus, const RedisReply&) {});
  }

  std::vector<Check> checks_;
  std::vector<std::uint32_t> free_;
};

RedisSlidingWindow::RedisSlidingWindow(RedisClock clock)
    : clock_(std::move(clock)), in_flight_(std::make_shared<InFlight>()) {}

RedisSlidingWindow::~RedisSlidingWindow() = default;

std::string RedisSlidingWindow::counterKey(std::string_view base_key, Millis window,
                                           std::int64_t window_index) {
  std::string key;
  appendCounterKey(key, base_key, window, window_index);
  return key;
}

void RedisSlidingWindow::check(RedisClient& client, const RateLimitCheck& check, RateLimitCallback done) {
  const std::uint32_t id = in_flight_->acquire();
  InFlight::Check& pending = in_flight_->at(id);
  pending.done = std::move(done);
  pending.limits = check.limits;
  pending.cost = check.cost;
  clock_.refreshIfDue(client);  // a TIME now and then, in the same write as this check
  pending.now_ms = clock_.nowMs();
  pending.client = &client;
  pending.windows = distinctWindows(check.limits);
  pending.keys.clear();
  previous_keys_.clear();
  boost::container::small_vector<DecimalText, kInlineLimits> ttls;
  for (Millis window : pending.windows) {
    const std::int64_t index = pending.now_ms / window.count();
    appendCounterKey(pending.keys.buffer(), check.key, window, index);
    pending.keys.endKey();
    appendCounterKey(previous_keys_.buffer(), check.key, window, index - 1);
    previous_keys_.endKey();
    ttls.push_back(counterTimeToLive(window, pending.now_ms));
  }

  const DecimalText cost(check.cost);
  ArgvList argvs;
  for (std::size_t j = 0; j < pending.windows.size(); ++j) {
    argvs.push_back({"INCRBY", pending.keys[j], cost.view()});
    argvs.push_back({"PEXPIRE", pending.keys[j], ttls[j].view()});
    argvs.push_back({"GET", previous_keys_[j], {}});
  }
  CommandList commands;
  for (std::size_t i = 0; i < argvs.size(); ++i) {
    commands.emplace_back(argvs[i].data(), i % kRepliesPerCounter == 2 ? 2 : 3);  // GET has one argument
  }
  client.pipeline(commands, [in_flight = in_flight_, id](StoreStatus status, const RedisReply& reply) {
    in_flight->complete(id, status, reply);
  });
}

}  // namespace gatehouse::store
