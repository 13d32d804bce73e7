// call_record::state: everything restore() needs to continue a call after a restart.

#include "calls/state.hpp"

#include <algorithm>
#include <initializer_list>
#include <type_traits>

#include "calls/json_text.hpp"

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

// Written straight to text, not through a DOM: a call's record is rendered once per batch that touched
// it, which at the benchmark's rates is most batches (bench/README.md "ingest CPU"). Empty strings, zero
// times and empty lists are left out: restore() defaults them, and the state stays small.
class state_writer {
 public:
  explicit state_writer(std::string& out) : out_(out) { out_ += '{'; }
  void str(const char* key, const std::string& v) {
    if (v.empty()) return;
    name(key);
    append_json_string(out_, v);
  }
  void num(const char* key, std::int64_t v) {
    if (v == 0) return;
    name(key);
    append_number(out_, v);
  }
  template <class T>
  void list(const char* key, std::initializer_list<T> values) {
    name(key);
    out_ += '[';
    bool first = true;
    for (const auto& v : values) {
      if (!first) out_ += ',';
      first = false;
      if constexpr (std::is_same_v<T, bool>) {
        out_ += v ? "true" : "false";
      } else {
        append_number(out_, static_cast<std::int64_t>(v));
      }
    }
    out_ += ']';
  }
  void hashes(const char* key, const std::vector<std::uint64_t>& v) {
    if (v.empty()) return;
    name(key);
    out_ += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out_ += ',';
      append_number(out_, v[i]);
    }
    out_ += ']';
  }
  void name(const char* key) {
    if (out_.back() != '{' && out_.back() != '[') out_ += ',';
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
};

void write_leg(std::string& out, const leg_state& l) {
  state_writer w(out);
  w.str("id", l.id);
  w.str("link", l.link);
  w.str("owner_id", l.owner_id);
  w.str("device_id", l.device_id);
  w.str("callee_number", l.callee_number);
  w.str("callee_name", l.callee_name);
  w.num("created_ms", l.created_ms);
  w.num("answered_ms", l.answered_ms);
  w.num("destroyed_ms", l.destroyed_ms);
  w.list("flags", {l.seen, l.answered, l.destroyed, l.loopback, l.offnet, l.agent, l.referred, l.retriever,
                   l.ring_emitted, l.answer_emitted});
  w.hashes("seen_msgs", l.seen_msgs.list());
  w.close();
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

void get(const nlohmann::json& j, const char* key, pooled_id& out) {
  std::string v;
  get(j, key, v);
  if (!v.empty()) out = v;
}

}  // namespace

std::string state_text(const call_state& c) {
  std::string out;
  out.reserve(512 + 256 * c.legs.size());
  state_writer w(out);
  w.num("v", 1);
  w.str("key", c.key);
  w.str("account_id", c.account_id);
  w.str("direction", c.direction);
  w.str("origin", c.origin);
  w.str("from_number", c.from_number);
  w.str("from_name", c.from_name);
  w.str("to_number", c.to_number);
  w.str("to_name", c.to_name);
  w.str("from_user_id", c.from_user_id);
  w.str("user_id", c.user_id);
  w.str("hangup_cause", c.hangup_cause);
  w.str("recording", c.recording);
  w.str("park_slot", c.park_slot);
  w.str("queue_id", c.queue_id);
  w.str("end_reason", c.end_reason);
  w.str("end_detail", c.end_detail);
  w.num("started_ms", c.started_ms);
  w.num("answered_ms", c.answered_ms);
  w.num("ended_ms", c.ended_ms);
  w.num("last_activity_ms", c.last_activity_ms);
  w.num("duration_s", c.duration_s);
  w.list("flags", {c.direction_fixed, c.pending, c.started, c.ended, c.answered, c.held, c.parked, c.queue_entered,
                   c.queue_answered, c.retrieve_pending});
  w.list("counters", {c.holds, c.unholds, c.parks, c.transfers});
  w.name("legs");
  out += '[';
  for (std::size_t i = 0; i < c.legs.size(); ++i) {
    if (i) out += ',';
    write_leg(out, c.legs[i]);
  }
  out += ']';
  w.close();
  return out;
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
    std::vector<std::uint64_t> seen;
    get(lj, "seen_msgs", seen);
    for (auto h : seen) l.seen_msgs.add(h);
    if (!l.id.empty()) c.legs.push_back(std::move(l));
  }
  return !c.key.empty() && !c.account_id.empty();
}

}  // namespace kazoo_bridge::calls::detail
