// call_record::state: everything restore() needs to continue a call after a restart.

#include "calls/state.hpp"

#include <algorithm>

namespace kazoo_bridge::calls::detail {

leg_state* call_state::find_leg(const std::string& id) {
  auto it = std::find_if(legs.begin(), legs.end(), [&](const leg_state& l) { return l.id == id; });
  return it == legs.end() ? nullptr : &*it;
}

const leg_state* call_state::root() const {
  auto it = std::find_if(legs.begin(), legs.end(), [&](const leg_state& l) { return l.id == key; });
  return it == legs.end() ? nullptr : &*it;
}

namespace {

// Empty strings and zero times are left out: restore() defaults them, and the state stays small.
void prune(nlohmann::json& j) {
  for (auto it = j.begin(); it != j.end();) {
    const bool empty = (it->is_string() && it->get_ref<const std::string&>().empty()) ||
                       (it->is_number_integer() && it->get<std::int64_t>() == 0) || (it->is_array() && it->empty());
    it = empty ? j.erase(it) : std::next(it);
  }
}

nlohmann::json leg_json(const leg_state& l) {
  nlohmann::json j = {{"id", l.id},
          {"link", l.link},
          {"owner_id", l.owner_id},
          {"device_id", l.device_id},
          {"callee_number", l.callee_number},
          {"callee_name", l.callee_name},
          {"created_ms", l.created_ms},
          {"answered_ms", l.answered_ms},
          {"destroyed_ms", l.destroyed_ms},
          {"flags",
           {l.seen, l.answered, l.destroyed, l.loopback, l.offnet, l.agent, l.referred, l.retriever, l.ring_emitted,
            l.answer_emitted}},
          {"seen_msgs", l.seen_msgs}};
  prune(j);
  return j;
}

template <class T>
void get(const nlohmann::json& j, const char* key, T& out) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) {
    try {
      out = it->get<T>();
    } catch (const nlohmann::json::exception&) {
      // a state written by another version: keep the default (boundary rule B.4)
    }
  }
}

}  // namespace

nlohmann::json to_json(const call_state& c) {
  nlohmann::json legs = nlohmann::json::array();
  for (const auto& l : c.legs) legs.push_back(leg_json(l));
  nlohmann::json j = {{"v", 1},
          {"key", c.key},
          {"account_id", c.account_id},
          {"direction", c.direction},
          {"origin", c.origin},
          {"from_number", c.from_number},
          {"from_name", c.from_name},
          {"to_number", c.to_number},
          {"to_name", c.to_name},
          {"from_user_id", c.from_user_id},
          {"user_id", c.user_id},
          {"hangup_cause", c.hangup_cause},
          {"recording", c.recording},
          {"park_slot", c.park_slot},
          {"queue_id", c.queue_id},
          {"end_reason", c.end_reason},
          {"end_detail", c.end_detail},
          {"started_ms", c.started_ms},
          {"answered_ms", c.answered_ms},
          {"ended_ms", c.ended_ms},
          {"last_activity_ms", c.last_activity_ms},
          {"duration_s", c.duration_s},
          {"flags",
           {c.direction_fixed, c.pending, c.started, c.ended, c.answered, c.held, c.parked, c.queue_entered,
            c.queue_answered, c.retrieve_pending}},
          {"counters", {c.holds, c.unholds, c.parks, c.transfers}},
          {"legs", legs}};
  prune(j);
  return j;
}

bool from_json(const nlohmann::json& j, call_state& c) {
  if (!j.is_object() || !j.contains("key") || !j.contains("legs") || !j["legs"].is_array()) return false;
  get(j, "key", c.key);
  get(j, "account_id", c.account_id);
  get(j, "direction", c.direction);
  get(j, "origin", c.origin);
  get(j, "from_number", c.from_number);
  get(j, "from_name", c.from_name);
  get(j, "to_number", c.to_number);
  get(j, "to_name", c.to_name);
  get(j, "from_user_id", c.from_user_id);
  get(j, "user_id", c.user_id);
  get(j, "hangup_cause", c.hangup_cause);
  get(j, "recording", c.recording);
  get(j, "park_slot", c.park_slot);
  get(j, "queue_id", c.queue_id);
  get(j, "end_reason", c.end_reason);
  get(j, "end_detail", c.end_detail);
  get(j, "started_ms", c.started_ms);
  get(j, "answered_ms", c.answered_ms);
  get(j, "ended_ms", c.ended_ms);
  get(j, "last_activity_ms", c.last_activity_ms);
  get(j, "duration_s", c.duration_s);
  std::vector<bool> f;
  get(j, "flags", f);
  f.resize(10, false);
  c.direction_fixed = f[0];
  c.pending = f[1];
  c.started = f[2];
  c.ended = f[3];
  c.answered = f[4];
  c.held = f[5];
  c.parked = f[6];
  c.queue_entered = f[7];
  c.queue_answered = f[8];
  c.retrieve_pending = f[9];
  std::vector<int> n;
  get(j, "counters", n);
  n.resize(4, 0);
  c.holds = n[0];
  c.unholds = n[1];
  c.parks = n[2];
  c.transfers = n[3];
  for (const auto& lj : j["legs"]) {
    if (!lj.is_object()) continue;
    leg_state l;
    get(lj, "id", l.id);
    get(lj, "link", l.link);
    get(lj, "owner_id", l.owner_id);
    get(lj, "device_id", l.device_id);
    get(lj, "callee_number", l.callee_number);
    get(lj, "callee_name", l.callee_name);
    get(lj, "created_ms", l.created_ms);
    get(lj, "answered_ms", l.answered_ms);
    get(lj, "destroyed_ms", l.destroyed_ms);
    std::vector<bool> lf;
    get(lj, "flags", lf);
    lf.resize(10, false);
    l.seen = lf[0];
    l.answered = lf[1];
    l.destroyed = lf[2];
    l.loopback = lf[3];
    l.offnet = lf[4];
    l.agent = lf[5];
    l.referred = lf[6];
    l.retriever = lf[7];
    l.ring_emitted = lf[8];
    l.answer_emitted = lf[9];
    get(lj, "seen_msgs", l.seen_msgs);
    if (!l.id.empty()) c.legs.push_back(std::move(l));
  }
  return !c.key.empty() && !c.account_id.empty();
}

}  // namespace kazoo_bridge::calls::detail
