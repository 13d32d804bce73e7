#pragma once
/// Load mode for the benchmarks: keeps up to N calls in flight, starts R new calls per second
/// (random scenarios or one), unique Call-IDs per instance (seeded), and has every channel event's
/// msg_id set to its real send time in Unix µs (what msg_id is in Kazoo, reference/kazoo.md §2.3) by
/// the WebSocket writer, so the benchmark can compute send -> commit latency.
/// Cheap per event: each (scenario, flavour) is expanded once into a call_template at construction;
/// a call is rendered by text substitution, published as text, and booked in call_state without a
/// JSON DOM (scenarios the template cannot reproduce fall back to expand() per call).
///
/// Thread: I/O thread only. Lifetime: must outlive run(). Cancellation: stop() ends run() at its
/// next wake-up. Errors: none (an unknown --scenario is rejected by the simulator at start-up).

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_sim/scenario.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "arrivals.hpp"
#include "call_state.hpp"
#include "call_template.hpp"
#include "hub.hpp"

namespace kazoo_sim {

struct load_options {
  std::size_t max_calls = 100;
  double calls_per_s = 10;
  double duration_s = 60;
  std::string scenario;    ///< empty = random among all (excluding none)
  std::string account_id;  ///< empty = first account
  double speed = 1.0;
  std::uint64_t seed = 1;
  arrival_kind arrivals = arrival_kind::uniform;  ///< how call starts are spaced (arrivals.hpp)
};

class load_generator {
 public:
  load_generator(asio::any_io_executor ex, hub& h, call_state& calls, const fixture& fx,
                 const std::vector<scenario>& scenarios, load_options opts,
                 std::shared_ptr<spdlog::logger> log);

  /// Runs for duration_s, then returns.
  kazoo_bridge::awaitable<void> run();
  void stop();

  nlohmann::json stats() const;

 private:
  struct pending {
    std::int64_t at_ms;
    std::uint64_t call;
    std::size_t index;
    bool operator>(const pending& o) const { return at_ms > o.at_ms; }
  };
  struct active_call {
    std::shared_ptr<const call_template> tmpl;
    std::shared_ptr<const call_values> values;
    std::size_t remaining = 0;
  };
  /// Per pool entry: the scenario, its length and its templates by flavour (null: expand() per call).
  struct pool_entry {
    const scenario* s = nullptr;
    std::int64_t length_ms = 0;
    std::shared_ptr<const call_template> kz43, kzm;
  };
  void start_call(std::int64_t now_ms);
  /// Sends what is due at now_ms; true when it stopped early with more due (behind schedule).
  bool send_due(std::int64_t now_ms);

  asio::steady_timer timer_;
  hub& hub_;
  call_state& calls_;
  const fixture& fx_;
  std::vector<pool_entry> pool_;
  load_options opts_;
  std::shared_ptr<spdlog::logger> log_;
  std::mt19937_64 rng_;
  arrival_schedule arrivals_;
  std::priority_queue<pending, std::vector<pending>, std::greater<>> queue_;
  std::unordered_map<std::uint64_t, active_call> active_;
  std::uint64_t next_call_ = 0;
  std::uint64_t events_sent_ = 0;
  std::uint64_t calls_completed_ = 0;
  std::uint64_t calls_skipped_ = 0;  ///< starts refused because max_calls were in flight
  std::uint64_t calls_expanded_ = 0; ///< calls of scenarios without a template (expand() per call)
  bool stopping_ = false;
  bool running_ = false;
};

}  // namespace kazoo_sim
