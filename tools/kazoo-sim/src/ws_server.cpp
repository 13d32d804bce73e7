#include "ws_server.hpp"

#include <charconv>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_sim {
namespace {

namespace http = beast::http;
namespace websocket = beast::websocket;
using kazoo_bridge::awaitable;
using kazoo_bridge::use_nothrow;
using ws_stream = websocket::stream<stallable_stream>;

awaitable<void> read_loop(ws_stream& ws, ws_peer& peer, hub& h, const token_store& tokens,
                          const bh_options& opts, std::mt19937_64& rng) {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, n] = co_await ws.async_read(buffer, use_nothrow);
    if (ec) break;
    auto text = beast::buffers_to_string(buffer.data());
    auto out = handle_request(peer.state, text, tokens, opts, kazoo_bridge::now_unix_ms(), rng);
    if (out.close) {
      // cowboy closes a crashed websocket handler with 1011 (internal error).
      peer.closing = true;
      peer.queue.clear();
      co_await ws.async_close(websocket::close_reason(websocket::close_code::internal_error),
                              use_nothrow);
      break;
    }
    h.send(peer, out.reply.dump());
  }
  peer.closing = true;
  peer.wake.cancel();
}

// Puts the current Unix µs into the msg_id digits at `at` (same width only: a wider clock would
// shift the frame; then the value stamped at queue time stays).
void stamp_msg_id(std::string& text, std::size_t at) {
  auto end = text.find('"', at);
  if (end == std::string::npos) return;
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  char buf[24];
  auto [last, ec] = std::to_chars(buf, buf + sizeof buf, now);
  auto n = static_cast<std::size_t>(last - buf);
  if (ec == std::errc{} && n == end - at) text.replace(at, n, buf, n);
}

// Single writer (style B.3 rule 7): replies and events share the session queue. An event frame with
// a msg_id slot is copied into `stamped` and gets its real send time there (reference/kazoo.md §2.3:
// msg_id is the event's time; a benchmark measures send -> commit from it, so the time the frame
// waited in this queue must not count).
awaitable<void> write_loop(ws_stream& ws, ws_peer& peer) {
  std::string stamped;
  for (;;) {
    if (peer.close_when_flushed && peer.queue.empty()) {
      boost::system::error_code ignored;
      beast::get_lowest_layer(ws).socket().close(ignored);  // no close frame: an abrupt drop
      co_return;
    }
    if (peer.closing && !peer.close_when_flushed) co_return;
    if (peer.queue.empty()) {
      peer.wake.expires_at(asio::steady_timer::time_point::max());
      co_await peer.wake.async_wait(use_nothrow);
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) co_return;
      continue;
    }
    auto frame = std::move(peer.queue.front());
    peer.queue.pop_front();
    ws.binary(frame.binary);
    const std::string* text = frame.text.get();
    if (frame.msg_id_at != std::string::npos && frame.msg_id_at < text->size()) {
      stamped.assign(*text);
      stamp_msg_id(stamped, frame.msg_id_at);
      text = &stamped;
    }
    auto [ec, n] = co_await ws.async_write(asio::buffer(*text), use_nothrow);
    if (ec) co_return;
  }
}

template <class Stream>
awaitable<void> reject(Stream& stream, http::status status, std::string body, unsigned version) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::content_type, "text/plain");
  res.set(http::field::connection, "close");
  res.keep_alive(false);
  res.body() = std::move(body);
  res.prepare_payload();
  co_await http::async_write(stream, res, use_nothrow);
}

}  // namespace

ws_server::ws_server(asio::any_io_executor ex, const kazoo_bridge::tcp::endpoint& listen, hub& h,
                     token_store& tokens, ws_server_options opts,
                     std::shared_ptr<spdlog::logger> log)
    : acceptor_(ex, listen),
      hub_(h),
      tokens_(tokens),
      opts_(opts),
      log_(std::move(log)),
      rng_(std::random_device{}()) {}

awaitable<void> ws_server::run() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      log_->warn("ws accept failed ec={}", ec.message());
      continue;
    }
    // Kazoo's blackhole runs on Cowboy/Ranch, whose TCP listeners set nodelay by default (Ranch's
    // ranch_tcp: `nodelay (true)`): every event frame leaves at once instead of waiting, under
    // Nagle's algorithm, for the ACK of the previous one (which the receiver may delay 40 ms).
    boost::system::error_code nd_ec;
    socket.set_option(kazoo_bridge::tcp::no_delay(true), nd_ec);
    kazoo_bridge::spawn_logged(acceptor_.get_executor(), run_session(std::move(socket)),
                               "ws_session", log_);
  }
}

void ws_server::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  hub_.resume();
  hub_.drop_all();
}

awaitable<void> ws_server::run_session(kazoo_bridge::tcp::socket socket) {
  using namespace asio::experimental::awaitable_operators;
  boost::system::error_code ep_ec;
  auto remote = socket.remote_endpoint(ep_ec);
  std::string ip = ep_ec ? "?" : remote.address().to_string();
  std::string peer_id = ip + ":" + (ep_ec ? "0" : std::to_string(remote.port()));

  ws_stream ws(stallable_stream(std::move(socket), hub_.gate()));
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));  // request_timeout_ms
  auto [rec, rn] = co_await http::async_read(ws.next_layer(), buffer, req, use_nothrow);
  if (rec) co_return;
  if (!websocket::is_upgrade(req)) {
    co_await reject(ws.next_layer(), http::status::bad_request, "not a websocket upgrade\n",
                    req.version());
    co_return;
  }
  // blackhole_socket_handler:init/2 refuses any subprotocol (§1.1).
  if (req.find(http::field::sec_websocket_protocol) != req.end()) {
    log_->debug("ws reject peer={} reason=subprotocol", peer_id);
    co_await reject(ws.next_layer(), http::status::bad_request, "sub-protocols are not supported\n",
                    req.version());
    co_return;
  }
  auto& count = per_ip_[ip];
  if (opts_.max_connections_per_ip > 0 && count >= opts_.max_connections_per_ip) {
    co_await reject(ws.next_layer(), http::status::too_many_requests, "too many connections\n",
                    req.version());
    if (count == 0) per_ip_.erase(ip);
    co_return;
  }

  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout to{};
  to.handshake_timeout = std::chrono::seconds(10);
  to.idle_timeout = opts_.idle_timeout;  // only client traffic keeps the session alive
  to.keep_alive_pings = false;
  ws.set_option(to);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "Cowboy"); }));
  auto [aec] = co_await ws.async_accept(req, use_nothrow);
  if (aec) co_return;

  ++per_ip_[ip];
  ws_peer peer(acceptor_.get_executor());
  peer.state.peer = peer_id;
  peer.socket = &beast::get_lowest_layer(ws).socket();
  hub_.attach(&peer);
  log_->debug("ws session open peer={}", peer_id);

  co_await (read_loop(ws, peer, hub_, tokens_, opts_.protocol, rng_) || write_loop(ws, peer));

  hub_.detach(&peer);
  if (--per_ip_[ip] == 0) per_ip_.erase(ip);
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws).socket().close(ignored);
  log_->debug("ws session closed peer={}", peer_id);
}

}  // namespace kazoo_sim
