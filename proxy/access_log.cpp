#include "proxy/access_log.h"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace gatehouse::proxy {
namespace {

constexpr std::size_t kQueueSize = 64 * 1024;

double millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Lines go through spdlog's background thread; a full queue overwrites the oldest line instead of blocking
// the event loop that logs.
std::shared_ptr<spdlog::logger> makeAsyncLogger(const std::string& name, spdlog::sink_ptr sink) {
  return std::make_shared<spdlog::async_logger>(name, std::move(sink), spdlog::thread_pool(),
                                                spdlog::async_overflow_policy::overrun_oldest);
}

std::string jsonString(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

}  // namespace

void setupLogging(const config::LogConfig& log) {
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(kQueueSize, 1);
  auto logger = makeAsyncLogger("gatehouse", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%t] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log.level));
  spdlog::flush_on(spdlog::level::warn);
}

AccessLog::AccessLog(config::LogConfig::Access format) : format_(format) {
  if (format_ == config::LogConfig::Access::Off) return;
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(kQueueSize, 1);
  logger_ = makeAsyncLogger("access", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
}

std::string AccessLog::formatJson(const AccessRecord& r) {
  return fmt::format(
      R"({{"method":{},"target":{},"route":{},"status":{},"bytes":{},"upstream_ms":{:.3f},"total_ms":{:.3f},)"
      R"("request_id":{},"client":{}}})",
      jsonString(r.method), jsonString(r.target), jsonString(r.route), r.status, r.bytes,
      std::chrono::duration<double, std::milli>(r.upstream_time).count(), millis(r.total_time),
      jsonString(r.request_id), jsonString(r.client));
}

std::string AccessLog::formatText(const AccessRecord& r) {
  return fmt::format("{} \"{} {}\" {} {} route={} upstream={:.3f}ms total={:.3f}ms id={}", r.client, r.method,
                     r.target, r.status, r.bytes, r.route.empty() ? "-" : r.route,
                     std::chrono::duration<double, std::milli>(r.upstream_time).count(), millis(r.total_time),
                     r.request_id);
}

void AccessLog::log(const AccessRecord& record) {
  if (!logger_) return;
  logger_->info(format_ == config::LogConfig::Access::Json ? formatJson(record) : formatText(record));
}

}  // namespace gatehouse::proxy
