// An IPv4 or IPv6 network in CIDR notation ("10.0.0.0/8", "::1/128", or a bare address meaning /32 or /128).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

namespace gatehouse::config {

class Cidr {
 public:
  // Returns nullopt when text is not a valid network; host bits set below the prefix are an error too,
  // because "10.0.0.1/8" is almost always a typo for a single address.
  static std::optional<Cidr> parse(std::string_view text);

  // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 networks.
  bool contains(const boost::asio::ip::address& address) const;

  std::string toString() const;

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};
  int prefix_ = 0;
};

}  // namespace gatehouse::config
