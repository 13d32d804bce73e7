#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <spdlog/sinks/null_sink.h>

#include <kazoo_bridge/net/connect.hpp>
#include <kazoo_bridge/net/http.hpp>
#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/net/ws_client.hpp>

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio's awaitable frame
// allocator (aligned_alloc) next to its operator delete (GCC bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace kazoo_bridge::net {
namespace {

namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using clock = std::chrono::steady_clock;

// The WebSocket stream, plain or TLS, behind one interface so the client logic is written once.
class ws_transport {
 public:
  virtual ~ws_transport() = default;
  // `buffer` by reference: always awaited directly by read(), whose state owns the buffer.
  virtual awaitable<error_code> read(beast::flat_buffer& buffer) = 0;
  virtual bool got_binary() const = 0;
  virtual awaitable<error_code> write_text(std::string text) = 0;
  virtual awaitable<error_code> ping() = 0;
  virtual void close_socket() = 0;
};

template <class NextLayer>
class ws_transport_impl final : public ws_transport {
 public:
  explicit ws_transport_impl(NextLayer next) : ws(std::move(next)) {}

  awaitable<error_code> read(beast::flat_buffer& buffer) override {
    auto [ec, n] = co_await ws.async_read(buffer, use_nothrow);
    co_return ec;
  }
  bool got_binary() const override { return ws.got_binary(); }
  awaitable<error_code> write_text(std::string text) override {
    ws.text(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), use_nothrow);
    co_return ec;
  }
  awaitable<error_code> ping() override {
    auto [ec] = co_await ws.async_ping({}, use_nothrow);
    co_return ec;
  }
  void close_socket() override { beast::get_lowest_layer(ws).close(); }

  websocket::stream<NextLayer> ws;
};

error_code translate(const error_code& ec) {
  if (ec == beast::error::timeout) return make_error_code(errc::timeout);
  if (ec == websocket::error::message_too_big) return make_error_code(errc::too_large);
  return ec;
}

}  // namespace

struct ws_client::state {
  explicit state(asio::any_io_executor e, ws_options o)
      : ex(e), opts(std::move(o)), writer_wake(e), keepalive_timer(e) {}

  struct write_slot {
    explicit write_slot(asio::any_io_executor e) : done(e) {}
    asio::steady_timer done;
    error_code ec;
    bool finished = false;
  };
  struct pending {
    std::string text;
    bool ping = false;
    std::shared_ptr<write_slot> slot;  // null for pings
  };

  // Ends the connection: whatever is pending fails with `why`.
  void shut(error_code why) {
    if (end_reason) return;  // the first reason wins
    open = false;
    end_reason = why;
    if (transport) transport->close_socket();
    writer_wake.cancel();
    keepalive_timer.cancel();
  }

  asio::any_io_executor ex;
  ws_options opts;
  std::unique_ptr<ws_transport> transport;
  beast::flat_buffer rx;
  std::deque<pending> queue;
  asio::steady_timer writer_wake;
  asio::steady_timer keepalive_timer;
  clock::time_point last_rx{};
  bool open = false;
  error_code end_reason;  // why the connection ended (closed by us, timeout, peer error)
};

namespace {

using state_ptr = std::shared_ptr<ws_client::state>;

// The single writer (B.3 rule 7): text frames and pings, in queue order.
awaitable<void> write_loop(state_ptr s) {
  while (s->open) {
    if (s->queue.empty()) {
      s->writer_wake.expires_at(clock::time_point::max());
      co_await s->writer_wake.async_wait(use_nothrow);
      continue;
    }
    auto item = std::move(s->queue.front());
    s->queue.pop_front();
    error_code ec = item.ping ? co_await s->transport->ping()
                              : co_await s->transport->write_text(std::move(item.text));
    if (ec && s->open) s->shut(ec);
    if (item.slot) {
      item.slot->ec = ec && s->end_reason ? s->end_reason : ec;
      item.slot->finished = true;
      item.slot->done.cancel();
    }
  }
  for (auto& item : s->queue) {
    if (!item.slot) continue;
    item.slot->ec = s->end_reason ? s->end_reason : make_error_code(errc::closed);
    item.slot->finished = true;
    item.slot->done.cancel();
  }
  s->queue.clear();
}

// Pings every ping_interval whatever arrives (kazoo.md §1.7: the server's idle timer may count
// only client frames), and declares the connection dead after idle_timeout without any frame
// or pong (Beast's own idle timeout would fire idle_timeout after the handshake regardless of
// traffic when keep-alive pings are off, and pings only when nothing arrives when on).
awaitable<void> keepalive_loop(state_ptr s) {
  auto next_ping = clock::now() + s->opts.ping_interval;
  while (s->open) {
    auto dead_at = s->last_rx + s->opts.idle_timeout;
    s->keepalive_timer.expires_at(std::min(next_ping, dead_at));
    co_await s->keepalive_timer.async_wait(use_nothrow);
    if (!s->open) break;
    auto now = clock::now();
    if (now >= s->last_rx + s->opts.idle_timeout) {
      s->shut(make_error_code(errc::timeout));
      break;
    }
    if (now >= next_ping) {
      s->queue.push_back(ws_client::state::pending{{}, true, nullptr});
      s->writer_wake.cancel();
      next_ping = now + s->opts.ping_interval;
    }
  }
}

// The upgrade. `ws` by reference: awaited directly by connect(), which then hands it to state.
template <class NextLayer>
awaitable<error_code> upgrade(websocket::stream<NextLayer>& ws, url u, ws_options o,
                              ws_client::state* s, unsigned* status) {
  beast::get_lowest_layer(ws).expires_never();  // WebSocket timeouts take over (style B.6)
  websocket::stream_base::timeout t{o.handshake_timeout, websocket::stream_base::none(), false};
  ws.set_option(t);
  ws.set_option(websocket::stream_base::decorator(
      [agent = o.user_agent](websocket::request_type& req) {
        req.set(http::field::user_agent, agent);
      }));
  ws.read_message_max(o.max_message);
  // Any control frame from the server (pong to our ping, or its own ping) proves it is alive.
  ws.control_callback([s](websocket::frame_type, beast::string_view) { s->last_rx = clock::now(); });
  websocket::response_type res;
  auto [ec] = co_await ws.async_handshake(res, u.authority(), u.target, use_nothrow);
  *status = res.result_int();
  co_return translate(ec);
}

}  // namespace

ws_client::ws_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls,
                     ws_options o)
    : ws_client(std::move(ex), std::move(tls), std::move(o),
                std::make_shared<spdlog::logger>("ws_client",
                                                 std::make_shared<spdlog::sinks::null_sink_mt>())) {}

ws_client::ws_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls,
                     ws_options o, std::shared_ptr<spdlog::logger> log)
    : ex_(std::move(ex)), tls_(std::move(tls)), opts_(std::move(o)), log_(std::move(log)) {}

ws_client::~ws_client() { close(); }

bool ws_client::is_open() const { return st_ && st_->open; }

void ws_client::close() {
  if (st_) st_->shut(make_error_code(errc::closed));
}

awaitable<result<void>> ws_client::connect(url u) {
  close();  // one connection at a time; a previous one is abandoned
  if (u.scheme != "ws" && u.scheme != "wss") {
    co_return make_error_code(boost::system::errc::invalid_argument);
  }
  if (u.tls() && !tls_) co_return make_error_code(boost::system::errc::invalid_argument);
  auto s = std::make_shared<state>(ex_, opts_);
  st_ = s;
  handshake_status_ = 0;
  const auto deadline = clock::now() + opts_.handshake_timeout;

  beast::tcp_stream tcp_stream(ex_);
  // Resolve + TCP connect (net/connect.hpp); blackhole is a configured URL, so no address filter.
  if (auto ec = translate(co_await open_tcp(tcp_stream, u, deadline))) co_return ec;

  unsigned status = 0;
  if (!u.tls()) {
    auto t = std::make_unique<ws_transport_impl<beast::tcp_stream>>(std::move(tcp_stream));
    auto ec = co_await upgrade(t->ws, u, opts_, s.get(), &status);
    handshake_status_ = status;
    if (ec) co_return ec;
    s->transport = std::move(t);
  } else {
    using tls_layer = beast::ssl_stream<beast::tcp_stream>;
    auto t = std::make_unique<ws_transport_impl<tls_layer>>(tls_layer(std::move(tcp_stream), *tls_));
    if (auto prepared = prepare_client_tls(t->ws.next_layer().native_handle(), u.host); !prepared) {
      co_return prepared.error();
    }
    beast::get_lowest_layer(t->ws).expires_at(deadline);
    auto [hec] = co_await t->ws.next_layer().async_handshake(ssl::stream_base::client, use_nothrow);
    if (hec) co_return translate(hec);
    auto ec = co_await upgrade(t->ws, u, opts_, s.get(), &status);
    handshake_status_ = status;
    if (ec) co_return ec;
    s->transport = std::move(t);
  }
  if (s->end_reason) co_return s->end_reason;  // close()d while connecting
  s->open = true;
  s->last_rx = clock::now();
  spawn_logged(ex_, write_loop(s), "ws_writer", log_);
  spawn_logged(ex_, keepalive_loop(s), "ws_keepalive", log_);
  co_return result<void>{};
}

awaitable<result<ws_message>> ws_client::read() {
  auto s = st_;  // `this` may be destroyed while we wait: use only `s` after the co_await
  if (!s) co_return make_error_code(asio::error::not_connected);
  if (!s->open) co_return s->end_reason ? s->end_reason : make_error_code(errc::closed);
  s->rx.clear();
  auto ec = co_await s->transport->read(s->rx);
  if (ec) {
    if (!s->open && s->end_reason) co_return s->end_reason;  // our close() or the keepalive verdict
    s->shut(translate(ec));
    co_return translate(ec);
  }
  s->last_rx = clock::now();
  ws_message msg{beast::buffers_to_string(s->rx.data()), s->transport->got_binary()};
  co_return msg;
}

awaitable<result<void>> ws_client::write(std::string text) {
  auto s = st_;  // see read()
  if (!s) co_return make_error_code(asio::error::not_connected);
  if (!s->open) co_return s->end_reason ? s->end_reason : make_error_code(errc::closed);
  auto slot = std::make_shared<state::write_slot>(s->ex);
  s->queue.push_back(state::pending{std::move(text), false, slot});
  s->writer_wake.cancel();
  while (!slot->finished) {
    slot->done.expires_at(clock::time_point::max());
    co_await slot->done.async_wait(use_nothrow);
  }
  if (slot->ec) co_return slot->ec;
  co_return result<void>{};
}

}  // namespace kazoo_bridge::net
