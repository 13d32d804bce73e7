#include <kazoo_bridge/sinks/hook_client.hpp>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <array>
#include <charconv>

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
/// response belong to the next) and the buffer its request heads are written into (kept, so a
/// request on a reused connection allocates nothing for its head).
struct hook_client::connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::string head;
  clock::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

struct hook_client::origin_pool {
  std::vector<std::unique_ptr<connection>> idle;
};

/// A target URL, parsed once, with the part of the request head that never changes for it.
struct hook_client::target {
  net::url u;
  std::string head_start;  ///< request line, Host, User-Agent, Content-Type
  std::shared_ptr<origin_pool> pool;
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

// RFC 9110 §5.5: a field value never holds CR, LF or NUL (a CR LF would end the header line and
// let the rest of the value inject headers or a second request); other control characters but
// HTAB are not field-vchars either.
bool header_value_ok(std::string_view v) {
  // No early exit: the values are short and valid, and a plain OR-reduction vectorises.
  bool bad = false;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    bad |= (u < 0x20 && u != '\t') || u == 0x7f;
  }
  return !bad;
}

template <class Integer>
void append_number(std::string& out, Integer n) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
  out.append(digits.data(), static_cast<std::size_t>(end - digits.data()));
}

// The rest of the head, per attempt (RFC 9112 §3, §6.3). No "Connection: keep-alive": persistence
// is HTTP/1.1's default (RFC 9112 §9.3). The Standard Webhooks headers (spec "Webhook headers").
void write_head(std::string& out, const std::string& head_start, const hook_request& r, std::size_t length) {
  out.clear();
  out.append(head_start).append("Content-Length: ");
  append_number(out, length);
  out.append("\r\nwebhook-id: ").append(r.webhook_id).append("\r\nwebhook-timestamp: ");
  append_number(out, r.timestamp_s);
  out.append("\r\nwebhook-signature: ").append(r.signature).append("\r\n\r\n");
}

// Beast's response parser (status line, fields, Content-Length, chunked, 1xx, keep-alive rules)
// without the message it would build: only the status, Retry-After and the first `cap` body bytes
// are kept, so a response costs no allocation per header field.
class capped_response_parser final : public http::basic_parser<false> {
 public:
  explicit capped_response_parser(std::size_t cap) : cap_(cap) {
    body_limit(boost::none);  // our own cap below cuts the read instead
    header_limit(16 * 1024);
  }

  int status = 0;
  std::optional<std::string> retry_after;
  std::string snippet;

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, error_code& ec) override {
    ec = http::error::bad_method;  // never called: this is a response parser
  }
  void on_response_impl(int code, beast::string_view, int, error_code&) override { status = code; }
  void on_field_impl(http::field name, beast::string_view, beast::string_view value, error_code&) override {
    if (name == http::field::retry_after) retry_after.emplace(value.data(), value.size());
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code& ec) override { return keep(body, ec); }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override {
    return keep(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  // Past the cap the read stops with body_limit: the rest of a larger (or endless) body is never
  // read, so the connection cannot be reused and is closed instead of drained.
  std::size_t keep(beast::string_view body, error_code& ec) {
    const std::size_t room = cap_ - snippet.size();
    snippet.append(body.data(), std::min(room, body.size()));
    if (body.size() > room) ec = http::error::body_limit;
    return body.size();
  }

  std::size_t cap_;
};

// One request/response on an open stream: the head and the shared body go out in one gathered
// write (one sendmsg on plain TCP). By reference: always awaited directly by post(), whose frame
// owns the connection and the request.
template <class Stream>
awaitable<exchange_result> exchange(Stream& stream, beast::flat_buffer& buffer,
                                    std::array<asio::const_buffer, 2> request, clock::time_point deadline,
                                    std::size_t cap) {
  exchange_result out;
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [wec, wn] = co_await asio::async_write(stream, request, use_nothrow);
  if (wec) {
    out.ec = wec;
    co_return out;
  }
  // One read per response: a 1xx interim response (RFC 9110 §15.2) is a complete message of its
  // own to the parser (no body, RFC 9112 §6.3), so reading "a message" stops after it and the loop
  // reads the final one with a fresh parser.
  std::optional<capped_response_parser> parser;
  error_code rec;
  do {
    parser.emplace(cap);
    auto [ec, n] = co_await http::async_read(stream, buffer, *parser, use_nothrow);
    rec = ec;
  } while (!rec && parser->status < 200);
  if (!parser->is_header_done() || parser->status < 200) {
    out.ec = rec;
    co_return out;
  }
  out.header_seen = true;
  out.status = parser->status;
  // Over the cap, or the body cut short (rec set): the status arrived, so it still tells the
  // outcome, but the connection is not reused.
  out.reusable = !rec && parser->is_done() && parser->keep_alive();
  out.snippet = std::move(parser->snippet);
  out.retry_after = std::move(parser->retry_after);
  co_return out;
}

awaitable<exchange_result> exchange_on(hook_client::connection& c, std::array<asio::const_buffer, 2> request,
                                       clock::time_point deadline, std::size_t cap) {
  if (c.tls) co_return co_await exchange(*c.tls, c.buffer, request, deadline, cap);
  co_return co_await exchange(*c.plain, c.buffer, request, deadline, cap);
}

}  // namespace

hook_client::hook_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls,
                         hook_client_options o)
    : ex_(std::move(ex)), tls_(std::move(tls)), opts_(std::move(o)) {
  if (opts_.user_agent.empty()) opts_.user_agent = std::string("kazoo-bridge/") + KAZOO_BRIDGE_VERSION;
}

hook_client::~hook_client() = default;

std::shared_ptr<const hook_client::target> hook_client::find_target(const std::string& url) {
  if (auto it = targets_.find(url); it != targets_.end()) return it->second;
  auto u = net::parse_url(url);
  // parse_url refuses whitespace and control characters anywhere in the URL, so the target and
  // the host are safe in a request line and a Host header; checked again to keep it so.
  if (!u || (u->scheme != "http" && u->scheme != "https") || (u->tls() && !tls_) ||
      !header_value_ok(u->target) || !header_value_ok(u->host)) {
    return nullptr;
  }
  if (targets_.size() >= std::max<std::size_t>(opts_.max_cached_targets, 1)) {
    // Full: start over rather than track recency. Pools without idle connections or users go too.
    targets_.clear();
    std::erase_if(pools_, [](const auto& kv) { return kv.second->idle.empty() && kv.second.use_count() == 1; });
  }
  auto t = std::make_shared<target>();
  auto& pool = pools_[u->scheme + "://" + u->host + ":" + std::to_string(u->port)];
  if (!pool) pool = std::make_shared<origin_pool>();
  t->pool = pool;
  // RFC 9112 §3: request-line; RFC 9110 §7.2: Host.
  t->head_start.append("POST ").append(u->target).append(" HTTP/1.1\r\nHost: ").append(u->authority());
  t->head_start.append("\r\nUser-Agent: ").append(opts_.user_agent);
  t->head_start.append("\r\nContent-Type: application/json\r\n");
  t->u = std::move(*u);
  std::shared_ptr<const target> out = std::move(t);
  targets_.emplace(url, out);
  return out;
}

std::unique_ptr<hook_client::connection> hook_client::take_idle(origin_pool& pool) {
  auto& list = pool.idle;
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

void hook_client::give_back(origin_pool& pool, std::unique_ptr<connection> c) {
  auto& list = pool.idle;
  if (list.size() >= opts_.max_idle_per_origin) return;
  c->idle_since = clock::now();
  c->lowest().expires_never();
  list.push_back(std::move(c));
}

std::size_t hook_client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [origin, pool] : pools_) n += pool->idle.size();
  return n;
}

void hook_client::close_idle() {
  for (auto& [origin, pool] : pools_) pool->idle.clear();
  // A post() in flight keeps its own target and pool: a connection it gives back afterwards is
  // closed with them when it finishes.
  targets_.clear();
  pools_.clear();
}

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

  const auto t = find_target(r.url);
  if (!t) {
    auto res = finish(make_error_code(boost::system::errc::invalid_argument));
    res.error_text = "invalid target URL";
    co_return res;
  }
  if (!header_value_ok(r.webhook_id) || !header_value_ok(r.signature) || !header_value_ok(opts_.user_agent)) {
    auto res = finish(make_error_code(boost::system::errc::invalid_argument));
    res.error_text = "invalid header value";
    co_return res;
  }
  // The shared payload is sent from where it is (hook_request::body), never copied.
  const asio::const_buffer body = r.body ? asio::buffer(*r.body) : asio::const_buffer{};

  for (int round = 0; round < 2; ++round) {
    auto conn = take_idle(*t->pool);
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
      if (auto ec = co_await net::open_tcp(*conn->plain, t->u, connect_deadline, std::move(filter))) {
        co_return finish(ec);
      }
      if (t->u.tls()) {
        conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*conn->plain), *tls_);
        conn->plain.reset();
        if (auto prepared = net::prepare_client_tls(conn->tls->native_handle(), t->u.host); !prepared) {
          co_return finish(prepared.error());
        }
        beast::get_lowest_layer(*conn->tls).expires_at(connect_deadline);
        auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, use_nothrow);
        if (hec == beast::error::timeout) co_return finish(make_error_code(errc::timeout));
        if (hec) co_return finish(hec);
      }
    }
    write_head(conn->head, t->head_start, r, body.size());
    const std::array<asio::const_buffer, 2> request{asio::buffer(conn->head), body};
    auto x = co_await exchange_on(*conn, request, deadline, opts_.max_response_bytes);
    if (x.ec == beast::error::timeout) co_return finish(make_error_code(errc::timeout));
    if (x.ec && out.reused_connection && !x.header_seen && round == 0 && clock::now() < deadline) {
      continue;  // the peer had closed the idle connection: once more on a fresh one
    }
    if (x.ec && !x.header_seen) co_return finish(x.ec);
    out.status = x.status;
    out.snippet = std::move(x.snippet);
    out.retry_after = std::move(x.retry_after);
    if (x.reusable) give_back(*t->pool, std::move(conn));
    out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
    co_return out;
  }
  co_return finish(make_error_code(errc::unavailable));
}

}  // namespace kazoo_bridge::sinks
