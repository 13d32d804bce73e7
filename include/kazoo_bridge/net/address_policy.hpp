#pragma once
/// Which IP addresses a webhook may reach (SSRF defence): the classification of an address and
/// the rule "private targets only when [hooks] allow_private_targets".

#include <boost/asio/ip/address.hpp>
#include <string_view>

namespace kazoo_bridge::net {

/// The kind of an IP address, for the SSRF rule. IPv4-mapped (::ffff:a.b.c.d) and NAT64
/// (64:ff9b::a.b.c.d, RFC 6052) IPv6 addresses are classified by their embedded IPv4 address.
enum class address_class {
  global,       ///< anything else: a public unicast address
  loopback,     ///< 127.0.0.0/8, ::1
  private_net,  ///< 10/8, 172.16/12, 192.168/16 (RFC 1918), fc00::/7 (RFC 4193)
  link_local,   ///< 169.254/16, fe80::/10
  cgnat,        ///< 100.64.0.0/10 (RFC 6598, carrier-grade NAT)
  multicast,    ///< 224.0.0.0/4, ff00::/8
  unspecified,  ///< 0.0.0.0/8, ::
  metadata,     ///< cloud instance metadata: 169.254.169.254, fd00:ec2::254 (AWS IPv6)
  reserved,     ///< 240.0.0.0/4 incl. broadcast, 192.0.0.0/24, 198.18.0.0/15 (benchmarking)
};

address_class classify_address(const boost::asio::ip::address& a);

/// "loopback", "private", "link-local", ... for messages.
std::string_view to_string(address_class c);

/// True when a hook may connect to `a`. Global addresses always; loopback, private, link-local and
/// CGNAT only with allow_private (tests, on-premises CRMs); multicast, unspecified, reserved and
/// cloud metadata never (no legitimate webhook lives there, and metadata leaks credentials).
bool target_address_allowed(const boost::asio::ip::address& a, bool allow_private);

}  // namespace kazoo_bridge::net
