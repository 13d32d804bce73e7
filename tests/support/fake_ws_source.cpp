#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <stdexcept>

#include <support/fake_ws_source.hpp>
#include <support/wait_until.hpp>

namespace kazoo_bridge::test {

namespace websocket = net::beast::websocket;
namespace beast = net::beast;
namespace http = net::http;

namespace {

// A stream layer that stops passing reads up while the connection is stalled. Stalling must hold
// back the read already pending inside the WebSocket stream too (that read is what answers
// pings), and a WebSocket read cannot be cancelled without failing the stream, so the gate sits
// below it, on the TCP layer.
class gated_stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  using next_layer_type = beast::tcp_stream;
  using lowest_layer_type = tcp::socket;  // asio::ssl::stream needs it

  gated_stream(beast::tcp_stream next, std::shared_ptr<fake_ws_source::connection> c)
      : next_(std::move(next)), conn_(std::move(c)) {}
  executor_type get_executor() noexcept { return next_.get_executor(); }
  beast::tcp_stream& next_layer() noexcept { return next_; }
  lowest_layer_type& lowest_layer() noexcept { return next_.socket(); }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token);
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  beast::tcp_stream next_;
  std::shared_ptr<fake_ws_source::connection> conn_;
};

// WebSocket close on our layer = close on the TCP layer below (Beast's teardown customisation).
[[maybe_unused]] void teardown(beast::role_type role, gated_stream& s, error_code& ec) {
  using websocket::teardown;
  teardown(role, s.next_layer(), ec);
}
template <class Handler>
void async_teardown(beast::role_type role, gated_stream& s, Handler&& h) {
  using websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<Handler>(h));
}

}  // namespace

struct fake_ws_source::connection {
  explicit connection(asio::any_io_executor ex) : wake_writer(ex), wake_reader(ex), gate(ex) {}
  std::deque<std::pair<std::string, bool>> outbox;  // (payload, binary)
  // One timer per waiter: re-arming a timer cancels every wait on it.
  asio::steady_timer wake_writer;  // new frame queued, or closing
  asio::steady_timer wake_reader;  // unstalled, writer finished, or closing
  asio::steady_timer gate;         // holds back TCP reads while stalled
  bool stalled = false;
  bool open = true;
  beast::tcp_stream* tcp = nullptr;  // valid while open
  void close_now() {
    open = false;
    if (tcp) tcp->close();
    wake_writer.cancel();
    wake_reader.cancel();
    gate.cancel();
  }
};

namespace {

// Waits at the gate while stalled, then reads from TCP.
template <class Buffers>
struct gated_read_op {
  beast::tcp_stream& next;
  std::shared_ptr<fake_ws_source::connection> conn;
  Buffers buffers;
  bool reading = false;

  template <class Self>
  void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
    if (reading) return self.complete(ec, n);
    if (conn->stalled && conn->open) {
      conn->gate.expires_at(asio::steady_timer::time_point::max());
      conn->gate.async_wait([self = std::move(self)](error_code) mutable { self(); });
      return;
    }
    if (!conn->open) return self.complete(asio::error::operation_aborted, 0);
    reading = true;
    next.async_read_some(buffers, std::move(self));
  }
};

template <class Buffers, class Token>
auto gated_stream::async_read_some(const Buffers& buffers, Token&& token) {
  return asio::async_compose<Token, void(error_code, std::size_t)>(
      gated_read_op<Buffers>{next_, conn_, buffers}, token, next_);
}

}  // namespace

namespace {

// `ws` by reference: serve() owns the stream and does not return before this coroutine has
// finished (it waits for writer_done), so the reference never dangles.
template <class Ws>
awaitable<void> write_loop(std::shared_ptr<fake_ws_source::connection> c, Ws& ws) {
  while (c->open) {
    if (c->outbox.empty()) {
      c->wake_writer.expires_at(asio::steady_timer::time_point::max());
      co_await c->wake_writer.async_wait(use_nothrow);
      continue;
    }
    auto [payload, binary] = std::move(c->outbox.front());
    c->outbox.pop_front();
    ws.binary(binary);
    auto [ec, n] = co_await ws.async_write(asio::buffer(payload), use_nothrow);
    if (ec) break;
  }
}

}  // namespace

fake_ws_source::fake_ws_source(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls)
    : ex_(ex), tls_(std::move(tls)), acceptor_(ex) {
  tcp::endpoint ep{asio::ip::address_v4::loopback(), 0};
  acceptor_.open(ep.protocol());
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(ex_, accept_loop(), [this](std::exception_ptr) { accept_finished_ = true; });
}

fake_ws_source::~fake_ws_source() { stop(); }

std::string fake_ws_source::url(std::string_view path) const {
  return std::string(tls_ ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port_) +
         std::string(path);
}

fake_ws_source::connection* fake_ws_source::current() {
  for (auto it = conns_.rbegin(); it != conns_.rend(); ++it) {
    if ((*it)->open) return it->get();
  }
  return nullptr;
}

void fake_ws_source::send_text(std::string text) {
  if (auto* c = current()) {
    c->outbox.emplace_back(std::move(text), false);
    c->wake_writer.cancel();
  }
}

void fake_ws_source::send_binary(std::string data) {
  if (auto* c = current()) {
    c->outbox.emplace_back(std::move(data), true);
    c->wake_writer.cancel();
  }
}

void fake_ws_source::drop() {
  if (auto* c = current()) c->close_now();
}

void fake_ws_source::stall(bool on) {
  if (auto* c = current()) {
    c->stalled = on;
    c->wake_reader.cancel();
    c->gate.cancel();
  }
}

void fake_ws_source::stop() {
  if (stopping_) return;
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& c : conns_) c->close_now();
}

awaitable<void> fake_ws_source::shutdown() {
  stop();
  co_await wait_until([this] { return stopped(); }, std::chrono::seconds(3));
}

awaitable<void> fake_ws_source::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (ec) break;
    auto c = std::make_shared<connection>(ex_);
    conns_.push_back(c);
    ++live_;
    // The handler only counts; serve() never throws past its own use_nothrow checks.
    gated_stream gated(beast::tcp_stream(std::move(socket)), c);
    if (tls_) {
      beast::ssl_stream<gated_stream> next(std::move(gated), *tls_);
      asio::co_spawn(ex_, serve(c, std::move(next)), [this](std::exception_ptr) { --live_; });
    } else {
      asio::co_spawn(ex_, serve(c, std::move(gated)), [this](std::exception_ptr) { --live_; });
    }
  }
}

template <class NextLayer>
awaitable<void> fake_ws_source::serve(std::shared_ptr<connection> c, NextLayer next) {
  websocket::stream<NextLayer> ws(std::move(next));
  auto& tcp_layer = beast::get_lowest_layer(ws);
  c->tcp = &tcp_layer;
  tcp_layer.expires_after(std::chrono::seconds(5));
  if constexpr (!std::is_same_v<NextLayer, gated_stream>) {
    auto [hec] = co_await ws.next_layer().async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (hec) {
      c->tcp = nullptr;
      c->open = false;
      co_return;
    }
  }
  beast::flat_buffer buffer;
  net::request upgrade;
  auto [rec, rn] = co_await http::async_read(ws.next_layer(), buffer, upgrade, use_nothrow);
  if (rec || !websocket::is_upgrade(upgrade)) {
    c->tcp = nullptr;
    c->open = false;
    co_return;
  }
  handshakes_.push_back(upgrade);
  tcp_layer.expires_never();
  // No idle pings from us: silence must be the test's decision.
  websocket::stream_base::timeout t{std::chrono::seconds(5), websocket::stream_base::none(), false};
  ws.set_option(t);
  ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) ++pings_;
  });
  auto [aec] = co_await ws.async_accept(upgrade, use_nothrow);
  if (aec) {
    c->tcp = nullptr;
    c->open = false;
    co_return;
  }
  ++accepted_;

  // Writer and reader run side by side; the writer is spawned and joined through `open`.
  bool writer_done = false;
  asio::co_spawn(ex_, write_loop(c, ws), [&writer_done, c](std::exception_ptr) {
    writer_done = true;
    c->wake_reader.cancel();
  });
  beast::flat_buffer frame;
  while (c->open) {
    if (c->stalled) {
      c->wake_reader.expires_at(asio::steady_timer::time_point::max());
      co_await c->wake_reader.async_wait(use_nothrow);
      continue;
    }
    auto [ec, n] = co_await ws.async_read(frame, use_nothrow);
    if (ec) break;
    if (ws.got_text()) received_.push_back(beast::buffers_to_string(frame.data()));
    frame.consume(frame.size());
  }
  c->close_now();
  // The writer references `ws`: wait for it before the stream goes away.
  while (!writer_done) {
    c->wake_reader.expires_at(asio::steady_timer::time_point::max());
    co_await c->wake_reader.async_wait(use_nothrow);
  }
  c->tcp = nullptr;
}

}  // namespace kazoo_bridge::test
