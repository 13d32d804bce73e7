#pragma once
/// Keeps the user/device directory of every followed account fresh from Crossbar (§5.3), so lifecycle
/// events carry a user's name and extension instead of bare ids.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <kazoo_bridge/calls/tracker.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>

namespace kazoo_bridge::kazoo {

/// Builds a directory from Crossbar listing rows (pure). The extension is the user part of the user's
/// presence_id ("1001@realm" -> "1001"), which is how Kazoo's callflows address a user by default.
calls::directory make_directory(const std::vector<nlohmann::json>& users, const std::vector<nlohmann::json>& devices);

/// Thread: I/O thread. Lifetime: crossbar_client and token_source outlive it; stop() then let run() return.
/// Cancellation: stop() cancels the wait between refreshes. Errors: logged at warn; the previous
/// directory stays in use until a refresh succeeds.
class directory_refresher {
 public:
  directory_refresher(asio::any_io_executor ex, crossbar_client& crossbar, token_source& tokens,
                      std::chrono::milliseconds interval, std::shared_ptr<spdlog::logger> log);

  std::function<void(const std::string& account_id, std::shared_ptr<const calls::directory>)> on_update;

  /// Refreshes these accounts every interval from now on. It does not fetch them now: after a subscribe
  /// the reconciliation refreshes each account first (blackhole_client::before_reconcile).
  void set_accounts(std::vector<std::string> accounts);
  awaitable<void> run();
  void stop();
  /// Refreshes one account now (also used before a reconciliation). Errors are logged, not thrown.
  awaitable<void> refresh(std::string account_id);

 private:
  crossbar_client& crossbar_;
  token_source& tokens_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<spdlog::logger> log_;
  asio::steady_timer timer_;
  std::vector<std::string> accounts_;
  bool stopping_ = false;
  bool reschedule_ = false;  ///< set_accounts() woke run() only to restart the interval
};

}  // namespace kazoo_bridge::kazoo
