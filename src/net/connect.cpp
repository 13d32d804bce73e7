#include <kazoo_bridge/net/connect.hpp>

#include <algorithm>
#include <vector>

#include <boost/beast/core/error.hpp>

// GCC 12 false -Wmismatched-new-delete around Asio's awaitable frame allocator (GCC bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace kazoo_bridge::net {

awaitable<error_code> open_tcp(boost::beast::tcp_stream& stream, url u,
                               std::chrono::steady_clock::time_point deadline, address_filter filter) {
  std::vector<tcp::endpoint> endpoints;
  error_code parse_ec;
  auto literal = asio::ip::make_address(u.host, parse_ec);
  if (!parse_ec) {
    endpoints.emplace_back(literal, u.port);
  } else {
    tcp::resolver resolver(stream.get_executor());
    auto [ec, results] = co_await resolver.async_resolve(u.host, std::to_string(u.port), use_nothrow);
    if (ec) co_return ec;
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  if (filter.allow) {
    auto refused = [&](const tcp::endpoint& ep) { return !filter.allow(ep.address()); };
    if (filter.refuse_if_any && std::any_of(endpoints.begin(), endpoints.end(), refused)) {
      co_return make_error_code(errc::forbidden);
    }
    std::erase_if(endpoints, refused);
    if (endpoints.empty()) co_return make_error_code(errc::forbidden);
  }
  if (std::chrono::steady_clock::now() >= deadline) co_return make_error_code(errc::timeout);
  stream.expires_at(deadline);
  auto [ec, ep] = co_await stream.async_connect(endpoints, use_nothrow);
  if (ec == boost::beast::error::timeout) co_return make_error_code(errc::timeout);
  if (ec) co_return ec;
  error_code nd_ec;
  stream.socket().set_option(tcp::no_delay(true), nd_ec);
  co_return error_code{};
}

awaitable<error_code> open_tcp(boost::beast::tcp_stream& stream, url u,
                               std::chrono::steady_clock::time_point deadline) {
  address_filter none;
  co_return co_await open_tcp(stream, std::move(u), deadline, std::move(none));
}

}  // namespace kazoo_bridge::net
