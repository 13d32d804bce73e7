#pragma once
/// The blackhole WebSocket endpoint (reference/kazoo.md §1.1): any path, no subprotocol (a
/// Sec-WebSocket-Protocol header is answered HTTP 400), optional per-IP cap (429), one reader
/// and one writer per session, requests processed by bh_protocol.
///
/// Thread: I/O thread only. Lifetime: must outlive run(); call stop() and let the loop drain.
/// Cancellation: stop() closes the acceptor and drops every session.
/// Errors: bind failures throw from the constructor (start-up); peer errors end that session only.

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>

#include <kazoo_bridge/common/asio.hpp>
#include <spdlog/logger.h>

#include "bh_protocol.hpp"
#include "hub.hpp"
#include "token_store.hpp"

namespace kazoo_sim {

struct ws_server_options {
  bh_options protocol;
  std::chrono::seconds idle_timeout{3600};  ///< cowboy idle_timeout = 1 hour (§1.7)
  std::size_t max_connections_per_ip = 0;   ///< 0 = unlimited (blackhole.max_connections_per_ip)
};

class ws_server {
 public:
  ws_server(asio::any_io_executor ex, const kazoo_bridge::tcp::endpoint& listen, hub& h,
            token_store& tokens, ws_server_options opts, std::shared_ptr<spdlog::logger> log);

  kazoo_bridge::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  kazoo_bridge::awaitable<void> run();
  void stop();

 private:
  kazoo_bridge::awaitable<void> run_session(kazoo_bridge::tcp::socket socket);

  kazoo_bridge::tcp::acceptor acceptor_;
  hub& hub_;
  token_store& tokens_;
  ws_server_options opts_;
  std::shared_ptr<spdlog::logger> log_;
  std::mt19937_64 rng_;
  std::map<std::string, std::size_t> per_ip_;
};

}  // namespace kazoo_sim
