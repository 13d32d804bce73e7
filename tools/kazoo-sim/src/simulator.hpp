#pragma once
/// The whole simulator: loads fixture + scenarios, owns the token store, hub, call state, player,
/// load generator and both servers, and runs the mode chosen on the command line.
///
/// Thread: I/O thread only (one io_context). Lifetime: must outlive the loop's work; call stop()
/// and let the loop drain before destroying it.
/// Cancellation: stop() closes both listeners, drops every WebSocket and cancels playback.
/// Errors: the constructor throws std::runtime_error on unreadable data or a failed bind.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_sim/scenario.hpp>
#include <spdlog/logger.h>

#include "api_server.hpp"
#include "call_state.hpp"
#include "hub.hpp"
#include "load_generator.hpp"
#include "player.hpp"
#include "sim_options.hpp"
#include "token_store.hpp"
#include "ws_server.hpp"

namespace kazoo_sim {

/// Paths compiled in from the source tree (overridable with --scenarios / --fixture).
std::filesystem::path default_scenarios_dir();
std::filesystem::path default_fixture_file();

class simulator {
 public:
  simulator(asio::any_io_executor ex, sim_options opts, std::shared_ptr<spdlog::logger> log);
  ~simulator();

  /// Spawns the servers and the playback mode. `on_done` runs when load mode finishes.
  void start(std::function<void()> on_done = {});
  void stop();

  /// {"ws_url","api_url","api_key","account_id"} (the one stdout line at start-up).
  std::string startup_line() const;

  unsigned short ws_port() const;
  unsigned short api_port() const;
  const fixture& fixture_data() const { return fx_; }
  hub& event_hub() { return *hub_; }
  token_store& tokens() { return *tokens_; }
  player& playback() { return *player_; }
  call_state& calls() { return calls_; }
  nlohmann::json load_stats() const;

 private:
  asio::any_io_executor ex_;
  sim_options opts_;
  std::shared_ptr<spdlog::logger> log_;
  fixture fx_;
  std::unique_ptr<token_store> tokens_;
  std::unique_ptr<hub> hub_;
  call_state calls_;
  std::unique_ptr<player> player_;
  std::unique_ptr<load_generator> load_;
  std::unique_ptr<ws_server> ws_;
  std::unique_ptr<api_server> api_;
};

}  // namespace kazoo_sim
