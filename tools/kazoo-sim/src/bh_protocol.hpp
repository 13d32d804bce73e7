#pragma once
/// The blackhole request pipeline of one socket (reference/kazoo.md §1.2, §1.3, §1.6, §1.7):
/// rate -> authenticate -> validate -> authorize -> command, first failure replies an error.
/// Pure: the I/O session feeds it text and sends back what it returns.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bindings.hpp"
#include "token_store.hpp"

namespace kazoo_sim {

/// Per-socket state (bh_context).
struct bh_session {
  std::string peer;                             ///< "ip:port", the Kazoo session id
  std::optional<std::string> auth_account_id;  ///< set by the first valid token, never changed
  std::vector<internal_binding> bindings;
  double rate_tokens = -1;  ///< per-session token bucket; < 0 = not started (full)
  std::int64_t rate_last_ms = 0;
};

struct bh_options {
  bool ping_pong = false;       ///< bh_ping loaded: ping replies {"response":"pong"} (§1.3)
  binding_options bindings;
  double rate_burst = 100;      ///< kz_buckets defaults for blackhole: 100 tokens, refill 10/s
  double rate_refill_per_s = 10;
  bool rate_limit = true;
};

struct bh_outcome {
  bool close = false;   ///< invalid JSON: the socket process crashes and the connection closes
  nlohmann::json reply;  ///< the reply frame (when !close)
};

/// Processes one client text frame.
bh_outcome handle_request(bh_session& s, std::string_view text, const token_store& tokens,
                          const bh_options& opts, std::int64_t now_ms, std::mt19937_64& rng);

}  // namespace kazoo_sim
