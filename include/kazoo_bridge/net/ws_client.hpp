#pragma once
/// Outbound WebSocket client (ws:// and wss://), one connection, with its own keepalive.

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::net {

struct ws_options {
  /// TCP connect + TLS handshake + WebSocket upgrade, each bounded by this.
  std::chrono::milliseconds handshake_timeout{10000};
  /// A WebSocket ping is sent this often REGARDLESS of incoming traffic: Kazoo's 1 h idle timer
  /// may count only client frames (reference/kazoo.md §1.7).
  std::chrono::milliseconds ping_interval{30000};
  /// No frame and no pong for this long => the connection is dead (read() gives errc::timeout).
  /// Frames and pongs are only observed while a read() is pending: keep one pending.
  std::chrono::milliseconds idle_timeout{90000};
  /// Incoming messages above this size fail the read with errc::too_large.
  std::size_t max_message = 16u << 20;
  std::string user_agent = "kazoo-bridge/0.1";
};

struct ws_message {
  std::string text;     ///< payload (text or binary)
  bool binary = false;  ///< true for a binary frame
};

/// Thread/executor: I/O thread only. read() and write() may run concurrently (one read() at a
///   time; any number of write() calls, serialised internally by a queue and one writer, B.3
///   rule 7; pings go through the same writer).
/// Lifetime: may be destroyed on the I/O thread while read()/write() are pending (the destructor
///   calls close(); those coroutines and the background tasks keep their own reference to the
///   connection state), but NOT while connect() is pending. The ssl::context must outlive it.
/// Cancellation: close() closes the socket (no close handshake, see below): a pending read() or
///   write() completes with errc::closed. A connect() in progress is not interrupted (it is
///   bounded by handshake_timeout) and then fails with errc::closed. connect() again after
///   close() opens a new connection.
/// Errors: connect(): invalid_argument (scheme, missing TLS context), errc::timeout, network/TLS
///   errors, websocket::error::upgrade_declined (see handshake_status()). read(): errc::timeout
///   (connection silent for idle_timeout: no frame, pings unanswered), errc::closed (after
///   close()), errc::too_large (message above max_message), websocket::error::closed (peer sent a
///   close frame), other network errors as is; asio::error::not_connected before connect().
class ws_client {
 public:
  ws_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls, ws_options o = {});
  /// Same, with a logger for the background tasks (writer, keepalive).
  ws_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls, ws_options o,
            std::shared_ptr<spdlog::logger> log);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Connects to a ws:// or wss:// URL (SNI + certificate and host name verification for wss).
  /// Sends NO Sec-WebSocket-Protocol header: Kazoo's blackhole answers 400 to any subprotocol
  /// (reference/kazoo.md §1.1).
  awaitable<result<void>> connect(url u);
  /// The next message (text or binary).
  awaitable<result<ws_message>> read();
  /// Queues one text frame and completes once it was written (or failed).
  awaitable<result<void>> write(std::string text);
  /// Closes the connection at once (TCP close, no WebSocket close handshake: we are going away
  /// and the server must cope with that anyway). Idempotent.
  void close();

  /// True between a successful connect() and close()/failure.
  bool is_open() const;
  /// HTTP status of the last upgrade response (101 on success, e.g. 400/429 when declined).
  unsigned handshake_status() const { return handshake_status_; }

  struct state;  // shared with the background tasks (implementation detail)

 private:
  asio::any_io_executor ex_;
  std::shared_ptr<asio::ssl::context> tls_;
  ws_options opts_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<state> st_;
  unsigned handshake_status_ = 0;
};

}  // namespace kazoo_bridge::net
