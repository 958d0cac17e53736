#include <limits>

#include <boost/asio/ip/address.hpp>

#include "proxy/config/address.h"
#include "proxy/config/http_syntax.h"
#include "proxy/config/section_readers.h"
#include "proxy/config/units.h"

namespace gatehouse::config {
namespace {

constexpr std::uint64_t kMaxCount = 1'000'000'000;
constexpr std::uint64_t kMaxConnectionsPerWorker = 1'000'000;
constexpr int kMaxStoreConnections = 64;

// Says why text is not a CIDR, for the error message; Cidr::parse only says whether it is.
std::string cidrError(const std::string& text) {
  const std::string quoted = "\"" + text + "\"";
  const auto slash = text.find('/');
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(text.substr(0, slash), ec);
  if (ec) return quoted + " is not a valid CIDR (expected e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128)";
  if (address.is_v6() && address.to_v6().scope_id() != 0) {
    return quoted + " is not a valid CIDR: a scoped IPv6 address names an interface, not a network";
  }
  const std::uint64_t max = address.is_v4() ? 32 : 128;
  const auto prefix = parseUnsigned(text.substr(slash + 1));
  if (!prefix || *prefix.value > max) {
    return quoted + " is not a valid CIDR: the prefix length must be 0-" + std::to_string(max);
  }
  return quoted + " has host bits set below the /" + std::to_string(*prefix.value) +
         " prefix (write the network address, or the bare address for a single host)";
}

}  // namespace

std::optional<Address> readAddress(YamlReader& reader, const YAML::Node& node, const std::string& path,
                                   bool is_listener) {
  auto address = reader.parsed<Address>(node, path, "an address", [&](const std::string& text) {
    return parseAddress(text, is_listener ? PortZero::Allowed : PortZero::Rejected);
  });
  if (!address || !is_listener) return address;
  // A listener binds exactly what it is given, so what it cannot bind fails here (and under --check), not at
  // start: the listeners are TCP only, and a host name would need resolving to one address of several.
  constexpr std::string_view kListenerExpected =
      "expected an IP address and a port, e.g. 127.0.0.1:8080 (loopback), 0.0.0.0:8080 (every IPv4 "
      "interface) or [::]:8080";
  if (address->kind == Address::Kind::Unix) {
    reader.error(node, path,
                 "\"" + address->text + "\": Unix sockets are not supported for listeners; " +
                     std::string(kListenerExpected));
    return std::nullopt;
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(address->host, ec);
  if (ec) {
    reader.error(node, path,
                 "\"" + address->host +
                     "\" is not an IP address: a listener binds an address as written, it "
                     "does not resolve host names; " +
                     std::string(kListenerExpected));
    return std::nullopt;
  }
  return address;
}

std::vector<Cidr> readCidrList(YamlReader& reader, const YAML::Node& node, const std::string& path) {
  std::vector<Cidr> cidrs;
  reader.forEach(node, path, [&](const YAML::Node& element, const std::string& element_path) {
    auto cidr = reader.parsed<Cidr>(element, element_path, "a CIDR", [](const std::string& text) {
      auto parsed = Cidr::parse(text);
      return parsed ? ParseResult<Cidr>::ok(*parsed) : ParseResult<Cidr>::fail(cidrError(text));
    });
    if (cidr) cidrs.push_back(*cidr);
  });
  return cidrs;
}

bool checkPlainName(YamlReader& reader, const YAML::Node& at, const std::string& path,
                    const std::string& name) {
  if (isPlainName(name)) return true;
  reader.error(at, path, "invalid name \"" + name + "\": use letters, digits, '_', '-' and '.'");
  return false;
}

void readUpstream(YamlReader& reader, const YAML::Node& node, const std::string& path,
                  UpstreamConfig& upstream) {
  MapReader map(reader, node, path,
                {"address", "connect_timeout", "response_timeout", "max_idle", "idle_timeout"});
  if (map.require("address")) {
    if (auto address = readAddress(reader, *map.find("address"), map.pathOf("address"), false)) {
      upstream.address = std::move(*address);
    }
  }
  map.readDuration("connect_timeout", upstream.connect_timeout, 1ms);
  map.readDuration("response_timeout", upstream.response_timeout, 1ms);
  map.readCount("max_idle", upstream.max_idle, 0, kMaxCount);
  map.readDuration("idle_timeout", upstream.idle_timeout, 1ms);
}

void readLimits(YamlReader& reader, const YAML::Node& node, const std::string& path, LimitsConfig& limits) {
  MapReader map(reader, node, path,
                {"header_bytes", "body_bytes", "uri_bytes", "header_timeout", "idle_timeout", "drain_timeout",
                 "max_connections"});
  map.readSize("header_bytes", limits.header_bytes, 1);
  map.readSize("body_bytes", limits.body_bytes, 0);
  map.readSize("uri_bytes", limits.uri_bytes, 1);
  map.readDuration("header_timeout", limits.header_timeout, 1ms);
  map.readDuration("idle_timeout", limits.idle_timeout, 1ms);
  map.readDuration("drain_timeout", limits.drain_timeout);
  map.readCount("max_connections", limits.max_connections, 1, kMaxConnectionsPerWorker);
}

void readLog(YamlReader& reader, const YAML::Node& node, const std::string& path, LogConfig& log) {
  MapReader map(reader, node, path, {"level", "access"});
  static const Choices<std::string> kLevels{{"trace", "trace"}, {"debug", "debug"}, {"info", "info"},
                                            {"warn", "warn"},   {"error", "error"}, {"critical", "critical"},
                                            {"off", "off"}};
  map.readChoice("level", log.level, kLevels);
  map.readChoice("access", log.access,
                 Choices<LogConfig::Access>{{"json", LogConfig::Access::Json},
                                            {"text", LogConfig::Access::Text},
                                            {"off", LogConfig::Access::Off}});
}

void readStore(YamlReader& reader, const YAML::Node& node, const std::string& path, StoreConfig& store) {
  MapReader map(reader, node, path, {"type", "url", "timeout", "connections", "tls", "memory_max_keys"});
  map.readChoice(
      "type", store.type,
      Choices<StoreConfig::Type>{{"redis", StoreConfig::Type::Redis}, {"memory", StoreConfig::Type::Memory}});
  // The URL is checked even for the memory store: a typo should not wait for the day someone switches type.
  if (const auto* url_node = map.find("url")) {
    auto text = reader.string(*url_node, map.pathOf("url"), "a Redis URL");
    if (text) {
      auto url = parseRedisUrl(*text);
      if (url) {
        store.url = std::move(*text);
        store.redis = std::move(*url.value);
      } else {
        reader.error(*url_node, map.pathOf("url"), std::move(url.error));
      }
    }
  } else if (auto url = parseRedisUrl(store.url)) {
    store.redis = std::move(*url.value);
  }
  map.readDuration("timeout", store.timeout, 1ms);
  map.readCount("connections", store.connections, 1, kMaxStoreConnections);
  if (const auto* tls_node = map.find("tls")) {
    MapReader tls(reader, *tls_node, map.pathOf("tls"), {"ca_file", "cert_file", "key_file", "verify"});
    tls.read("ca_file", store.tls.ca_file);
    tls.read("cert_file", store.tls.cert_file);
    tls.read("key_file", store.tls.key_file);
    tls.read("verify", store.tls.verify);
    if (store.tls.cert_file.empty() != store.tls.key_file.empty()) {
      reader.error(*tls_node, map.pathOf("tls"), "cert_file and key_file go together: set both or neither");
    }
  }
  map.readCount("memory_max_keys", store.memory_max_keys, 1, std::numeric_limits<std::uint32_t>::max());
}

}  // namespace gatehouse::config
