#include "proxy/config/cidr.h"

#include <algorithm>
#include <charconv>

namespace gatehouse::config {
namespace {

constexpr int kV4Bits = 32;
constexpr int kV6Bits = 128;

// True when the first `prefix` bits of a and b are equal.
bool samePrefix(const std::uint8_t* a, const std::uint8_t* b, int prefix) {
  const int whole_bytes = prefix / 8;
  for (int i = 0; i < whole_bytes; ++i) {
    if (a[i] != b[i]) return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - rest));
  return (a[whole_bytes] & mask) == (b[whole_bytes] & mask);
}

// True when any bit at or past `prefix` is set in the first `total_bits` bits of bytes.
bool hasHostBits(const std::uint8_t* bytes, int prefix, int total_bits) {
  for (int bit = prefix; bit < total_bits; ++bit) {
    if ((bytes[bit / 8] >> (7 - bit % 8)) & 1u) return true;
  }
  return false;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  const std::string address_text(text.substr(0, slash));
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(address_text, ec);
  if (ec) return std::nullopt;

  Cidr cidr;
  cidr.v6_ = address.is_v6();
  if (cidr.v6_) {
    const auto v6 = address.to_v6();
    if (v6.scope_id() != 0) return std::nullopt;  // "fe80::1%eth0" names an interface, not a network
    const auto bytes = v6.to_bytes();
    std::copy(bytes.begin(), bytes.end(), cidr.bytes_.begin());
  } else {
    const auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), cidr.bytes_.begin());
  }

  const int max_prefix = cidr.v6_ ? kV6Bits : kV4Bits;
  cidr.prefix_ = max_prefix;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    int prefix = -1;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    if (prefix < 0 || prefix > max_prefix) return std::nullopt;
    cidr.prefix_ = prefix;
  }
  if (hasHostBits(cidr.bytes_.data(), cidr.prefix_, max_prefix)) return std::nullopt;
  return cidr;
}

bool Cidr::contains(const boost::asio::ip::address& address) const {
  if (!v6_) {
    std::array<std::uint8_t, 4> v4{};
    if (address.is_v4()) {
      v4 = address.to_v4().to_bytes();
    } else if (address.to_v6().is_v4_mapped()) {
      v4 = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_bytes();
    } else {
      return false;
    }
    return samePrefix(bytes_.data(), v4.data(), prefix_);
  }
  // A v6 network written as ::ffff:a.b.c.d/n matches plain IPv4 peers too, for symmetry with the v4 case.
  const auto v6 = address.is_v6()
                      ? address.to_v6()
                      : boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4());
  const auto bytes = v6.to_bytes();
  return samePrefix(bytes_.data(), bytes.data(), prefix_);
}

std::string Cidr::toString() const {
  std::string address;
  if (v6_) {
    boost::asio::ip::address_v6::bytes_type bytes{};
    std::copy(bytes_.begin(), bytes_.end(), bytes.begin());
    address = boost::asio::ip::address_v6(bytes).to_string();
  } else {
    address = boost::asio::ip::address_v4({bytes_[0], bytes_[1], bytes_[2], bytes_[3]}).to_string();
  }
  return address + "/" + std::to_string(prefix_);
}

}  // namespace gatehouse::config
