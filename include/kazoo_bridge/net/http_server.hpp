#pragma once
/// The inbound HTTP/1.1 server: listener, per-connection session coroutines, limits, TLS.

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/net/http.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::net {

struct server_options {
  std::string listen = "127.0.0.1:8080";  ///< "host:port", "[v6]:port"; numeric or "localhost"; port 0 = any
  std::size_t max_header_bytes = 8192;     ///< request line + headers; above => 431
  std::size_t max_body_bytes = 1u << 20;   ///< above => 413 (checked on Content-Length up front)
  std::chrono::milliseconds read_timeout{10000};  ///< whole request from its first byte => 408
  std::chrono::milliseconds idle_timeout{30000};  ///< keep-alive wait between requests => silent close
  std::size_t max_connections = 4096;      ///< beyond this, new connections are closed at once
  std::shared_ptr<asio::ssl::context> tls; ///< null = plain HTTP
};

/// Parses a listen address ("127.0.0.1:8080", "[::1]:0", "localhost:80", ":8080" = all IPv4).
/// Errors: boost::system::errc::invalid_argument.
result<tcp::endpoint> parse_listen_address(const std::string& text);

/// Thread/executor: I/O thread only (one io_context thread).
/// Lifetime: the router must outlive the server; the server must outlive run(): call stop() and
///   let run() return before destroying it.
/// Cancellation: stop() closes the acceptor, cancels every session (in-flight handlers receive a
///   terminal cancellation, their sockets are closed) and run() returns once all sessions ended.
/// Errors: listen() returns bind/parse errors (startup); per-connection problems are answered
///   (400/408/413/431, 500 for a handler exception, all JSON with Connection: close) or closed,
///   and never affect other connections.
/// TLS reload (SIGHUP): set_tls_context() swaps the shared_ptr; connections accepted afterwards use
///   the new context, live ones keep the one they started with (each session holds a reference).
class http_server {
 public:
  http_server(asio::any_io_executor ex, server_options o, const router& r,
              std::shared_ptr<spdlog::logger> log);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and listens (port 0 = any free port); returns the bound endpoint.
  result<tcp::endpoint> listen();
  /// Accepts until stop(); each connection is a session coroutine. Returns after stop() once every
  /// session has ended. Calls on_listening first.
  awaitable<void> run();
  /// Closes the acceptor and every session; run() returns promptly. Idempotent.
  void stop();
  /// Sessions currently alive (accepted and not yet finished).
  std::size_t live_sessions() const { return sessions_.size(); }
  /// Replaces the TLS context for connections accepted from now on (null = plain HTTP).
  void set_tls_context(std::shared_ptr<asio::ssl::context> tls) { opts_.tls = std::move(tls); }

  /// Optional hook run by run() once the server accepts (e.g. sd_notify READY=1).
  std::function<void()> on_listening;

 private:
  struct session_entry {
    asio::cancellation_signal cancel;
    beast::tcp_stream* stream = nullptr;  // set while the session's stream exists
    bool finished = false;                // the session coroutine has completed
  };

  void start_session(tcp::socket socket);
  awaitable<void> supervise_session(tcp::socket socket, std::uint64_t id,
                                    std::shared_ptr<session_entry> entry,
                                    std::shared_ptr<asio::ssl::context> tls);
  awaitable<void> run_session(tcp::socket socket, std::shared_ptr<session_entry> entry,
                              std::shared_ptr<asio::ssl::context> tls);
  template <class Stream>
  awaitable<void> serve(Stream& stream, asio::ip::address remote);
  template <class Stream>
  awaitable<void> reply_and_close(Stream& stream, response res);

  asio::any_io_executor ex_;
  server_options opts_;
  const router& router_;
  std::shared_ptr<spdlog::logger> log_;
  tcp::acceptor acceptor_;
  asio::steady_timer drained_;  // woken when a session ends (run() waits for the last one)
  std::map<std::uint64_t, std::shared_ptr<session_entry>> sessions_;
  std::uint64_t next_id_ = 0;
  bool stopping_ = false;
};

}  // namespace kazoo_bridge::net
