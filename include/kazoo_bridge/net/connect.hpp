#pragma once
/// The one resolve + TCP connect step of every outbound client (http_client, hook_client,
/// ws_client), with the SSRF address filter applied AFTER DNS resolution.

#include <chrono>
#include <functional>

#include <boost/beast/core/tcp_stream.hpp>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::net {

/// Which resolved addresses a connection may use.
struct address_filter {
  std::function<bool(const asio::ip::address&)> allow;  ///< empty: every address is allowed
  /// true: refuse the connection when ANY resolved address is refused (webhooks: a name that
  /// resolves to a public and a private address is refused as a whole, so no fallback lands on
  /// the private one); false: skip refused addresses and fail only when none is left.
  bool refuse_if_any = false;
};

/// Resolves `u.host` (an IP literal is used as is, without DNS), applies `filter`, connects
/// `stream` before `deadline` and sets TCP_NODELAY (requests are written whole, no Nagle wait).
/// `stream` by reference: the caller owns it and awaits this call directly.
/// Cancellation: getaddrinfo cannot be cancelled (bounded by the system resolver's timeout); the
/// connect obeys the deadline. Errors: resolver errors, errc::forbidden (the filter refused),
/// errc::timeout (deadline), the connect error (e.g. connection_refused).
/// Pass `filter` as a named variable, never a braced temporary inside the co_await expression:
/// GCC 12 may destroy such a temporary twice (the bug noted at offload() in common/asio.hpp).
awaitable<error_code> open_tcp(boost::beast::tcp_stream& stream, url u,
                               std::chrono::steady_clock::time_point deadline, address_filter filter);
/// The same without an address filter (configured peers such as Kazoo).
awaitable<error_code> open_tcp(boost::beast::tcp_stream& stream, url u,
                               std::chrono::steady_clock::time_point deadline);

}  // namespace kazoo_bridge::net
