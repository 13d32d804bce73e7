#pragma once
/// Crossbar rows the tracker uses for reconciliation after a reconnect (§5.3 channels, §5.6 CDRs, §5.8).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kazoo_bridge::calls {

/// A row of GET /v2/accounts/{id}/channels (§5.3).
struct live_channel {
  std::string uuid, direction;  ///< direction relative to FreeSWITCH ("inbound" = A-leg)
  bool answered = false;
  std::string authorizing_id, authorizing_type, owner_id, destination, other_leg, presence_id, username;
  std::int64_t timestamp = 0;   ///< Gregorian seconds (0 when absent)
  std::string account_id;
  std::string bridge_id, interaction_id;  ///< when the row carries them (else empty)
  std::string caller_id_number, caller_id_name;
  nlohmann::json raw;           ///< the row as received
};

/// A row of GET /v2/accounts/{id}/cdrs (§5.6); many numbers arrive as strings, both are accepted.
struct cdr {
  std::string call_id, interaction_id, bridge_id, other_leg_call_id, owner_id, authorizing_id;
  std::string authorizing_type, resource_type;  ///< from custom_channel_vars when the row has them
  std::string caller_id_name, caller_id_number, callee_id_name, callee_id_number;
  std::string direction, hangup_cause, disposition, request, to, from, recording_url;
  std::int64_t duration_seconds = 0, billing_seconds = 0;
  std::int64_t ended_unix_s = 0;  ///< unix_timestamp, else the Gregorian `timestamp` converted (string or int)
  std::vector<std::string> media_recordings;
  nlohmann::json raw;             ///< the row as received
};

live_channel live_channel_from_json(const nlohmann::json& row, std::string account_id);
cdr cdr_from_json(const nlohmann::json& row);

}  // namespace kazoo_bridge::calls
