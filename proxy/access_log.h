// The access log: one line per request, as JSON or text, written by spdlog's background thread so that the
// event loop only formats the line and hands it over (the queue drops the oldest lines rather than block a
// worker).
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "proxy/config/config.h"

namespace spdlog {
class logger;
}

namespace gatehouse::proxy {

struct AccessRecord {
  std::string_view method;
  std::string_view target;
  std::string_view route;
  unsigned status = 0;
  std::uint64_t bytes = 0;  // response body bytes sent
  std::chrono::microseconds upstream_time{0};
  std::chrono::steady_clock::duration total_time{};
  std::string_view request_id;
  std::string_view client;
};

class AccessLog {
 public:
  explicit AccessLog(config::LogConfig::Access format);
  void log(const AccessRecord& record);
  // False with `access: off`: the caller need not even build the record.
  bool enabled() const { return logger_ != nullptr; }

  // A JSON line for the record (exposed for tests).
  static std::string formatJson(const AccessRecord& record);
  static std::string formatText(const AccessRecord& record);

 private:
  config::LogConfig::Access format_;
  std::shared_ptr<spdlog::logger> logger_;
};

// Sets up the error log (stderr) at the configured level, and the thread pool the async loggers share.
void setupLogging(const config::LogConfig& log);

}  // namespace gatehouse::proxy
