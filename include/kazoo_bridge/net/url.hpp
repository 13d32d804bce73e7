#pragma once
/// URL parsing for the schemes we speak (http, https, ws, wss) and the query-string helpers.
/// Pure: no I/O, no Asio.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::net {

/// An absolute URL split into what a client needs to connect and send a request line.
struct url {
  std::string scheme;       ///< lower case: "http", "https", "ws" or "wss"
  std::string host;         ///< lower case; an IPv6 literal WITHOUT brackets ("::1")
  std::uint16_t port = 0;   ///< explicit port or the scheme's default (80/443)
  std::string target;       ///< path + query, never empty ("/" at least), no fragment

  /// True for https and wss.
  bool tls() const;
  /// True when `host` is an IPv4 or IPv6 literal (no SNI then, RFC 6066 §3).
  bool host_is_ip() const;
  /// The Host header value (RFC 9110 §7.2): host, IPv6 in brackets, ":port" only if not default.
  std::string authority() const;
  /// scheme://authority/target
  std::string to_string() const;
};

/// Parses an absolute http/https/ws/wss URL. Default ports 80/443; empty target becomes "/";
/// "[::1]" IPv6 literals. Rejects userinfo ("user:pass@"), ports outside 1..65535, other
/// schemes, empty hosts and any whitespace/control character (they would end up in a request
/// line). The fragment is dropped (never sent, RFC 9110 §4.2.1).
/// Errors: boost::system::errc::invalid_argument.
result<url> parse_url(std::string_view text);

/// Percent-encodes everything except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~),
/// upper-case hex. Safe for both query components and application/x-www-form-urlencoded.
std::string url_encode(std::string_view text);

/// Decodes %XX and '+' (as space, form encoding). Malformed escapes are kept literally.
std::string url_decode(std::string_view text);

/// Parses "a=1&b=x%20y" (a leading '?' is skipped) into key/value pairs in order, decoded.
/// A key without '=' gets an empty value; empty segments are skipped.
std::vector<std::pair<std::string, std::string>> parse_query_list(std::string_view query);

/// Same as parse_query_list, as a map; when a key repeats, the FIRST value wins (callers that
/// must reject repeated parameters, e.g. OAuth (RFC 6749 §3.1), use parse_query_list).
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace kazoo_bridge::net
