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

// Until the end of the window after window_index, when the counter stops mattering.
std::int64_t counterTimeToLive(std::int64_t window_index, Millis window, std::int64_t now_ms) {
  return (window_index + 2) * window.count() - now_ms;
}

void appendCounterKey(std::string& out, std::string_view base_key, Millis window, std::int64_t window_index) {
  appendRateLimitKey(out, base_key, RateLimitAlgorithm::SlidingWindow, window);
  out.push_back(':');
  out.append(DecimalText(window_index).view());
}

RateLimitResult failedCheck(StoreStatus status) {
  RateLimitResult result;
  result.status = status;
  return result;
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

// The string views of one counter's keys in a buffer of keys written back to back.
std::string_view keyAt(const std::string& keys, std::span<const std::uint32_t> ends, std::size_t i) {
  const std::uint32_t start = i == 0 ? 0 : ends[i - 1];
  return std::string_view(keys).substr(start, ends[i] - start);
}

using ArgvList =
    boost::container::small_vector<std::array<std::string_view, 3>, kRepliesPerCounter * kInlineLimits>;
using CommandList =
    boost::container::small_vector<std::span<const std::string_view>, kRepliesPerCounter * kInlineLimits>;

}  // namespace

RateLimitResult evaluateWindowReplies(const RedisReply& replies, const WindowLimits& limits,
                                      std::uint32_t cost, std::int64_t now_ms) {
  const PerLimit<Millis> windows = distinctWindows(limits);
  if (replies.type != RedisReply::Type::Array ||
      replies.elements.size() != kRepliesPerCounter * windows.size()) {
    return failedCheck(StoreStatus::Error);
  }
  PerLimit<WindowCounter> counters(windows.size());
  for (std::size_t j = 0; j < windows.size(); ++j) {
    const RedisReply& counted = replies.elements[kRepliesPerCounter * j];
    const RedisReply& expiry = replies.elements[kRepliesPerCounter * j + 1];
    const RedisReply& previous = replies.elements[kRepliesPerCounter * j + 2];
    std::uint64_t previous_count = 0;
    if (counted.type != RedisReply::Type::Integer || expiry.type != RedisReply::Type::Integer ||
        !readCount(previous, previous_count)) {
      return failedCheck(StoreStatus::Error);
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
    std::string keys;  // the current windows' keys, back to back
    PerLimit<std::uint32_t> key_ends;
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
    RateLimitResult result = status == StoreStatus::Ok
                                 ? evaluateWindowReplies(reply, check.limits, check.cost, check.now_ms)
                                 : failedCheck(status);
    // Without an answer (timeout, connection lost) the count may or may not have happened: it stays.
    if (result.status == StoreStatus::Ok && !result.allowed) takeBack(check);
    RateLimitCallback done = std::move(check.done);
    check.done = nullptr;
    free_.push_back(id);  // before the callback, which may start a check that reuses the slot
    done(std::move(result));
  }

 private:
  static void takeBack(const Check& check) {
    const PerLimit<Millis> windows = distinctWindows(check.limits);
    const DecimalText cost(check.cost);
    boost::container::small_vector<DecimalText, kInlineLimits> ttls;
    ArgvList argvs;
    for (std::size_t j = 0; j < windows.size(); ++j) {
      ttls.emplace_back(counterTimeToLive(check.now_ms / windows[j].count(), windows[j], check.now_ms));
    }
    for (std::size_t j = 0; j < windows.size(); ++j) {
      const std::string_view key = keyAt(check.keys, check.key_ends, j);
      argvs.push_back({"DECRBY", key, cost.view()});
      argvs.push_back({"PEXPIRE", key, ttls[j].view()});
    }
    CommandList commands(argvs.begin(), argvs.end());
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
  pending.keys.clear();
  pending.key_ends.clear();
  previous_keys_.clear();

  const PerLimit<Millis> windows = distinctWindows(check.limits);
  PerLimit<std::uint32_t> previous_ends;
  boost::container::small_vector<DecimalText, kInlineLimits> ttls;
  for (Millis window : windows) {
    const std::int64_t index = pending.now_ms / window.count();
    appendCounterKey(pending.keys, check.key, window, index);
    pending.key_ends.push_back(static_cast<std::uint32_t>(pending.keys.size()));
    appendCounterKey(previous_keys_, check.key, window, index - 1);
    previous_ends.push_back(static_cast<std::uint32_t>(previous_keys_.size()));
    ttls.emplace_back(counterTimeToLive(index, window, pending.now_ms));
  }

  const DecimalText cost(check.cost);
  ArgvList argvs;
  CommandList commands;
  for (std::size_t j = 0; j < windows.size(); ++j) {
    const std::string_view current = keyAt(pending.keys, pending.key_ends, j);
    argvs.push_back({"INCRBY", current, cost.view()});
    argvs.push_back({"PEXPIRE", current, ttls[j].view()});
    argvs.push_back({"GET", keyAt(previous_keys_, previous_ends, j), {}});
  }
  for (std::size_t i = 0; i < argvs.size(); ++i) {
    commands.emplace_back(argvs[i].data(), i % kRepliesPerCounter == 2 ? 2 : 3);
  }
  client.pipeline(commands, [in_flight = in_flight_, id](StoreStatus status, const RedisReply& reply) {
    in_flight->complete(id, status, reply);
  });
}

}  // namespace gatehouse::store
