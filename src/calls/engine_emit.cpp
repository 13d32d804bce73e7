// Turning call state into lifecycle events. Emission is state-driven: after every update, advance()
// emits what the call's legs now justify and was not emitted yet, so events that arrive out of order
// (ANSWER before CREATE, a B-leg before its A-leg, §3.2 item 5) still give the same sequence.

#include "calls/engine.hpp"
#include "calls/json_text.hpp"

#include <algorithm>
#include <numeric>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::calls::detail {

const directory* engine::dir(const std::string& account) const {
  auto it = dirs_.find(account);
  return it == dirs_.end() ? nullptr : it->second.get();
}

bool engine::visible(const call_state& c) const {
  return !c.pending && !(c.direction == "internal" && !opts_.include_internal_calls);
}

role engine::role_of(const call_state& c, const leg_state& l) const {
  if (l.id == c.key) return role::root;
  if (l.retriever) return role::retriever;
  // Loopback legs are plumbing (click-to-call, on-net calls), never a destination (§3.1).
  if (l.loopback) return role::originator;
  // Click-to-call/quickcall: the user's own phone is the set-up of the call; the destination is the leg
  // the originated leg itself is bridged to (its bridge_id = the originated Call-ID).
  if (!c.origin.empty()) return l.link == c.key ? role::destination : role::originator;
  return role::destination;
}

std::string engine::leg_user(const call_state& c, const leg_state& l) const {
  if (!l.owner_id.empty()) return l.owner_id;
  if (const auto* d = dir(c.account_id); d && !l.device_id.empty()) {
    if (const auto* u = d->owner_of_device(l.device_id)) return u->id;
  }
  return {};
}

void engine::advance(call_state& c, step& s, bool force_start) {
  if (c.ended) return;
  std::vector<std::size_t> order(c.legs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return c.legs[a].created_ms < c.legs[b].created_ms; });
  auto has_destination = [&] {
    return std::any_of(c.legs.begin(), c.legs.end(),
                       [&](const leg_state& l) { return l.seen && role_of(c, l) == role::destination; });
  };
  if (!c.started) {
    const leg_state* root = c.root();
    if (!force_start && (!root || !root->seen)) return;  // wait for the A-leg: it decides what the call is
    if (c.pending) {
      if (!has_destination()) return;
      c.pending = false;  // the feature-code call rings someone after all
    }
    if (!visible(c)) return;
    if (c.started_ms == 0) {
      for (const auto& l : c.legs) {
        if (l.seen && (c.started_ms == 0 || (l.created_ms > 0 && l.created_ms < c.started_ms))) c.started_ms = l.created_ms;
      }
    }
    c.started = true;
    emit(c, s, "call.started", root && root->seen ? root : nullptr, c.started_ms, {});
  }
  for (auto idx : order) {
    leg_state& l = c.legs[idx];
    if (!l.seen) continue;
    const auto r = role_of(c, l);
    if (r == role::originator) {
      if (c.user_id.empty()) c.user_id = leg_user(c, l);
      continue;
    }
    if (r != role::destination) continue;
    const auto user = leg_user(c, l);
    if (!l.ring_emitted) {
      l.ring_emitted = true;
      if (!c.direction_fixed && c.origin.empty() && c.direction != "inbound") {
        // B-leg to a carrier => outbound, to a phone => internal (§3.3).
        if (l.offnet) {
          c.direction = "outbound";
          c.direction_fixed = true;
        } else if (!user.empty() || !l.device_id.empty()) {
          c.direction = "internal";
          c.direction_fixed = true;
        }
      }
      if (l.agent && !c.queue_entered) {
        // ACDc has no blackhole feed (§4.2): the first agent leg is the first sign of the queue.
        c.queue_entered = true;
        emit(c, s, "call.queue.entered", nullptr, l.created_ms, {});
      }
      const bool after_transferor = std::any_of(c.legs.begin(), c.legs.end(), [&](const leg_state& x) {
        return &x != &l && x.answer_emitted && x.destroyed && x.destroyed_ms <= l.created_ms &&
               role_of(c, x) == role::destination;
      });
      if (c.answered && (l.referred || after_transferor)) {
        // Blind transfer: Referred-By on the new leg, or a new B-leg after the answering leg ended (§3.4).
        ++c.transfers;
        emit(c, s, "call.transferred", &l, l.created_ms, l.id, user);
      }
      if (c.user_id.empty()) c.user_id = user;
      emit(c, s, "call.ringing", &l, l.created_ms, l.id, user);
    }
    if (l.answered && !l.answer_emitted) {
      l.answer_emitted = true;
      if (!c.answered) {
        c.answered = true;
        c.answered_ms = l.answered_ms;
      }
      if (!user.empty()) c.user_id = user;
      if (!l.offnet && c.direction != "outbound") {
        // design.md example: an inbound call answered by John is "to 101 John Doe" from then on.
        const auto* u = dir(c.account_id) ? dir(c.account_id)->find_user(user) : nullptr;
        c.to_number = u ? u->extension : (l.callee_number.empty() ? c.to_number : l.callee_number);
        c.to_name = u ? u->name : (l.callee_name.empty() ? c.to_name : l.callee_name);
      }
      emit(c, s, "call.answered", &l, l.answered_ms, l.id, user);
      if (l.agent && !c.queue_answered) {
        c.queue_answered = true;
        emit(c, s, "call.queue.answered", &l, l.answered_ms, l.id, user);
      }
    }
  }
}

void engine::check_end(call_state& c, step& s) {
  if (c.ended) return;
  const leg_state* root = c.root();
  // A call whose A-leg was never seen does not end by itself: its A-leg's events may still be on their
  // way; the stale timeout or a reconcile closes it.
  if (!root || !root->seen) return;
  const bool live = std::any_of(c.legs.begin(), c.legs.end(), [](const leg_state& l) { return l.seen && !l.destroyed; });
  if (live) return;
  for (const auto& l : c.legs) c.ended_ms = std::max(c.ended_ms, l.destroyed_ms);
  end_call(c, s, c.end_reason.empty() ? "hangup" : c.end_reason, {});
}

void engine::end_call(call_state& c, step& s, const std::string& reason, const std::string& detail) {
  if (c.ended) return;
  touch(s, c);
  if (!c.started) {
    if (c.pending || !visible(c)) {
      c.ended = true;  // feature-code call that rang nobody, or a hidden internal call: no events at all
      return;
    }
    advance(c, s, /*force_start=*/true);
    if (!c.started) {
      c.ended = true;
      return;
    }
  }
  if (c.ended_ms == 0) c.ended_ms = s.now_ms;
  c.end_reason = reason;
  c.end_detail = detail;
  c.ended = true;
  if (c.retrieve_pending) {
    c.retrieve_pending = false;
    emit(c, s, "call.retrieved", nullptr, c.ended_ms, c.park_slot.str() + "#" + std::to_string(c.parks));
  }
  if (c.queue_entered && !c.queue_answered) emit(c, s, "call.queue.abandoned", nullptr, c.ended_ms, {});
  emit(c, s, "call.ended", nullptr, c.ended_ms, {});
  if (c.direction == "inbound" && !c.answered) emit(c, s, "call.missed", nullptr, c.ended_ms, {});
}

namespace {

// The two renderings of describe(): a DOM (events, whose payload the emitter still adjusts) and
// compact text (call records: no DOM is built only to be dumped, bench/README.md "ingest CPU").
struct dom_sink {
  nlohmann::json& p;
  void text(const char* key, const std::string& v) { p[key] = v; }
  void null(const char* key) { p[key] = nullptr; }
  void num(const char* key, std::int64_t v) { p[key] = v; }
  void boolean(const char* key, bool v) { p[key] = v; }
};

// Writes members in the order describe() names them, which is sorted like nlohmann's std::map, so the
// text is byte for byte the dump of the same DOM (tests/unit/calls check it is canonical).
struct text_sink {
  std::string& out;
  void key(const char* k) {
    out += out.size() > 1 ? ",\"" : "\"";
    out += k;
    out += "\":";
  }
  void text(const char* k, const std::string& v) {
    key(k);
    append_json_string(out, v);
  }
  void null(const char* k) {
    key(k);
    out += "null";
  }
  void num(const char* k, std::int64_t v) {
    key(k);
    append_number(out, v);
  }
  void boolean(const char* k, bool v) {
    key(k);
    out += v ? "true" : "false";
  }
};

}  // namespace

template <class Sink>
void engine::describe(const call_state& c, Sink& p) const {
  // Keys in std::map order (byte-wise sorted): text_sink relies on it.
  auto opt = [&p](const char* key, const std::string& v) { v.empty() ? p.null(key) : p.text(key, v); };
  auto at = [&p](const char* key, bool known, std::int64_t ms) {
    known && ms > 0 ? p.text(key, format_iso8601(ms)) : p.null(key);
  };
  const auto* d = dir(c.account_id);
  const auto* u = d ? d->find_user(c.user_id) : nullptr;
  p.text("account_id", c.account_id);
  at("answered_at", c.answered, c.answered_ms);
  p.text("call_id", c.key);
  p.boolean("click_to_call", c.origin == "click_to_call");
  opt("direction", c.direction.empty() ? std::string{"inbound"} : c.direction.str());
  if (c.ended) {
    p.num("duration_s", c.duration_s >= 0 ? c.duration_s
                                           : std::max<std::int64_t>(0, (c.ended_ms - c.started_ms + 500) / 1000));
  } else {
    p.null("duration_s");
  }
  c.ended ? opt("end_detail", c.end_detail) : p.null("end_detail");
  c.ended ? opt("end_reason", c.end_reason) : p.null("end_reason");
  at("ended_at", c.ended, c.ended_ms);
  u ? opt("extension", u->extension) : p.null("extension");
  opt("from_name", c.from_name);
  opt("from_number", c.from_number);
  opt("from_user_id", c.from_user_id);
  opt("hangup_cause", c.hangup_cause);
  opt("origin", c.origin);
  opt("park_slot", c.park_slot);
  opt("queue_id", c.queue_id);
  opt("recording_url", c.recording);
  at("started_at", true, c.started_ms);
  if (c.ended && c.answered) {
    p.num("talk_s", std::max<std::int64_t>(0, (c.ended_ms - c.answered_ms + 500) / 1000));
  } else {
    p.null("talk_s");
  }
  opt("to_name", c.to_name);
  opt("to_number", c.to_number);
  opt("user_id", c.user_id);
  u ? opt("user_name", u->name) : p.null("user_name");
}

nlohmann::json engine::snapshot(const call_state& c) const {
  nlohmann::json p = nlohmann::json::object();
  dom_sink sink{p};
  describe(c, sink);
  p["summary"] = nullptr;
  return p;
}

std::string engine::snapshot_text(const call_state& c) const {
  std::string out;
  out.reserve(640);
  out += '{';
  text_sink sink{out};
  describe(c, sink);
  out += '}';
  return out;
}

void engine::emit(call_state& c, step& s, const std::string& type, const leg_state* l, std::int64_t t,
                  const std::string& discriminator, const std::string& user_override) {
  if (s.quiet_ringing && (type == "call.ringing" || type == "call.transferred" || type == "call.queue.entered")) return;
  lifecycle_event e;
  e.type = type;
  e.call_id = c.key;
  e.account_id = c.account_id;
  e.occurred_at_ms = t > 0 ? t : s.now_ms;
  e.id = make_event_id(c.account_id.str(), c.key, type, discriminator);
  auto p = snapshot(c);
  // The person this event is about: the leg's user for ringing/answered/transferred/held..., else the call's.
  std::string user = user_override;
  if (user.empty() && l && l->id != c.key) user = leg_user(c, *l);
  if (!user.empty()) {
    const auto* d = dir(c.account_id);
    const auto* u = d ? d->find_user(user) : nullptr;
    p["user_id"] = user;
    p["user_name"] = u ? nlohmann::json(u->name) : nlohmann::json(nullptr);
    p["extension"] = u && !u->extension.empty() ? nlohmann::json(u->extension) : nlohmann::json(nullptr);
    if (!u && l && l->id != c.key && !l->offnet) {
      // Not in the directory (yet): the B-leg's callee_id_* name the person (§3.2 "ringing").
      if (!l->callee_name.empty()) p["user_name"] = l->callee_name;
      if (!l->callee_number.empty()) p["extension"] = l->callee_number;
    }
    if (l && !l->offnet && role_of(c, *l) == role::destination && c.direction != "outbound") {
      p["to_number"] = u ? nlohmann::json(u->extension) : p["to_number"];
      p["to_name"] = u ? nlohmann::json(u->name) : p["to_name"];
    }
  } else if (l && l->id != c.key && !l->offnet && role_of(c, *l) == role::destination) {
    // No directory entry: name the callee from the B-leg's callee_id_* (§3.2 "ringing").
    if (!l->callee_name.empty()) p["user_name"] = l->callee_name;
    if (!l->callee_number.empty()) p["extension"] = l->callee_number;
  }
  p["id"] = e.id;
  p["type"] = type;
  p["occurred_at"] = format_iso8601(e.occurred_at_ms);
  p["summary"] = summary_for(p);
  e.payload = std::move(p);
  if (s.raw_text) {
    e.raw = s.raw_text;
  } else if (s.raw) {
    // Reconciliation rows are built here, not received (rare): rendered for each event.
    e.raw = std::make_shared<const std::string>(s.raw->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  s.out.events.push_back(std::move(e));
  touch(s, c);
}

call_record engine::record(const call_state& c, std::int64_t now_ms) const {
  call_record r;
  r.call_id = c.key;
  r.account_id = c.account_id;
  r.status = c.ended ? "ended" : c.parked ? "parked" : c.answered ? "answered" : c.queue_entered ? "queued" : "ringing";
  r.direction = c.direction.empty() ? "inbound" : c.direction;
  r.answered = c.answered;
  if (!c.user_id.empty()) r.user_id = c.user_id;
  r.started_at_ms = c.started_ms;
  r.updated_at_ms = now_ms;
  if (c.ended) r.ended_at_ms = c.ended_ms;
  r.snapshot = snapshot_text(c);
  r.state = state_text(c);
  return r;
}

}  // namespace kazoo_bridge::calls::detail
