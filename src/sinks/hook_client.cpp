#include <kazoo_bridge/sinks/hook_client.hpp>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <array>

#include <kazoo_bridge/net/address_policy.hpp>
#include <kazoo_bridge/net/connect.hpp>
#include <kazoo_bridge/net/http.hpp>
#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/net/url.hpp>

// GCC 12 false -Wmismatched-new-delete around Asio's awaitable frame allocator (GCC bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#ifndef KAZOO_BRIDGE_VERSION
#define KAZOO_BRIDGE_VERSION "0.0.0"
#endif

namespace kazoo_bridge::sinks {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using clock = std::chrono::steady_clock;

/// A pooled connection: plain TCP or TLS over TCP, with its read buffer (bytes read past one
/// response belong to the next).
struct hook_client::connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  clock::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

namespace {

struct exchange_result {
  error_code ec;
  bool header_seen = false, reusable = false;
  int status = 0;
  std::string snippet;
  std::optional<std::string> retry_after;
};

std::string describe(const error_code& ec) {
  if (ec == errc::timeout) return "timeout";
  if (ec == errc::forbidden) return "target address not allowed (private, loopback, metadata...)";
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) return "host not found";
  if (ec == asio::error::connection_reset || ec == http::error::end_of_stream || ec == asio::error::eof) {
    return "connection closed by the peer";
  }
  if (ec.category() == asio::error::get_ssl_category() || ec == ssl::error::stream_truncated) {
    return "TLS: " + ec.message();
  }
  return ec.message();
}

// The body is a view of the shared payload (hook_request::body), which outlives the exchange.
using post_request = http::request<http::span_body<const char>>;

post_request build(const hook_request& r, const net::url& u, const std::string& agent) {
  post_request req{http::verb::post, u.target, 11};
  req.set(http::field::host, u.authority());
  req.set(http::field::user_agent, agent);
  req.set(http::field::content_type, "application/json");
  // Standard Webhooks headers (spec "Webhook headers").
  req.set("webhook-id", r.webhook_id);
  req.set("webhook-timestamp", std::to_string(r.timestamp_s));
  req.set("webhook-signature", r.signature);
  req.keep_alive(true);
  if (r.body) req.body() = {r.body->data(), r.body->size()};
  req.prepare_payload();
  return req;
}

// One request/response on an open stream. Reads the body only up to `cap` bytes: a larger body
// (or an endless one) leaves the connection unusable, so it is closed instead of drained.
template <class Stream>
awaitable<exchange_result> exchange(Stream& stream, beast::flat_buffer& buffer, const post_request& req,
                                    clock::time_point deadline, std::size_t cap) {
  exchange_result out;
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
  if (wec) {
    out.ec = wec;
    co_return out;
  }
  std::optional<http::response_parser<http::buffer_body>> parser;
  for (;;) {
    parser.emplace();
    parser->body_limit(boost::none);
    parser->header_limit(16 * 1024);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, *parser, use_nothrow);
    if (hec) {
      out.ec = hec;
      co_return out;
    }
    // 1xx interim responses (RFC 9110 §15.2) are skipped; the final one follows.
    const int status = static_cast<int>(parser->get().result_int());
    if (status >= 200) break;
  }
  out.header_seen = true;
  out.status = static_cast<int>(parser->get().result_int());
  if (auto it = parser->get().find(http::field::retry_after); it != parser->get().end()) {
    out.retry_after = std::string(it->value());
  }
  std::array<char, 2048> chunk{};
  bool cut = false;
  while (!parser->is_done()) {
    if (out.snippet.size() >= cap) {
      cut = true;
      break;
    }
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    auto [rec, rn] = co_await http::async_read(stream, buffer, *parser, use_nothrow);
    if (rec == http::error::need_buffer) rec = {};
    const std::size_t got = chunk.size() - parser->get().body().size;
    out.snippet.append(chunk.data(), std::min(got, cap - out.snippet.size()));
    if (rec) {
      // The status arrived: a body cut short still tells us the outcome.
      out.ec = {};
      cut = true;
      break;
    }
  }
  out.reusable = !cut && parser->is_done() && parser->get().keep_alive();
  co_return out;
}

awaitable<exchange_result> exchange_on(hook_client::connection& c, const post_request& req,
                                       clock::time_point deadline, std::size_t cap) {
  if (c.tls) co_return co_await exchange(*c.tls, c.buffer, req, deadline, cap);
  co_return co_await exchange(*c.plain, c.buffer, req, deadline, cap);
}

}  // namespace

hook_client::hook_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls,
                         hook_client_options o)
    : ex_(std::move(ex)), tls_(std::move(tls)), opts_(std::move(o)) {
  if (opts_.user_agent.empty()) opts_.user_agent = std::string("kazoo-bridge/") + KAZOO_BRIDGE_VERSION;
}

hook_client::~hook_client() = default;

std::unique_ptr<hook_client::connection> hook_client::take_idle(const std::string& origin) {
  auto it = idle_.find(origin);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const auto now = clock::now();
  while (!list.empty()) {
    auto c = std::move(list.back());
    list.pop_back();
    // Servers close idle keep-alive connections after a few seconds (nginx 75 s, Node 5 s);
    // an old one is more likely closed than not.
    if (now - c->idle_since < opts_.idle_timeout) return c;
  }
  return nullptr;
}

void hook_client::give_back(const std::string& origin, std::unique_ptr<connection> c) {
  auto& list = idle_[origin];
  if (list.size() >= opts_.max_idle_per_origin) return;
  c->idle_since = clock::now();
  c->lowest().expires_never();
  list.push_back(std::move(c));
}

std::size_t hook_client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [origin, list] : idle_) n += list.size();
  return n;
}

void hook_client::close_idle() { idle_.clear(); }

awaitable<hook_response> hook_client::post(hook_request r) {
  const auto start = clock::now();
  const auto deadline = start + opts_.total_timeout;
  hook_response out;
  auto finish = [&](error_code ec) {
    out.error = ec;
    out.error_text = describe(ec);
    out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
    return out;
  };

  auto u = net::parse_url(r.url);
  if (!u || (u->scheme != "http" && u->scheme != "https") || (u->tls() && !tls_)) {
    auto res = finish(make_error_code(boost::system::errc::invalid_argument));
    res.error_text = "invalid target URL";
    co_return res;
  }
  const auto origin = u->scheme + "://" + u->host + ":" + std::to_string(u->port);
  const auto req = build(r, *u, opts_.user_agent);

  for (int round = 0; round < 2; ++round) {
    auto conn = take_idle(origin);
    out.reused_connection = conn != nullptr;
    if (!conn) {
      conn = std::make_unique<connection>();
      conn->plain = std::make_unique<beast::tcp_stream>(ex_);
      const auto connect_deadline = std::min(deadline, clock::now() + opts_.connect_timeout);
      // The SSRF rule again, after DNS: a name that resolved to any forbidden address is refused.
      net::address_filter filter{[allow = opts_.allow_private_targets](const asio::ip::address& a) {
                                   return net::target_address_allowed(a, allow);
                                 },
                                 true};
      if (auto ec = co_await net::open_tcp(*conn->plain, *u, connect_deadline, std::move(filter))) {
        co_return finish(ec);
      }
      if (u->tls()) {
        conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*conn->plain), *tls_);
        conn->plain.reset();
        if (auto prepared = net::prepare_client_tls(conn->tls->native_handle(), u->host); !prepared) {
          co_return finish(prepared.error());
        }
        beast::get_lowest_layer(*conn->tls).expires_at(connect_deadline);
        auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, use_nothrow);
        if (hec == beast::error::timeout) co_return finish(make_error_code(errc::timeout));
        if (hec) co_return finish(hec);
      }
    }
    auto x = co_await exchange_on(*conn, req, deadline, opts_.max_response_bytes);
    if (x.ec == beast::error::timeout) co_return finish(make_error_code(errc::timeout));
    if (x.ec && out.reused_connection && !x.header_seen && round == 0 && clock::now() < deadline) {
      continue;  // the peer had closed the idle connection: once more on a fresh one
    }
    if (x.ec && !x.header_seen) co_return finish(x.ec);
    out.status = x.status;
    out.snippet = std::move(x.snippet);
    out.retry_after = std::move(x.retry_after);
    if (x.reusable) give_back(origin, std::move(conn));
    out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
    co_return out;
  }
  co_return finish(make_error_code(errc::unavailable));
}

}  // namespace kazoo_bridge::sinks
