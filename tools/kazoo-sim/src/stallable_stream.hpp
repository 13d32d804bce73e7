#pragma once
/// A TCP stream the "stall" fault can freeze: while the gate is closed no byte is read or written,
/// so a peer's WebSocket pings stay unanswered (Beast answers pings inside a pending read, so
/// merely not calling read would not be enough). Used as the next layer of websocket::stream.

#include <boost/asio/compose.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <chrono>

#include <kazoo_bridge/common/asio.hpp>

namespace kazoo_sim {

namespace asio = boost::asio;
namespace beast = boost::beast;

/// Shared by every WebSocket session. Thread: I/O thread only.
class stall_gate {
 public:
  explicit stall_gate(asio::any_io_executor ex) : timer_(ex) { timer_.expires_at(asio::steady_timer::time_point::max()); }
  bool stalled() const { return stalled_; }
  void stall() { stalled_ = true; }
  /// Opens the gate and wakes every parked read/write.
  void resume() {
    stalled_ = false;
    poke();
  }
  /// Wakes parked operations so they re-check the gate and their socket.
  void poke() {
    timer_.cancel();
    timer_.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer& timer() { return timer_; }

 private:
  bool stalled_ = false;
  asio::steady_timer timer_;
};

class stallable_stream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  using next_layer_type = beast::tcp_stream;

  stallable_stream(kazoo_bridge::tcp::socket socket, stall_gate& gate)
      : next_(std::move(socket)), gate_(&gate) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(beast::error_code, std::size_t)>(
        op<MutableBuffers, true>{this, buffers}, token, next_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(beast::error_code, std::size_t)>(
        op<ConstBuffers, false>{this, buffers}, token, next_);
  }

 private:
  // Waits at the gate while stalled, then performs the transfer on the TCP stream.
  template <class Buffers, bool IsRead>
  struct op {
    stallable_stream* s;
    Buffers buffers;
    int state = 0;

    template <class Self>
    void operator()(Self& self, beast::error_code ec = {}, std::size_t n = 0) {
      if (state == 2) {
        self.complete(ec, n);
        return;
      }
      if (state == 1) {
        // Woken at the gate: by resume(), by our own cancellation, or because the socket was
        // closed meanwhile (drop fault) and the closer poked the gate.
        if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none ||
            !s->next_.socket().is_open()) {
          self.complete(asio::error::operation_aborted, 0);
          return;
        }
        if (ec && ec != asio::error::operation_aborted) {
          self.complete(ec, 0);
          return;
        }
      }
      if (s->gate_->stalled()) {
        state = 1;
        s->gate_->timer().async_wait(std::move(self));
        return;
      }
      state = 2;
      if constexpr (IsRead) {
        s->next_.async_read_some(buffers, std::move(self));
      } else {
        s->next_.async_write_some(buffers, std::move(self));
      }
    }
  };

  beast::tcp_stream next_;
  stall_gate* gate_;
};

// WebSocket closing handshake teardown goes straight to the TCP stream (found by ADL).
inline void teardown(beast::role_type role, stallable_stream& s, beast::error_code& ec) {
  using beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class Handler>
void async_teardown(beast::role_type role, stallable_stream& s, Handler&& handler) {
  using beast::websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}

}  // namespace kazoo_sim
