#pragma once
// A scripted WebSocket server on 127.0.0.1:0 (style guide B.9) standing in for Kazoo's blackhole:
// accepts any path, records the upgrade requests and every text frame received, sends scripted
// text/binary frames on command, drops the connection abruptly on command, can "stall" (stop
// reading, so WebSocket pings go unanswered and frames pile up), and counts connections.
// It never pings on its own, so "silence" is under the test's control.
//
// Thread: the io_context thread (drive it with run_coro). Lifetime: construct inside the test,
// `co_await shutdown()` (or stop() and run the loop until stopped()) before destroying it.

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/net/http.hpp>

namespace kazoo_bridge::test {

class fake_ws_source {
 public:
  /// Listens on 127.0.0.1:0 at once (wss when `tls` is set) and starts accepting.
  explicit fake_ws_source(asio::any_io_executor ex,
                          std::shared_ptr<asio::ssl::context> tls = nullptr);
  ~fake_ws_source();
  fake_ws_source(const fake_ws_source&) = delete;
  fake_ws_source& operator=(const fake_ws_source&) = delete;

  std::uint16_t port() const { return port_; }
  /// "ws(s)://127.0.0.1:<port>" + path
  std::string url(std::string_view path = "/") const;

  // Commands; they apply to the most recent live connection and are no-ops without one.
  void send_text(std::string text);
  void send_binary(std::string data);
  /// Closes the TCP connection without a WebSocket close frame (like a crashed server).
  void drop();
  /// Stops (true) or resumes (false) reading: while stalled, pings get no pong.
  void stall(bool on = true);

  // Observations.
  std::size_t connections() const { return accepted_; }       ///< handshakes completed, ever
  std::size_t live_connections() const { return live_; }
  const std::vector<std::string>& received() const { return received_; }  ///< text frames
  std::size_t pings_received() const { return pings_; }
  const std::vector<net::request>& handshakes() const { return handshakes_; }

  void stop();
  bool stopped() const { return accept_finished_ && live_ == 0; }
  awaitable<void> shutdown();

  struct connection;  // implementation detail (public for the .cpp's templates)

 private:
  awaitable<void> accept_loop();
  template <class NextLayer>
  awaitable<void> serve(std::shared_ptr<connection> c, NextLayer next);
  connection* current();

  asio::any_io_executor ex_;
  std::shared_ptr<asio::ssl::context> tls_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::vector<std::shared_ptr<connection>> conns_;
  std::vector<std::string> received_;
  std::vector<net::request> handshakes_;
  std::size_t accepted_ = 0;
  std::size_t live_ = 0;
  std::size_t pings_ = 0;
  bool accept_finished_ = false;
  bool stopping_ = false;
};

}  // namespace kazoo_bridge::test
