#include <kazoo_bridge/net/address_policy.hpp>

#include <array>
#include <cstdint>

namespace kazoo_bridge::net {
namespace {

namespace ip = boost::asio::ip;

bool in(std::uint32_t a, std::uint32_t net, int prefix) {
  const std::uint32_t mask = prefix == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

address_class classify_v4(const ip::address_v4& addr) {
  const std::uint32_t a = addr.to_uint();
  if (a == v4(169, 254, 169, 254)) return address_class::metadata;
  if (in(a, v4(0, 0, 0, 0), 8)) return address_class::unspecified;
  if (in(a, v4(127, 0, 0, 0), 8)) return address_class::loopback;
  if (in(a, v4(10, 0, 0, 0), 8) || in(a, v4(172, 16, 0, 0), 12) || in(a, v4(192, 168, 0, 0), 16)) {
    return address_class::private_net;
  }
  if (in(a, v4(169, 254, 0, 0), 16)) return address_class::link_local;
  if (in(a, v4(100, 64, 0, 0), 10)) return address_class::cgnat;
  if (in(a, v4(224, 0, 0, 0), 4)) return address_class::multicast;
  if (in(a, v4(240, 0, 0, 0), 4) || in(a, v4(192, 0, 0, 0), 24) || in(a, v4(198, 18, 0, 0), 15)) {
    return address_class::reserved;
  }
  return address_class::global;
}

}  // namespace

address_class classify_address(const ip::address& a) {
  if (a.is_v4()) return classify_v4(a.to_v4());
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return classify_v4(ip::make_address_v4(ip::v4_mapped, v6));
  const auto b = v6.to_bytes();
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1): the last 32 bits are an IPv4 address.
  static constexpr std::array<unsigned char, 12> nat64{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::equal(nat64.begin(), nat64.end(), b.begin())) {
    return classify_v4(ip::address_v4(ip::address_v4::bytes_type{b[12], b[13], b[14], b[15]}));
  }
  // AWS Nitro IPv6 metadata endpoint fd00:ec2::254.
  static const auto aws_metadata = ip::make_address_v6("fd00:ec2::254");
  if (v6 == aws_metadata) return address_class::metadata;
  if (v6.is_unspecified()) return address_class::unspecified;
  if (v6.is_loopback()) return address_class::loopback;
  if (v6.is_multicast()) return address_class::multicast;
  if ((b[0] & 0xfe) == 0xfc) return address_class::private_net;            // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return address_class::link_local;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return address_class::private_net;  // fec0::/10 (site-local)
  return address_class::global;
}

std::string_view to_string(address_class c) {
  switch (c) {
    case address_class::global: return "global";
    case address_class::loopback: return "loopback";
    case address_class::private_net: return "private";
    case address_class::link_local: return "link-local";
    case address_class::cgnat: return "carrier-grade NAT";
    case address_class::multicast: return "multicast";
    case address_class::unspecified: return "unspecified";
    case address_class::metadata: return "cloud metadata";
    case address_class::reserved: return "reserved";
  }
  return "reserved";
}

bool target_address_allowed(const ip::address& a, bool allow_private) {
  switch (classify_address(a)) {
    case address_class::global: return true;
    case address_class::loopback:
    case address_class::private_net:
    case address_class::link_local:
    case address_class::cgnat: return allow_private;
    case address_class::multicast:
    case address_class::unspecified:
    case address_class::metadata:
    case address_class::reserved: return false;
  }
  return false;
}

}  // namespace kazoo_bridge::net
