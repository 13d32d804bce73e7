#include "sim_options.hpp"

#include <charconv>
#include <sstream>

namespace kazoo_sim {
namespace {

template <class T>
bool parse_number(const std::string& s, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    try {
      std::size_t used = 0;
      out = static_cast<T>(std::stod(s, &used));
      return used == s.size();
    } catch (...) {
      return false;
    }
  } else {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
  }
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

bool split_host_port(const std::string& s, std::string& host, unsigned short& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = s.substr(0, colon);
  return parse_number(s.substr(colon + 1), port);
}

std::string help_text() {
  return R"(kazoo-sim: a Kazoo (2600Hz) simulator: blackhole WebSocket + Crossbar subset + call scenarios

Usage: kazoo-sim [options]

Listening
  --ws-listen HOST:PORT      blackhole WebSocket (default 127.0.0.1:5555; port 0 = any)
  --api-listen HOST:PORT     Crossbar /v2 and control /sim (default 127.0.0.1:8000)
  On start-up one JSON line goes to stdout:
  {"ws_url":...,"api_url":...,"api_key":...,"account_id":...}; logs go to stderr.

Data
  --scenarios DIR            scenario files (default: the source tree's tools/kazoo-sim/scenarios)
  --fixture FILE             accounts/users/devices (default: tools/kazoo-sim/fixtures/account.json)

Playback (default: idle, play only through the control API)
  --play A,B,...             play these scenarios once, in order, then idle
  --flavour kz43|kzm         event flavour for --play (default kz43)
  --legacy-durations         send duration/billing/ringing seconds as strings (old releases)
  --mix                      every scenario in turn, both flavours, forever
  --pause-ms MS              pause between calls in --mix (default 2000)
  --speed X                  play schedules X times faster (default 1)

Load mode (benchmark generator; exits by itself after --duration)
  --load                     enable load mode
  --calls N                  maximum concurrent calls (default 100)
  --rate R                   new calls per second (default 10)
  --arrivals uniform|poisson  call starts at a constant rate, or Poisson with mean R/s (default uniform)
  --duration S               seconds to run (default 60)
  --scenario NAME            only this scenario (default: random scenarios)
  --seed N                   seed for Call-IDs and choices (default 1)
  Each channel event's msg_id is its real send time in Unix microseconds.

Crossbar
  --token-ttl S              token lifetime in seconds (default 3600)
  --rate-limit BURST[:RATE]  per-IP token bucket, 429 too_many_requests (default off; Kazoo 100:10)

Blackhole
  --bh-ping                  load bh_ping: ping replies {"response":"pong"} (default data {})
  --qubicle                  accept qubicle.* bindings (commercial bh_qubicle)
  --bh-max-queued N          KZ43 slow-consumer drop beyond N queued frames (default 0 = never)
  --bh-idle-timeout S        close sessions idle for S seconds (default 3600)
  --bh-max-connections-per-ip N   HTTP 429 above N sockets per IP (default unlimited)
  --bh-no-rate-limit         disable the per-session 100/10 request bucket

Faults
  --drop-after N             abruptly close every WebSocket after N event frames (once)
  --garbage-every N          after every N event frames send one garbage frame

Other
  --log-level LEVEL          trace|debug|info|warn|error (default info)
  --help                     this text
)";
}

std::variant<sim_options, show_help, std::string> parse_options(const std::vector<std::string>& args) {
  sim_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&](std::string& out) -> bool {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    auto bad = [&] { return std::string("invalid or missing value for ") + a; };
    if (a == "--help" || a == "-h") return show_help{};
    if (a == "--ws-listen") {
      if (!value(o.ws_listen)) return bad();
    } else if (a == "--api-listen") {
      if (!value(o.api_listen)) return bad();
    } else if (a == "--scenarios") {
      if (!value(v)) return bad();
      o.scenarios_dir = v;
    } else if (a == "--fixture") {
      if (!value(v)) return bad();
      o.fixture = v;
    } else if (a == "--play") {
      if (!value(v)) return bad();
      o.play = split_commas(v);
      o.mode = run_mode::play;
    } else if (a == "--flavour" || a == "--flavor") {
      if (!value(v) || (v != "kz43" && v != "kzm")) return bad();
      o.flavour_ = v == "kzm" ? flavour::kzm : flavour::kz43;
    } else if (a == "--legacy-durations") {
      o.legacy_string_durations = true;
    } else if (a == "--mix") {
      o.mode = run_mode::mix;
    } else if (a == "--load") {
      o.mode = run_mode::load;
    } else if (a == "--pause-ms") {
      if (!value(v) || !parse_number(v, o.pause_ms)) return bad();
    } else if (a == "--speed") {
      if (!value(v) || !parse_number(v, o.speed) || o.speed <= 0) return bad();
    } else if (a == "--calls") {
      if (!value(v) || !parse_number(v, o.calls) || o.calls == 0) return bad();
    } else if (a == "--rate") {
      if (!value(v) || !parse_number(v, o.rate) || o.rate <= 0) return bad();
    } else if (a == "--duration") {
      if (!value(v) || !parse_number(v, o.duration_s) || o.duration_s <= 0) return bad();
    } else if (a == "--scenario") {
      if (!value(o.scenario)) return bad();
    } else if (a == "--arrivals") {
      if (!value(v)) return bad();
      auto k = parse_arrival_kind(v);
      if (!k) return bad();
      o.arrivals = *k;
    } else if (a == "--seed") {
      if (!value(v) || !parse_number(v, o.seed)) return bad();
    } else if (a == "--token-ttl") {
      if (!value(v) || !parse_number(v, o.token_ttl_s) || o.token_ttl_s < 0) return bad();
    } else if (a == "--rate-limit") {
      if (!value(v)) return bad();
      auto colon = v.find(':');
      if (!parse_number(v.substr(0, colon), o.rate_limit_burst)) return bad();
      if (colon != std::string::npos && !parse_number(v.substr(colon + 1), o.rate_limit_refill)) {
        return bad();
      }
    } else if (a == "--bh-ping") {
      o.bh_ping = true;
    } else if (a == "--qubicle") {
      o.qubicle = true;
    } else if (a == "--bh-max-queued") {
      if (!value(v) || !parse_number(v, o.bh_max_queued)) return bad();
    } else if (a == "--bh-idle-timeout") {
      if (!value(v) || !parse_number(v, o.bh_idle_timeout_s) || o.bh_idle_timeout_s <= 0) return bad();
    } else if (a == "--bh-max-connections-per-ip") {
      if (!value(v) || !parse_number(v, o.bh_max_connections_per_ip)) return bad();
    } else if (a == "--bh-no-rate-limit") {
      o.bh_rate_limit = false;
    } else if (a == "--drop-after") {
      if (!value(v) || !parse_number(v, o.drop_after)) return bad();
    } else if (a == "--garbage-every") {
      if (!value(v) || !parse_number(v, o.garbage_every)) return bad();
    } else if (a == "--log-level") {
      if (!value(o.log_level)) return bad();
    } else {
      return "unknown option " + a + " (see --help)";
    }
  }
  std::string host;
  unsigned short port = 0;
  if (!split_host_port(o.ws_listen, host, port)) return "invalid --ws-listen " + o.ws_listen;
  if (!split_host_port(o.api_listen, host, port)) return "invalid --api-listen " + o.api_listen;
  return o;
}

}  // namespace kazoo_sim
