#pragma once
// Per-call state of the tracker. Kept small on purpose (the benchmark target is <= 2 KB per active call):
// only what later events need, never the raw JSON of past events.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kazoo_bridge::calls::detail {

/// One channel (SIP leg) of a call.
struct leg_state {
  std::string id;          ///< the leg's Call-ID
  std::string link;        ///< the leg it hangs off: member_call_id, loopback partner, bridge_id, other_leg
  std::string owner_id;    ///< user of the leg: CCV owner_id / agent_id (device owner resolved lazily)
  std::string device_id;   ///< CCV authorizing_id when authorizing_type is "device"
  std::string callee_number, callee_name;  ///< callee_id_* (who a B-leg rings)
  std::int64_t created_ms = 0, answered_ms = 0, destroyed_ms = 0;
  bool seen = false;       ///< at least one event of this very leg arrived (placeholders are not seen)
  bool answered = false, destroyed = false;
  bool loopback = false;   ///< channel_is_loopback
  bool offnet = false;     ///< resource_type offnet-termination (a carrier leg)
  bool agent = false;      ///< ACDc agent leg (agent_id CCV)
  bool referred = false;   ///< CCV referred_by: created by a blind transfer (§3.4)
  bool retriever = false;  ///< the phone that picked the call up from a parking slot
  bool ring_emitted = false, answer_emitted = false;
  std::vector<std::uint64_t> seen_msgs;  ///< hashes of event_name+msg_id already applied (dedupe)
};

/// One logical call.
struct call_state {
  std::string key;         ///< logical call id (= the root leg's Call-ID)
  std::string account_id;
  std::string direction;   ///< inbound|outbound|internal ("" until known)
  std::string origin;      ///< ""|click_to_call|quickcall
  std::string from_number, from_name, to_number, to_name;
  std::string from_user_id;  ///< the internal caller (device A-leg owner)
  std::string user_id;       ///< the user the call is about now
  std::string hangup_cause, recording, park_slot, queue_id, end_reason, end_detail;
  std::int64_t started_ms = 0, answered_ms = 0, ended_ms = 0, last_activity_ms = 0;
  std::int64_t duration_s = -1;  ///< the root leg's duration_seconds, -1 = unknown
  bool direction_fixed = false;  ///< direction decided by strong evidence (carrier/c2c/quickcall)
  bool pending = false;          ///< feature-code call (*4101...): started only if it rings someone
  bool started = false, ended = false, answered = false;
  bool held = false, parked = false, queue_entered = false, queue_answered = false;
  bool retrieve_pending = false;  ///< PARK_RETRIEVED seen from the parked side, retriever not known yet
  bool dirty = false;             ///< listed in engine::dirty_ (its record is due at the next flush)
  int holds = 0, unholds = 0, parks = 0, transfers = 0;
  std::vector<leg_state> legs;

  leg_state* find_leg(const std::string& id);
  const leg_state* root() const;  ///< the leg whose Call-ID is the key
};

/// call_record::state: JSON text of everything restore() needs (read back by from_json).
std::string state_text(const call_state& c);
bool from_json(const nlohmann::json& j, call_state& c);

}  // namespace kazoo_bridge::calls::detail
