#pragma once
// Per-call state of the tracker. Kept small on purpose (the benchmark target is <= 2 KB per active call):
// only what later events need, never the raw JSON of past events.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calls/pooled_id.hpp"

namespace kazoo_bridge::calls::detail {

/// The last few event hashes (event_name+msg_id) applied to a leg. Duplicates come from two bindings
/// matching one event (§1.4) and arrive back to back, so the last 4 are enough. Inline, because
/// a heap vector per leg cost more than the hashes it held.
class recent_msgs {
 public:
  static constexpr std::size_t capacity = 4;
  bool contains(std::uint64_t h) const {
    for (std::size_t i = 0; i < n_; ++i) {
      if (h_[i] == h) return true;
    }
    return false;
  }
  void add(std::uint64_t h) {
    h_[next_] = h;
    next_ = static_cast<std::uint8_t>((next_ + 1) % capacity);
    if (n_ < capacity) ++n_;
  }
  /// Oldest first (the order add() saw them), for the restore state.
  std::vector<std::uint64_t> list() const {
    std::vector<std::uint64_t> v;
    for (std::size_t i = 0; i < n_; ++i) v.push_back(h_[(next_ + capacity - n_ + i) % capacity]);
    return v;
  }
  bool empty() const { return n_ == 0; }

 private:
  std::array<std::uint64_t, capacity> h_{};
  std::uint8_t n_ = 0, next_ = 0;
};

/// One channel (SIP leg) of a call.
struct leg_state {
  std::string id;          ///< the leg's Call-ID
  std::string link;        ///< the leg it hangs off: member_call_id, loopback partner, bridge_id, other_leg
  pooled_id owner_id;      ///< user of the leg: CCV owner_id / agent_id (device owner resolved lazily)
  pooled_id device_id;     ///< CCV authorizing_id when authorizing_type is "device"
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
  recent_msgs seen_msgs;   ///< hashes of event_name+msg_id already applied (dedupe)
};

/// One logical call.
struct call_state {
  std::string key;         ///< logical call id (= the root leg's Call-ID)
  pooled_id account_id;
  pooled_id direction;     ///< inbound|outbound|internal ("" until known)
  pooled_id origin;        ///< ""|click_to_call|quickcall
  std::string from_number, from_name, to_number, to_name;
  pooled_id from_user_id;    ///< the internal caller (device A-leg owner)
  pooled_id user_id;         ///< the user the call is about now
  pooled_id hangup_cause;    ///< a Q.850/FreeSWITCH cause name: a small set
  std::string recording;     ///< a media name: one per call
  pooled_id park_slot, queue_id, end_reason;
  pooled_id end_detail;      ///< one of a few fixed texts ("closed after 4 hours without a hang-up"...)
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
