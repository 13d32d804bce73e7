#pragma once
/// kazoo-sim command line (README.md documents every flag). Pure.

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include <kazoo_sim/scenario.hpp>

#include "arrivals.hpp"

namespace kazoo_sim {

enum class run_mode { idle, play, mix, load };

struct sim_options {
  std::string ws_listen = "127.0.0.1:5555";   ///< blackhole default port (§1.1)
  std::string api_listen = "127.0.0.1:8000";  ///< Crossbar default port (§5.1)
  std::filesystem::path scenarios_dir;        ///< default: compiled-in source tree path
  std::filesystem::path fixture;              ///< default: compiled-in fixtures/account.json
  run_mode mode = run_mode::idle;
  std::vector<std::string> play;              ///< --play a,b,c
  flavour flavour_ = flavour::kz43;
  bool legacy_string_durations = false;
  double speed = 1.0;
  std::int64_t pause_ms = 2000;
  // load mode
  std::size_t calls = 100;
  double rate = 10;
  double duration_s = 60;
  std::string scenario;                       ///< load: only this scenario (default: random)
  std::uint64_t seed = 1;
  arrival_kind arrivals = arrival_kind::uniform;  ///< load: --arrivals
  // Crossbar
  std::int64_t token_ttl_s = 3600;
  double rate_limit_burst = 0;                ///< 0 = no Crossbar rate limit
  double rate_limit_refill = 10;
  // blackhole
  bool bh_ping = false;
  bool qubicle = false;
  std::size_t bh_max_queued = 0;
  std::int64_t bh_idle_timeout_s = 3600;
  std::size_t bh_max_connections_per_ip = 0;
  bool bh_rate_limit = true;
  // faults
  std::uint64_t drop_after = 0;
  std::uint64_t garbage_every = 0;
  std::string log_level = "info";
};

struct show_help {};

/// Options, help request, or an error message for stderr (exit 2).
std::variant<sim_options, show_help, std::string> parse_options(const std::vector<std::string>& args);

std::string help_text();

/// "host:port" -> pair; false when malformed.
bool split_host_port(const std::string& s, std::string& host, unsigned short& port);

}  // namespace kazoo_sim
