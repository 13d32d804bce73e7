#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <optional>

#include <kazoo_bridge/net/connect.hpp>
#include <kazoo_bridge/net/http_client.hpp>
#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/net/url.hpp>

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's awaitable frame
// allocator (aligned_alloc) next to its operator delete (GCC bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace kazoo_bridge::net {
namespace {

namespace ssl = asio::ssl;
using clock = std::chrono::steady_clock;

error_code translate(const error_code& ec) {
  if (ec == beast::error::timeout) return make_error_code(errc::timeout);
  if (ec == http::error::body_limit) return make_error_code(errc::too_large);
  return ec;
}

request build_request(const client_request& r, const url& u, const client_options& o) {
  request req{r.method, u.target, 11};
  // RFC 9110 §7.2: Host carries the authority, port only when not the default.
  req.set(http::field::host, u.authority());
  req.set(http::field::user_agent, o.user_agent);
  for (const auto& [name, value] : r.headers) req.insert(name, value);
  if (!r.content_type.empty()) req.set(http::field::content_type, r.content_type);
  // One request per connection for now (no pool yet): say so, so the server closes promptly.
  req.keep_alive(false);
  req.body() = r.body;
  req.prepare_payload();
  return req;
}

// `stream` by reference: always awaited directly by send(), which owns it.
template <class Stream>
awaitable<result<response>> exchange(Stream& stream, request req, clock::time_point deadline,
                                     std::size_t max_body) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
  if (wec) co_return translate(wec);

  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  for (;;) {
    parser.emplace();
    parser->body_limit(max_body);
    parser->header_limit(64 * 1024);
    // RFC 9110 §9.3.2: a response to HEAD never has a body, whatever Content-Length says.
    if (req.method() == http::verb::head) parser->skip(true);
    auto [rec, rn] = co_await http::async_read(stream, buffer, *parser, use_nothrow);
    if (rec) co_return translate(rec);
    // 1xx interim responses (RFC 9110 §15.2) are skipped; the final one follows.
    auto status = parser->get().result_int();
    if (status >= 200 || status < 100) break;
  }
  co_return parser->release();
}

}  // namespace

http_client::http_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls,
                         client_options o)
    : ex_(std::move(ex)), tls_(std::move(tls)), opts_(std::move(o)) {}

awaitable<result<response>> http_client::send(client_request r) {
  const auto start = clock::now();
  const auto deadline = start + opts_.total_timeout;
  const auto connect_deadline = std::min(deadline, start + opts_.connect_timeout);

  auto u = parse_url(r.url);
  if (!u) co_return u.error();
  if (u->scheme != "http" && u->scheme != "https") {
    co_return make_error_code(boost::system::errc::invalid_argument);
  }
  if (u->tls() && !tls_) co_return make_error_code(boost::system::errc::invalid_argument);
  auto req = build_request(r, *u, opts_);

  beast::tcp_stream tcp_stream(ex_);
  address_filter filter{opts_.allow_address, false};
  if (auto cec = co_await open_tcp(tcp_stream, *u, connect_deadline, std::move(filter))) {
    co_return cec;
  }

  if (!u->tls()) co_return co_await exchange(tcp_stream, std::move(req), deadline, opts_.max_body);

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls_);
  if (auto prepared = prepare_client_tls(stream.native_handle(), u->host); !prepared) {
    co_return prepared.error();
  }
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_nothrow);
  if (hec) co_return translate(hec);
  // No TLS shutdown afterwards: Connection: close and a complete, length-delimited response
  // make close_notify pointless here (and a truncation cannot be mistaken for the end).
  co_return co_await exchange(stream, std::move(req), deadline, opts_.max_body);
}

}  // namespace kazoo_bridge::net
