#pragma once
/// Kazoo ingest: one blackhole WebSocket connection, subscribed per account, reconnected with backoff,
/// reconciled through Crossbar after every (re)connect (reference/kazoo.md §1, §5.8). Frames go out,
/// parsed, through a bounded channel, so a burst gives back-pressure instead of unbounded memory.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>

#include <kazoo_bridge/calls/frame.hpp>
#include <kazoo_bridge/calls/tracker.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/kazoo/blackhole_protocol.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>
#include <kazoo_bridge/net/ws_client.hpp>

namespace kazoo_bridge::kazoo {

struct ingest_options {
  std::string websocket_url;
  std::vector<std::string> accounts;  ///< empty = the API key's own account
  bool qubicle = false;
  net::ws_options ws;
  net::backoff_policy backoff;
  std::chrono::milliseconds stable_after{60000};
  std::chrono::milliseconds subscribe_timeout{10000};
  /// CDRs are fetched from this long before the stored feed position, so a call that ended just
  /// before the drop is not missed.
  std::chrono::milliseconds cdr_overlap{120000};
};

/// One event frame with the time we read it.
struct event_item {
  calls::frame frame;
  std::int64_t received_at_ms = 0;
};
/// The state of one account right after a (re)connect (§5.8).
struct reconcile_item {
  std::string account_id;
  std::int64_t taken_at_ms = 0;
  std::vector<calls::live_channel> live;
  std::vector<calls::cdr> cdrs;
};
using ingest_item = std::variant<event_item, reconcile_item>;
using ingest_channel = asio::experimental::channel<void(error_code, ingest_item)>;

enum class connection_state { disconnected, connecting, subscribing, subscribed };
const char* to_string(connection_state s);

/// Thread: I/O thread. Lifetime: token_source, crossbar_client, the channel and the registry outlive it;
/// call stop() and let run() return before destroying it. Cancellation: stop() closes the socket and the
/// backoff timer; run() returns promptly. Errors: never thrown; every failure ends a session, is logged
/// once with its reason and leads to a reconnect.
class blackhole_client {
 public:
  blackhole_client(asio::any_io_executor ex, ingest_options o, std::shared_ptr<asio::ssl::context> tls,
                   token_source& tokens, crossbar_client& crossbar, ingest_channel& out, metrics_registry& metrics,
                   std::shared_ptr<spdlog::logger> log);

  /// The stored feed position (Unix ms, 0 = never had the feed); CDR reconciliation starts there.
  std::function<std::int64_t()> feed_position_ms;
  /// Awaited before an account is reconciled (the app refreshes its directory, so that reconciled events
  /// carry user names too). Must not throw.
  std::function<awaitable<void>(std::string account_id)> before_reconcile;
  /// Called once every account is subscribed (after each reconnect).
  std::function<void(const std::vector<std::string>& accounts)> on_subscribed;

  awaitable<void> run();
  void stop();

  connection_state state() const { return state_; }
  bool subscribed() const { return state_ == connection_state::subscribed; }
  const std::vector<std::string>& accounts() const { return accounts_; }

 private:
  awaitable<error_code> session(net::url u);
  awaitable<void> reconcile(std::vector<std::string> accounts, std::uint64_t session_id);
  void set_state(connection_state s);
  void count_malformed(const std::string& reason, const std::string& sample);

  asio::any_io_executor ex_;
  ingest_options opts_;
  std::shared_ptr<asio::ssl::context> tls_;
  token_source& tokens_;
  crossbar_client& crossbar_;
  ingest_channel& out_;
  metrics_registry& metrics_;
  std::shared_ptr<spdlog::logger> log_;
  reconnect_policy policy_;
  asio::steady_timer timer_;
  std::unique_ptr<net::ws_client> ws_;
  connection_state state_ = connection_state::disconnected;
  std::vector<std::string> accounts_;
  std::string current_token_;
  std::uint64_t session_id_ = 0;
  std::uint64_t request_seq_ = 0;
  bool stopping_ = false;
  std::vector<std::string> malformed_seen_;

  counter& frames_received_;
  counter& reconnects_;
  counter& reconciliations_;
  gauge& connected_;
  gauge& queue_depth_;
};

}  // namespace kazoo_bridge::kazoo
