#pragma once
/// Plays scenario instances in real time (optionally sped up): each event is published to the
/// hub at its time and fed to call_state, so /channels and /cdrs follow the WebSocket.
///
/// Thread: I/O thread only. Lifetime: must outlive the instances it spawned; stop() first.
/// Cancellation: stop() cancels every waiting instance (the rest of its events is not sent).
/// Errors: play() returns errc::not_found for an unknown scenario or account.

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_sim/scenario.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "call_state.hpp"
#include "hub.hpp"

namespace kazoo_sim {

struct play_request {
  std::string scenario;
  flavour flavour_ = flavour::kz43;
  std::string account_id;      ///< empty = the fixture's first account
  double speed = 1.0;          ///< >1 compresses the schedule (see scenario_start_ms)
  bool legacy_string_durations = false;
  std::map<std::string, std::string> vars;  ///< overrides of the scenario's "vars" (instance::vars)
  std::string as_user;         ///< replay the scenario's main user (its vars.user) as this username
};

/// Length of a scenario in ms (largest at_ms of its events).
std::int64_t scenario_length_ms(const scenario& s);

/// Wall time to give expand() as at_ms == 0 when a scenario plays `speed` times faster: the
/// schedule is shifted back so that no event's Kazoo timestamp lies after its real send time and
/// the last event's timestamp is "now" when it is sent (CDRs and channels then agree with the
/// clock, e.g. a default-range GET /cdrs finds them).
std::int64_t scenario_start_ms(std::int64_t now_ms, std::int64_t length_ms, double speed);

struct play_info {
  std::uint64_t seed = 0;
  std::vector<std::string> call_ids;     ///< distinct Call-IDs of the instance, first-seen order
  std::int64_t first_answer_unix_ms = 0;  ///< send time of the first CHANNEL_ANSWER (0 if none)
  std::int64_t end_unix_ms = 0;
};

class player {
 public:
  player(asio::any_io_executor ex, hub& h, call_state& calls, const fixture& fx,
         std::vector<scenario> scenarios, std::uint64_t seed, std::shared_ptr<spdlog::logger> log);

  kazoo_bridge::result<play_info> play(const play_request& r);

  /// Every scenario in turn, both flavours, forever, `pause_ms` between calls (`make demo`).
  kazoo_bridge::awaitable<void> run_mix(double speed, std::int64_t pause_ms);
  /// The given scenarios once, in order, each after the previous one ended.
  kazoo_bridge::awaitable<void> run_sequence(std::vector<std::string> names, flavour f, double speed,
                                             bool legacy_string_durations = false);

  void stop();

  const std::vector<scenario>& scenarios() const { return scenarios_; }
  const scenario* find(const std::string& name) const;
  std::size_t live_instances() const { return live_; }
  std::uint64_t instances_started() const { return started_; }
  std::uint64_t next_seed();

 private:
  kazoo_bridge::awaitable<void> run_instance(std::vector<timed_event> events, std::int64_t now_ms,
                                             std::int64_t start_ms, double speed);
  kazoo_bridge::awaitable<bool> wait_until_ms(std::int64_t unix_ms);

  asio::any_io_executor ex_;
  hub& hub_;
  call_state& calls_;
  const fixture& fx_;
  std::vector<scenario> scenarios_;
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
  std::shared_ptr<spdlog::logger> log_;
  std::set<asio::steady_timer*> timers_;
  bool stopping_ = false;
  std::size_t live_ = 0;
  std::uint64_t started_ = 0;
};

}  // namespace kazoo_sim
