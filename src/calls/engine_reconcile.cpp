// Reconciliation after a (re)connect (reference/kazoo.md §1.7 "no replay", §5.8): blackhole loses every
// event of the disconnected period, so live channels and CDRs are turned back into events. Rows are
// replayed as synthetic channel events through the same correlation code, so ids stay deterministic and a
// second reconcile finds everything known (no duplicates).

#include "calls/engine.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::calls::detail {
namespace {

using nlohmann::json;

json row_ccvs(const std::string& account, const std::string& owner, const std::string& auth_id,
              const std::string& auth_type, const std::string& bridge_id) {
  json ccv = json::object();
  ccv["account_id"] = account;
  if (!owner.empty()) ccv["owner_id"] = owner;
  if (!auth_id.empty() && !auth_type.empty()) {
    ccv["authorizing_id"] = auth_id;
    ccv["authorizing_type"] = auth_type;
  }
  if (!bridge_id.empty()) ccv["bridge_id"] = bridge_id;
  return ccv;
}

std::string us(std::int64_t ms) { return std::to_string(ms * 1000); }

// When a live channel was created (its Gregorian `timestamp`, whole seconds), or `now_ms` without one.
std::int64_t created_ms(const live_channel& ch, std::int64_t now_ms) {
  return ch.timestamp > gregorian_unix_offset_s ? gregorian_to_unix_s(ch.timestamp) * 1000 : now_ms;
}

// An unknown live channel created this recently before the snapshot waits for its own frames, this long.
// A frame read after the subscribe but queued behind the reconciliation reaches the tracker within
// milliseconds; 2 s leaves room for a busy ingest queue without delaying a truly lost call much.
constexpr std::int64_t live_defer_window_ms = 5000;
constexpr std::int64_t live_defer_wait_ms = 2000;

// One CDR row as the channel events it stands for: CREATE, ANSWER when a person talked (billing > 0),
// DESTROY with the hang-up data. `key` is the call's logical id (bridge_id), `root_id` its A-leg.
std::vector<std::pair<std::string, json>> cdr_events(const std::string& account, const cdr& r, bool is_root,
                                                     const std::string& key, const std::string& root_id,
                                                     std::int64_t now_ms) {
  std::vector<std::pair<std::string, json>> evs;
  const std::int64_t ended = (r.ended_unix_s > 0 ? r.ended_unix_s * 1000 : now_ms);
  const std::int64_t created = ended - r.duration_seconds * 1000;
  json d = json::object();
  d["call_id"] = r.call_id;
  d["call_direction"] = is_root ? "inbound" : "outbound";
  if (!is_root) d["other_leg_call_id"] = r.other_leg_call_id.empty() ? root_id : r.other_leg_call_id;
  d["caller_id_number"] = r.caller_id_number;
  d["caller_id_name"] = r.caller_id_name;
  d["callee_id_number"] = r.callee_id_number;
  d["callee_id_name"] = r.callee_id_name;
  d["request"] = r.request.empty() ? r.to : r.request;
  // CDR authorizing_id is "" when it equals the account (§5.6): a carrier leg has neither.
  // The summary row has authorizing_id but not its type: with an owner it is a phone.
  const auto auth_type = !r.authorizing_type.empty() ? r.authorizing_type
                                                     : (r.owner_id.empty() ? std::string{} : "device");
  d["custom_channel_vars"] = row_ccvs(account, r.owner_id, auth_type.empty() ? std::string{} : r.authorizing_id,
                                      auth_type, is_root ? std::string{} : key);
  if (!r.resource_type.empty()) d["custom_channel_vars"]["resource_type"] = r.resource_type;
  d["channel_created_time"] = created * 1000;
  d["msg_id"] = us(created);
  evs.emplace_back("CHANNEL_CREATE", d);
  if (r.billing_seconds > 0 && r.disposition != "ORIGINATOR_CANCEL") {
    auto a = d;
    a["msg_id"] = us(ended - r.billing_seconds * 1000);
    evs.emplace_back("CHANNEL_ANSWER", a);
  }
  auto x = d;
  x["msg_id"] = us(ended);
  x["hangup_cause"] = r.hangup_cause;
  x["duration_seconds"] = r.duration_seconds;
  x["billing_seconds"] = r.billing_seconds;
  if (!r.media_recordings.empty()) x["media_recordings"] = r.media_recordings;
  evs.emplace_back("CHANNEL_DESTROY", x);
  return evs;
}

void by_msg_id(std::vector<std::pair<std::string, json>>& evs) {
  std::stable_sort(evs.begin(), evs.end(), [](const auto& a, const auto& b) {
    return jint(a.second, "msg_id", 0) < jint(b.second, "msg_id", 0);
  });
}

}  // namespace

void engine::replay(const std::string& account, std::vector<std::pair<std::string, json>> events, const json& raw,
                    step& s) {
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return jint(a.second, "channel_created_time", 0) < jint(b.second, "channel_created_time", 0);
  });
  s.raw = &raw;
  for (auto& [name, d] : events) {
    const auto call_id = jstr(d, "call_id");
    if (tombstones_.contains(map_key(account, call_id))) continue;
    const auto t = jint(d, "msg_id", s.now_ms * 1000) / 1000;
    on_channel(account, call_id, d, s, t, 0, name);
  }
  s.raw = nullptr;
}

void engine::start_from_live(const std::string& account, const live_channel& ch, step& s) {
  const std::int64_t now_ms = s.now_ms;
  const std::int64_t created = created_ms(ch, now_ms);
  json d = json::object();
  d["call_id"] = ch.uuid;
  d["call_direction"] = ch.direction;
  if (!ch.other_leg.empty()) d["other_leg_call_id"] = ch.other_leg;
  if (!ch.destination.empty()) d["request"] = ch.destination;
  if (!ch.caller_id_number.empty()) d["caller_id_number"] = ch.caller_id_number;
  if (!ch.caller_id_name.empty()) d["caller_id_name"] = ch.caller_id_name;
  d["custom_channel_vars"] = row_ccvs(account, ch.owner_id, ch.authorizing_id, ch.authorizing_type, ch.bridge_id);
  d["channel_created_time"] = created * 1000;
  d["msg_id"] = us(created);
  std::vector<std::pair<std::string, json>> evs{{"CHANNEL_CREATE", d}};
  if (ch.answered) {
    auto a = d;
    a["msg_id"] = us(std::max(created, now_ms));
    evs.emplace_back("CHANNEL_ANSWER", a);
  }
  replay(account, std::move(evs), ch.raw, s);
  finish(s);
}

void engine::start_deferred(step& s) {
  if (deferred_.empty()) return;
  // Roots (FreeSWITCH-inbound legs) first so B-legs find them, as in reconcile().
  std::stable_sort(deferred_.begin(), deferred_.end(), [](const deferred_live& a, const deferred_live& b) {
    return (a.channel.direction == "inbound") > (b.channel.direction == "inbound");
  });
  std::vector<deferred_live> waiting;
  const bool quiet = s.quiet_ringing;
  s.quiet_ringing = true;  // like every reconciled channel: the ringing moment is not known
  for (auto& q : deferred_) {
    if (q.due_ms > s.now_ms) {
      waiting.push_back(std::move(q));
      continue;
    }
    const auto k = map_key(q.account, q.channel.uuid);
    if (legs_.contains(k) || tombstones_.contains(k)) continue;  // its frames came: nothing to do
    start_from_live(q.account, q.channel, s);
  }
  s.quiet_ringing = quiet;
  deferred_ = std::move(waiting);
}

void engine::reconcile(const std::string& account, const std::vector<live_channel>& live,
                       const std::vector<cdr>& cdrs, std::int64_t now_ms, tracker_output& out) {
  step s{out, now_ms, nullptr, {}};
  s.quiet_ringing = true;
  std::set<std::string> live_ids;
  for (const auto& ch : live) {
    if (ch.account_id.empty() || ch.account_id == account) live_ids.insert(ch.uuid);
  }

  // 1. Tracked calls: gone from the switch => ended (once), with the CDR's data when there is one.
  // By key, not pointer: replaying CDRs below may merge (and so delete) calls of this list.
  std::vector<std::string> mine;
  for (auto& [k, c] : calls_) {
    if (c->account_id == account && !c->ended) mine.push_back(k);
  }
  for (const auto& k : mine) {
    auto found = calls_.find(k);
    if (found == calls_.end() || found->second->ended) continue;
    call_state* c = found->second.get();
    const bool any_live =
        std::any_of(c->legs.begin(), c->legs.end(), [&](const leg_state& l) { return live_ids.contains(l.id); });
    if (any_live) {
      // Part of the call is still up, but legs of it may have been answered and ended while we were away
      // (a person answered, then parked or transferred the caller): their CDRs tell it, replayed as
      // events so that call.answered (and not call.missed) follows.
      std::vector<std::pair<std::string, json>> evs;
      const json* raw = nullptr;
      for (const auto& row : cdrs) {
        if (live_ids.contains(row.call_id)) continue;
        const auto* l = c->find_leg(row.call_id);
        const bool ours = l || (!row.bridge_id.empty() && row.bridge_id == c->key);
        if (!ours || (l && l->destroyed)) continue;
        auto more = cdr_events(account, row, row.call_id == c->key, c->key, c->key, now_ms);
        evs.insert(evs.end(), more.begin(), more.end());
        raw = &row.raw;
      }
      by_msg_id(evs);
      const auto key = c->key;
      for (auto& ev : evs) replay(account, {ev}, raw ? *raw : json(nullptr), s);
      c = call_of_leg(account, key);  // replaying may have merged calls
      if (!c || c->ended) continue;
      for (auto& l : c->legs) {
        if (l.seen && !l.destroyed && !live_ids.contains(l.id)) {
          l.destroyed = true;
          l.destroyed_ms = now_ms;
        }
      }
      touch(s, *c);
      continue;
    }
    const cdr* root = nullptr;
    for (const auto& row : cdrs) {
      const bool ours = c->find_leg(row.call_id) || (!row.bridge_id.empty() && row.bridge_id == c->key);
      if (!ours) continue;
      if (row.call_id == c->key) root = &row;
      // A person answered while we were away: an answered B-leg (billing > 0) that is not the A-leg.
      if (row.call_id != c->key && row.billing_seconds > 0 && row.ended_unix_s > 0) {
        auto* l = c->find_leg(row.call_id);
        const bool destination = !l || role_of(*c, *l) == role::destination;
        if (destination && !c->answered) {
          c->answered = true;
          c->answered_ms = (row.ended_unix_s - row.billing_seconds) * 1000;
          if (!row.owner_id.empty()) c->user_id = row.owner_id;
          // The answer a Zap on call.answered waits for, as it would have come live (same id).
          s.raw = &row.raw;
          emit(*c, s, "call.answered", l, c->answered_ms, row.call_id, row.owner_id);
          s.raw = nullptr;
        }
      }
      if (!row.media_recordings.empty() && c->recording.empty()) c->recording = row.media_recordings.front();
      if (!row.recording_url.empty()) c->recording = row.recording_url;
    }
    if (root) {
      c->hangup_cause = root->hangup_cause;
      c->duration_s = root->duration_seconds;
      if (root->ended_unix_s > 0) c->ended_ms = root->ended_unix_s * 1000;
    } else {
      c->hangup_cause.clear();
    }
    for (auto& l : c->legs) {
      if (!l.destroyed) {
        l.destroyed = true;
        l.destroyed_ms = c->ended_ms > 0 ? c->ended_ms : now_ms;
      }
    }
    s.raw = root ? &root->raw : nullptr;
    end_call(*c, s, "reconciled", root ? std::string{} : "ended while the event feed was disconnected");
    s.raw = nullptr;
  }
  finish(s);

  // 2. Live channels we do not know: calls that started while we were away. Roots (FreeSWITCH-inbound
  // legs) first so B-legs find them.
  std::vector<const live_channel*> unknown;
  for (const auto& ch : live) {
    if (ch.uuid.empty() || (!ch.account_id.empty() && ch.account_id != account)) continue;
    if (legs_.contains(map_key(account, ch.uuid)) || tombstones_.contains(map_key(account, ch.uuid))) continue;
    unknown.push_back(&ch);
  }
  std::stable_sort(unknown.begin(), unknown.end(), [](const live_channel* a, const live_channel* b) {
    return (a->direction == "inbound") > (b->direction == "inbound");
  });
  for (const auto* ch : unknown) {
    const std::int64_t created = created_ms(*ch, now_ms);
    // `timestamp` has whole seconds: "created within the last few seconds" covers frames still in flight.
    if (now_ms - created <= live_defer_window_ms) {
      const bool queued = std::any_of(deferred_.begin(), deferred_.end(), [&](const deferred_live& q) {
        return q.channel.uuid == ch->uuid && q.account == account;
      });
      if (!queued) deferred_.push_back({account, *ch, now_ms + live_defer_wait_ms});
      continue;
    }
    start_from_live(account, *ch, s);
  }

  // 3. CDR-only calls: started and ended while we were away (a missed call must still reach the user).
  std::map<std::string, std::vector<const cdr*>> groups;
  for (const auto& row : cdrs) {
    if (row.call_id.empty()) continue;
    groups[row.bridge_id.empty() ? row.call_id : row.bridge_id].push_back(&row);
  }
  for (auto& [key, rows] : groups) {
    const bool known = std::any_of(rows.begin(), rows.end(), [&](const cdr* r) {
      for (const auto& id : {r->call_id, r->bridge_id}) {
        if (id.empty()) continue;
        auto k = map_key(account, id);
        if (legs_.contains(k) || tombstones_.contains(k) || live_ids.contains(id)) return true;
      }
      return false;
    });
    if (known) continue;
    const cdr* root = rows.front();
    for (const auto* r : rows) {
      if (r->call_id == key) root = r;
    }
    std::vector<std::pair<std::string, json>> evs;
    for (const auto* r : rows) {
      auto more = cdr_events(account, *r, r == root, key, root->call_id, now_ms);
      evs.insert(evs.end(), more.begin(), more.end());
    }
    by_msg_id(evs);
    // replay() sorts by created time; keep the msg_id order instead by feeding one by one.
    for (auto& ev : evs) replay(account, {ev}, root->raw, s);
    if (auto* c = call_of_leg(account, root->call_id); c && !root->recording_url.empty()) c->recording = root->recording_url;
    finish(s);
  }
}

}  // namespace kazoo_bridge::calls::detail
