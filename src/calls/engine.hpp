#pragma once
// The tracker's implementation (private). See include/kazoo_bridge/calls/tracker.hpp for the contract and
// reference/kazoo.md §3.2 for the correlation algorithm this follows.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <kazoo_bridge/calls/tracker.hpp>

#include "calls/state.hpp"

namespace kazoo_bridge::calls::detail {

enum class role { root, destination, originator, retriever };

/// What one tracker step (event, tick, reconcile) collects.
struct step {
  step(tracker_output& o, std::int64_t now, const nlohmann::json* r, std::shared_ptr<const std::string> text)
      : out(o), now_ms(now), raw(r), raw_text(std::move(text)) {}

  tracker_output& out;
  std::int64_t now_ms;
  const nlohmann::json* raw;  ///< the Kazoo object behind the events of this step (null if none)
  /// ...or its text as received (a frame's data_text), preferred over `raw`: no copy, no re-rendering.
  std::shared_ptr<const std::string> raw_text;
  std::vector<std::string> changed;  ///< map keys of calls touched
  /// Reconciliation replays what Crossbar shows as events; it reports started/answered/ended/missed
  /// only (§5.8), not the ringing it cannot time.
  bool quiet_ringing = false;
};

class engine {
 public:
  explicit engine(tracker_options o) : opts_(o) {}

  void set_directory(std::string account_id, std::shared_ptr<const directory> d);
  void on_event(const frame& f, std::int64_t now_ms, tracker_output& out);
  void on_tick(std::int64_t now_ms, tracker_output& out);
  void reconcile(const std::string& account_id, const std::vector<live_channel>& live,
                 const std::vector<cdr>& cdrs, std::int64_t now_ms, tracker_output& out);
  void flush(std::int64_t now_ms, tracker_output& out);
  void restore(const call_record& r);
  void remember_ended(const std::string& account_id, const std::string& call_id, std::int64_t now_ms);
  std::size_t active_calls() const { return calls_.size(); }

 private:
  // --- correlation (engine.cpp)
  call_state* call_of_leg(const std::string& account, const std::string& leg_id);
  call_state& new_call(const std::string& account, const std::string& key);
  leg_state& add_leg(call_state& c, const std::string& leg_id, const std::string& link);
  call_state* merge(call_state& a, call_state& b, step& s);  ///< returns the survivor
  void on_channel(const std::string& account, const std::string& call_id, const nlohmann::json& d, step& s,
                  std::int64_t t, std::uint64_t msg_hash, const std::string& name);
  void on_park(const std::string& account, const std::string& call_id, const nlohmann::json& d, step& s,
               std::int64_t t, std::uint64_t msg_hash, const std::string& name);
  std::pair<call_state*, leg_state*> locate(const std::string& account, const std::string& call_id,
                                            const nlohmann::json& d, step& s);
  void update_leg(call_state& c, leg_state& l, const std::string& name, const nlohmann::json& d, std::int64_t t);
  void classify_root(call_state& c, const leg_state& l, const nlohmann::json& d);
  void retrieve(call_state& parked, leg_state* retriever, step& s, std::int64_t t);
  void finish(step& s);
  void forget(call_state& c, std::int64_t now_ms);
  void touch(step& s, const call_state& c);

  // --- emission (engine_emit.cpp)
  bool visible(const call_state& c) const;
  role role_of(const call_state& c, const leg_state& l) const;
  std::string leg_user(const call_state& c, const leg_state& l) const;
  const directory* dir(const std::string& account) const;
  void advance(call_state& c, step& s, bool force_start = false);
  void check_end(call_state& c, step& s);
  void end_call(call_state& c, step& s, const std::string& reason, const std::string& detail);
  void emit(call_state& c, step& s, const std::string& type, const leg_state* l, std::int64_t t,
            const std::string& discriminator, const std::string& user_override = {});
  /// The payload keys describing the call now (design.md), handed to `sink` in sorted key order.
  template <class Sink>
  void describe(const call_state& c, Sink& sink) const;
  nlohmann::json snapshot(const call_state& c) const;  ///< describe() as a DOM, plus summary = null
  std::string snapshot_text(const call_state& c) const;  ///< describe() as compact JSON text
  call_record record(const call_state& c, std::int64_t now_ms) const;

  // --- Qubicle queues (engine_qubicle.cpp)
  void on_qubicle(const frame& f, std::int64_t now_ms, tracker_output& out);

  // --- reconciliation (engine_reconcile.cpp)
  void replay(const std::string& account, std::vector<std::pair<std::string, nlohmann::json>> events,
              const nlohmann::json& raw, step& s);
  /// A live channel unknown to the tracker becomes a call (CREATE, and ANSWER when answered).
  void start_from_live(const std::string& account, const live_channel& ch, step& s);
  /// Deferred live channels whose wait is over and whose frames never came: started from the snapshot.
  void start_deferred(step& s);

  /// A channel the /channels snapshot shows but no frame has named yet, created moments before the
  /// snapshot: its first frames are most likely still on their way (the snapshot is taken after the
  /// subscribe, so they will come). Started from the snapshot only if they do not come in time, so a
  /// call that rings right at a reconnect keeps its live call.ringing and exact times.
  struct deferred_live {
    std::string account;
    live_channel channel;
    std::int64_t due_ms = 0;
  };
  std::vector<deferred_live> deferred_;

  tracker_options opts_;
  std::unordered_map<std::string, std::shared_ptr<const directory>> dirs_;
  std::unordered_map<std::string, std::unique_ptr<call_state>> calls_;  ///< account/key
  std::unordered_map<std::string, call_state*> legs_;                   ///< account/leg id
  std::unordered_map<std::string, std::string> slots_;                  ///< account/slot -> account/key
  std::unordered_map<std::string, std::int64_t> tombstones_;            ///< account/leg id -> expiry
  std::int64_t next_tombstone_sweep_ms_ = 0;
  std::vector<std::string> dirty_;  ///< map keys of calls in progress changed since the last flush
};

/// The key of a call, leg, slot or tombstone in the engine's maps: 15 bytes (so std::string keeps it
/// inline, no heap block) of two independent 64-bit hashes of (the account's pooled identity, id). Keys
/// are only compared, never parsed. A wrong match needs both hashes to collide on 120 bits: far less
/// likely than a hardware error. With "account/id" strings the keys were a third of a call's memory
/// (3 to 4 map entries per call in progress, 80-byte heap blocks each).
inline std::string map_key(const pooled_id& account, std::string_view id) {
  const auto token = reinterpret_cast<std::uintptr_t>(&account.str());
  // FNV-1a 64 and a second FNV-1a with another basis, each finished with the splitmix64 mixer.
  std::uint64_t a = 1469598103934665603ULL ^ token, b = 0x9E3779B97F4A7C15ULL ^ (token * 0xBF58476D1CE4E5B9ULL);
  for (char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    a = (a ^ c) * 1099511628211ULL;
    b = (b ^ c) * 0x100000001B3ULL + 0x632BE59BD9B4E019ULL;
  }
  auto mix = [](std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
  };
  a = mix(a);
  b = mix(b);
  std::string k(15, '\0');
  std::memcpy(k.data(), &a, 8);
  std::memcpy(k.data() + 8, &b, 7);
  return k;
}

// JSON helpers shared by the engine files.
std::string jstr(const nlohmann::json& o, const char* key);
bool jtrue(const nlohmann::json& o, const char* key);
std::int64_t jint(const nlohmann::json& o, const char* key, std::int64_t fallback);
const nlohmann::json& ccvs_of(const nlohmann::json& d);
std::string user_part(const std::string& uri);

}  // namespace kazoo_bridge::calls::detail
