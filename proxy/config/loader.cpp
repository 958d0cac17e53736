#include "proxy/config/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>
#include <boost/asio/ip/address.hpp>

#include "proxy/config/address.h"
#include "proxy/config/error_report.h"
#include "proxy/config/section_readers.h"
#include "proxy/config/units.h"
#include "proxy/config/yaml_reader.h"

namespace gatehouse::config {
namespace {

constexpr std::uint64_t kMaxWorkers = 1024;
constexpr std::string_view kDefaultListen = "0.0.0.0:8080";

// hardware_concurrency() may return 0 when it cannot tell; one worker is always possible.
int coreCount() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int resolveWorkers(YamlReader& reader, const YAML::Node& node, const std::string& path) {
  const int cores = coreCount();
  auto text = reader.string(node, path, "\"auto\" or a number of workers");
  if (!text) return cores;
  if (*text == "auto") return cores;
  auto count = parseUnsigned(*text);
  if (!count || *count.value < 1 || *count.value > kMaxWorkers) {
    reader.error(node, path,
                 "expected \"auto\" or a number of workers from 1 to " + std::to_string(kMaxWorkers) +
                     ", found \"" + *text + "\"");
    return cores;
  }
  return static_cast<int>(*count.value);
}

// Longer spins only burn CPU: past a few round trips, whatever is awaited is not coming soon.
constexpr std::chrono::microseconds kMaxBusyPoll{10'000};

BusyPoll readBusyPoll(YamlReader& reader, const YAML::Node& node, const std::string& path) {
  const auto busy_poll = reader.parsed<BusyPoll>(node, path, "\"auto\", \"off\" or a time", parseBusyPoll);
  if (!busy_poll) return {};
  if (busy_poll->time > kMaxBusyPoll) {
    reader.error(node, path,
                 "expected \"auto\", \"off\" or at most " + formatSpinTime(kMaxBusyPoll) + ", found \"" +
                     formatSpinTime(busy_poll->time) + "\"");
    return {};
  }
  return *busy_poll;
}

// Whether two listeners would claim the same port: the same address, or a wildcard covering the other one
// (0.0.0.0 covers every IPv4 address; [::] every address, IPv4 included, as Linux binds it dual-stack). Port
// 0 asks the kernel for a free port each time: never the same.
bool sharePort(const Address& a, const Address& b) {
  if (a.port == 0 || a.port != b.port) return false;
  boost::system::error_code ec;
  const auto x = boost::asio::ip::make_address(a.host, ec);
  const auto y = boost::asio::ip::make_address(b.host, ec);
  if (ec) return false;
  const auto covers = [](const boost::asio::ip::address& wide, const boost::asio::ip::address& other) {
    return wide.is_unspecified() && (wide.is_v6() || other.is_v4());
  };
  return x == y || covers(x, y) || covers(y, x);
}

void readConfig(YamlReader& reader, const YAML::Node& root, Config& config) {
  MapReader map(reader, root, "",
                {"listen", "admin", "workers", "busy_poll", "trusted_proxies", "upstream", "limits", "log",
                 "store", "sessions", "rate_limits", "routes"});
  if (!map.isMap()) return;

  config.listen = *parseAddress(kDefaultListen, PortZero::Allowed).value;
  bool listen_valid = true;
  if (const auto* listen = map.find("listen")) {
    auto address = readAddress(reader, *listen, "listen", true);
    listen_valid = address.has_value();
    if (address) config.listen = std::move(*address);
  }
  if (const auto* admin = map.find("admin")) {
    // An empty value turns the admin listener off, so `admin: ${ADMIN:-}` lets a deployment opt in.
    const auto text = reader.string(*admin, "admin", "an address");
    if (text && !text->empty()) config.admin = readAddress(reader, *admin, "admin", true);
    if (listen_valid && config.admin && sharePort(config.listen, *config.admin)) {
      reader.error(*admin, "admin",
                   "\"" + config.admin->text + "\" takes the port of listen (\"" + config.listen.text +
                       "\"): expected an address with a port of its own, e.g. 127.0.0.1:9901");
    }
  }
  config.workers = coreCount();
  if (const auto* workers = map.find("workers")) config.workers = resolveWorkers(reader, *workers, "workers");
  if (const auto* busy_poll = map.find("busy_poll"))
    config.busy_poll = readBusyPoll(reader, *busy_poll, "busy_poll");
  if (const auto* trusted = map.find("trusted_proxies")) {
    config.trusted_proxies = readCidrList(reader, *trusted, "trusted_proxies");
  }
  // An upstream has no sensible default address: the proxy exists to front one.
  if (map.require("upstream")) readUpstream(reader, *map.find("upstream"), "upstream", config.upstream);
  if (const auto* limits = map.find("limits")) readLimits(reader, *limits, "limits", config.limits);
  if (const auto* log = map.find("log")) readLog(reader, *log, "log", config.log);
  StoreConfig& store = config.store;
  if (const auto* store_node = map.find("store")) {
    readStore(reader, *store_node, "store", store);
  } else {
    store.redis = *parseRedisUrl(store.url).value;
  }
  if (const auto* sessions = map.find("sessions"))
    readSessionPolicies(reader, *sessions, "sessions", config.sessions);
  if (const auto* rate_limits = map.find("rate_limits")) {
    readRateLimitPolicies(reader, *rate_limits, "rate_limits", config.rate_limits);
  }
  // Routes last: their filters refer to the policies above, wherever they appear in the file.
  if (const auto* routes = map.find("routes")) readRoutes(reader, *routes, "routes", config);
}

}  // namespace

std::string ConfigError::toString() const {
  return formatError("", *this);
}

std::string formatError(const std::string& source_name, const ConfigError& error) {
  std::string out = source_name;
  if (error.line > 0) {
    if (!out.empty()) out += ":";
    out += std::to_string(error.line);
    if (error.column > 0) out += ":" + std::to_string(error.column);
  }
  if (!error.key.empty()) out += (out.empty() ? "" : ": ") + error.key;
  out += (out.empty() ? "" : ": ") + error.message;
  return out;
}

std::string formatErrors(const LoadResult& result) {
  std::string out;
  for (const auto& error : result.errors) out += formatError(result.source_name, error) + "\n";
  return out;
}

Environment processEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

LoadResult loadConfigString(std::string_view yaml, const Environment& env, std::string source_name) {
  LoadResult result;
  result.source_name = std::move(source_name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    ConfigError error;
    if (!e.mark.is_null()) {
      error.line = e.mark.line + 1;
      error.column = e.mark.column + 1;
    }
    error.message = "invalid YAML: " + e.msg;
    result.errors.push_back(std::move(error));
    return result;
  }
  if (documents.empty() || documents.front().IsNull()) {
    result.errors.push_back(ConfigError{"", 0, 0, "the document is empty"});
    return result;
  }

  YamlReader reader(env, result.errors);
  if (documents.size() > 1)
    reader.error(documents[1], "", "only one YAML document is allowed (found a second)");
  auto config = std::make_shared<Config>();
  readConfig(reader, documents.front(), *config);
  if (!result.errors.empty()) {
    // Sections are read in dependency order (policies before routes); report in file order, like a compiler.
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                       return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    return result;
  }
  result.config = std::move(config);
  return result;
}

LoadResult loadConfigFile(const std::string& path, const Environment& env) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    LoadResult result;
    result.source_name = path;
    result.errors.push_back(ConfigError{"", 0, 0, "cannot open: " + std::string(std::strerror(errno))});
    return result;
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  return loadConfigString(contents.str(), env, path);
}

}  // namespace gatehouse::config
