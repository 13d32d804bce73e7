// Correlating legs into calls (reference/kazoo.md §3.2): legs are keyed by Call-ID and hang off the leg
// named by member_call_id (ACDc), the loopback partner, CCV bridge_id (= A-leg Call-ID) or, for
// FreeSWITCH-originated legs, other_leg_call_id. Calls merge when a BRIDGE or a park pickup links them.

#include "calls/engine.hpp"

#include <algorithm>
#include <charconv>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::calls::detail {

std::string jstr(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return {};
  auto it = o.find(key);
  if (it == o.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  return {};
}

bool jtrue(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return false;
  auto it = o.find(key);
  if (it == o.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return it->is_string() && it->get<std::string>() == "true";  // CCV values are strings (§2.5)
}

std::int64_t jint(const nlohmann::json& o, const char* key, std::int64_t fallback) {
  if (!o.is_object()) return fallback;
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
  if (it->is_string()) {  // old releases sent durations as strings (§2.4)
    const auto& s = it->get_ref<const std::string&>();
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc{} && p == s.data() + s.size()) return v;
  }
  return fallback;
}

const nlohmann::json& ccvs_of(const nlohmann::json& d) {
  static const nlohmann::json empty = nlohmann::json::object();
  auto it = d.find("custom_channel_vars");
  return it != d.end() && it->is_object() ? *it : empty;
}

std::string user_part(const std::string& uri) {
  auto s = uri;
  if (s.starts_with("sip:")) s = s.substr(4);
  return s.substr(0, s.find('@'));
}

namespace {

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

bool is_origin_leg(const std::string& call_id, const nlohmann::json& ccv) {
  // Click-to-call legs are c2c-{C2C_ID}-{10hex}; quickcall legs end with -quickcall (§2.5, §5.4, §5.5).
  (void)ccv;
  return call_id.starts_with("c2c-") || call_id.ends_with("-quickcall");
}

// Which leg this one hangs off, "" for a root (A-leg or originated leg).
std::string link_of(const std::string& call_id, const nlohmann::json& d) {
  const auto& ccv = ccvs_of(d);
  if (is_origin_leg(call_id, ccv)) return {};
  if (auto member = jstr(ccv, "member_call_id"); !member.empty() && member != call_id) return member;
  if (jtrue(d, "channel_is_loopback") && jstr(d, "channel_loopback_leg") != "A") {
    if (auto partner = jstr(d, "channel_loopback_other_leg_id"); !partner.empty() && partner != call_id) return partner;
  }
  if (auto bridge = jstr(ccv, "bridge_id"); !bridge.empty()) return bridge == call_id ? std::string{} : bridge;
  // Legs FreeSWITCH originates carry the originator in Other-Leg-Call-ID from CREATE on (§2.3).
  if (jstr(d, "call_direction") == "outbound") {
    if (auto other = jstr(d, "other_leg_call_id"); !other.empty() && other != call_id) return other;
  }
  return {};
}

// Event time: Msg-ID is FreeSWITCH's Event-Date-Timestamp in Unix µs (§2.3), finer than the Gregorian
// second of `timestamp`; PARK_* have neither (random Msg-ID, no Timestamp) and take the arrival time.
std::int64_t event_time_ms(const nlohmann::json& d, std::int64_t now_ms) {
  auto msg = jstr(d, "msg_id");
  if (msg.size() >= 13 && msg.size() <= 17 &&
      std::all_of(msg.begin(), msg.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t us = 0;
    std::from_chars(msg.data(), msg.data() + msg.size(), us);
    return us / 1000;
  }
  if (auto g = jint(d, "timestamp", 0); g > gregorian_unix_offset_s) return gregorian_to_unix_s(g) * 1000;
  return now_ms;
}

}  // namespace

void engine::remember_ended(const std::string& account_id, const std::string& call_id, std::int64_t now_ms) {
  tombstones_[map_key(account_id, call_id)] = now_ms + opts_.tombstone_ms;
}

void engine::set_directory(std::string account_id, std::shared_ptr<const directory> d) {
  dirs_[std::move(account_id)] = std::move(d);
}

call_state* engine::call_of_leg(const std::string& account, const std::string& leg_id) {
  auto it = legs_.find(map_key(account, leg_id));
  return it == legs_.end() ? nullptr : it->second;
}

call_state& engine::new_call(const std::string& account, const std::string& key) {
  auto c = std::make_unique<call_state>();
  c->key = key;
  c->account_id = account;
  auto& ref = *c;
  calls_[map_key(account, key)] = std::move(c);
  return ref;
}

leg_state& engine::add_leg(call_state& c, const std::string& leg_id, const std::string& link) {
  if (auto* l = c.find_leg(leg_id)) return *l;
  leg_state l;
  l.id = leg_id;
  l.link = link;
  // Grown one leg at a time: calls have 1 to 4 legs, and doubling left a third of the slots (256 bytes
  // each) empty. Callers re-find their leg pointers after an add, as after any growth.
  if (c.legs.size() == c.legs.capacity()) c.legs.reserve(c.legs.size() + 1);
  c.legs.push_back(std::move(l));
  legs_[map_key(c.account_id, leg_id)] = &c;
  return c.legs.back();
}

void engine::touch(step& s, const call_state& c) {
  auto k = map_key(c.account_id, c.key);
  if (std::find(s.changed.begin(), s.changed.end(), k) == s.changed.end()) s.changed.push_back(k);
}

call_state* engine::merge(call_state& a, call_state& b, step& s) {
  if (&a == &b) return &a;
  // The survivor is the call people already know about: started first, else `a` (the link target).
  call_state* keep = &a;
  call_state* gone = &b;
  if (!a.started && b.started) std::swap(keep, gone);
  if (keep->started && gone->started && gone->started_ms < keep->started_ms) std::swap(keep, gone);
  if (gone->started && !gone->ended) {
    // Two calls people saw become one (attended transfer, §3.4): the absorbed one ends here, once.
    end_call(*gone, s, "merged", "merged into another call");
  }
  for (auto& l : gone->legs) {
    if (keep->find_leg(l.id)) continue;
    if (keep->legs.size() == keep->legs.capacity()) keep->legs.reserve(keep->legs.size() + 1);
    keep->legs.push_back(std::move(l));
    legs_[map_key(keep->account_id, keep->legs.back().id)] = keep;
  }
  gone->legs.clear();
  if (!keep->parked && gone->parked) {
    keep->parked = true;
    keep->park_slot = gone->park_slot;
  }
  keep->queue_entered = keep->queue_entered || gone->queue_entered;
  keep->last_activity_ms = std::max(keep->last_activity_ms, gone->last_activity_ms);
  for (auto& [slot, target] : slots_) {
    if (target == map_key(gone->account_id, gone->key)) target = map_key(keep->account_id, keep->key);
  }
  auto gone_key = map_key(gone->account_id, gone->key);
  s.changed.erase(std::remove(s.changed.begin(), s.changed.end(), gone_key), s.changed.end());
  if (gone->ended && gone->started) {
    // keep its final record for the store
    s.out.calls.push_back(record(*gone, s.now_ms));
  }
  calls_.erase(gone_key);
  touch(s, *keep);
  return keep;
}

std::pair<call_state*, leg_state*> engine::locate(const std::string& account, const std::string& call_id,
                                                  const nlohmann::json& d, step& s) {
  const auto link = link_of(call_id, d);
  call_state* c = call_of_leg(account, call_id);
  if (c) {
    leg_state* l = c->find_leg(call_id);
    // A leg known only by reference (a placeholder) now tells where it belongs: e.g. a loopback partner
    // first named by its B-leg's bridge_id turns out to hang off the click-to-call leg.
    if (!l->seen && !link.empty() && c->key == call_id) {
      call_state* target = call_of_leg(account, link);
      if (!target) {
        target = &new_call(account, link);
        add_leg(*target, link, {});
      }
      l->link = link;
      c = merge(*target, *c, s);
      l = c->find_leg(call_id);
    } else if (l->link.empty() && !link.empty() && c->key != call_id) {
      l->link = link;
    }
    return {c, l};
  }
  if (link.empty()) {
    c = &new_call(account, call_id);
    return {c, &add_leg(*c, call_id, {})};
  }
  c = call_of_leg(account, link);
  if (!c) {
    c = &new_call(account, link);
    add_leg(*c, link, {});
  }
  return {c, &add_leg(*c, call_id, link)};
}

void engine::update_leg(call_state& c, leg_state& l, const std::string& name, const nlohmann::json& d,
                        std::int64_t t) {
  const auto& ccv = ccvs_of(d);
  const bool first = !l.seen;
  l.seen = true;
  if (auto owner = jstr(ccv, "owner_id"); !owner.empty()) l.owner_id = owner;
  if (auto agent = jstr(ccv, "agent_id"); !agent.empty()) {
    l.agent = true;
    if (l.owner_id.empty()) l.owner_id = agent;
  }
  if (jstr(ccv, "authorizing_type") == "device") {
    if (auto dev = jstr(ccv, "authorizing_id"); !dev.empty()) l.device_id = dev;
  }
  if (jstr(ccv, "resource_type") == "offnet-termination") l.offnet = true;
  if (!jstr(ccv, "referred_by").empty()) l.referred = true;
  if (jtrue(d, "channel_is_loopback")) l.loopback = true;
  if (auto q = jstr(ccv, "queue_id"); !q.empty()) c.queue_id = q;
  if (l.id != c.key) {
    if (auto n = jstr(d, "callee_id_number"); !n.empty() && l.callee_number.empty()) l.callee_number = n;
    if (auto n = jstr(d, "callee_id_name"); !n.empty() && l.callee_name.empty()) l.callee_name = n;
  }
  // Channel-Created-Time is Unix µs (§2.3): the exact start of the leg whatever event we see first.
  if (auto created_us = jint(d, "channel_created_time", 0); created_us > 0) {
    l.created_ms = created_us / 1000;
  } else if (name == "CHANNEL_CREATE" || (first && l.created_ms == 0)) {
    l.created_ms = (l.created_ms == 0) ? t : std::min(l.created_ms, t);
  }
  if (name == "CHANNEL_ANSWER" && !l.answered) {
    l.answered = true;
    l.answered_ms = t;
  }
  if (name == "CHANNEL_DESTROY" && !l.destroyed) {
    l.destroyed = true;
    l.destroyed_ms = t;
    if (!l.answered && jint(d, "billing_seconds", 0) > 0 && jstr(d, "disposition") == "ANSWER") {
      // ANSWER lost or never published: the DESTROY still says the leg was answered.
      l.answered = true;
      l.answered_ms = t - jint(d, "billing_seconds", 0) * 1000;
    }
    if (l.id == c.key) {
      c.hangup_cause = jstr(d, "hangup_cause");
      c.duration_s = jint(d, "duration_seconds", -1);
    }
    // Recordings: CCV media_recordings (4.3) or top-level array (mod_kazoo), a list of names (§2.5).
    for (const nlohmann::json* src : {&d, &ccv}) {
      auto rec = src->find("media_recordings");
      if (rec == src->end()) continue;
      if (rec->is_array() && !rec->empty() && rec->front().is_string()) c.recording = rec->front().get<std::string>();
      if (rec->is_string() && !rec->get<std::string>().empty()) c.recording = rec->get<std::string>();
    }
  }
  if (l.id == c.key) classify_root(c, l, d);
}

void engine::classify_root(call_state& c, const leg_state& l, const nlohmann::json& d) {
  const auto& ccv = ccvs_of(d);
  const directory* directory_ = dir(c.account_id);
  if (c.started_ms == 0 || (l.created_ms > 0 && l.created_ms < c.started_ms)) c.started_ms = l.created_ms;
  const auto caller_number = jstr(d, "caller_id_number");
  const auto caller_name = jstr(d, "caller_id_name");
  auto dialed = user_part(jstr(d, "request"));
  if (dialed.empty()) dialed = user_part(jstr(d, "to"));
  const auto auth_type = jstr(ccv, "authorizing_type");

  auto set_user_party = [&](const std::string& user_id) {
    if (user_id.empty()) return;
    if (c.user_id.empty()) c.user_id = user_id;
    if (c.from_user_id.empty()) c.from_user_id = user_id;
    if (const auto* u = directory_ ? directory_->find_user(user_id) : nullptr) {
      if (c.from_number.empty()) c.from_number = u->extension;
      if (c.from_name.empty()) c.from_name = u->name;
    }
  };

  if (c.key.starts_with("c2c-") || auth_type == "clicktocall") {
    c.origin = "click_to_call";
    c.direction = "outbound";
    c.direction_fixed = true;
    // The contact is the request URI of the transfer; the user is the c2c extension (§5.5).
    auto contact = user_part(jstr(ccv, "request_uri"));
    if (c.to_number.empty()) c.to_number = contact.empty() ? caller_number : contact;
    auto ext = user_part(jstr(ccv, "loopback_request_uri"));
    if (const auto* u = directory_ ? directory_->find_by_extension(ext) : nullptr) set_user_party(u->id);
    if (c.from_number.empty()) c.from_number = ext;
    return;
  }
  if (c.key.ends_with("-quickcall")) {
    c.origin = "quickcall";
    c.direction = "outbound";
    c.direction_fixed = true;
    // The phone leg shows the number to dial as its caller id ("Device QuickCall", §5.4).
    if (c.to_number.empty()) c.to_number = caller_number;
    std::string owner = l.owner_id;
    if (owner.empty() && directory_) {
      if (const auto* u = directory_->owner_of_device(l.device_id)) owner = u->id;
    }
    set_user_party(owner);
    return;
  }
  const bool from_carrier = jstr(ccv, "resource_type") == "offnet-origination" || !jstr(ccv, "inception").empty() ||
                            auth_type == "resource";
  if (from_carrier || (ccv.empty() && jstr(d, "call_direction") == "inbound")) {
    // A carrier leg: CREATE arrives before routing without CCVs (§1.4), the routed CCVs confirm it.
    c.direction = "inbound";
    c.direction_fixed = c.direction_fixed || from_carrier;
    if (c.from_number.empty()) c.from_number = caller_number;
    if (c.from_name.empty()) c.from_name = caller_name;
    if (c.to_number.empty()) c.to_number = dialed;
    return;
  }
  if (auth_type == "device" || !l.owner_id.empty()) {
    std::string owner = l.owner_id;
    if (owner.empty() && directory_) {
      if (const auto* u = directory_->owner_of_device(l.device_id)) owner = u->id;
    }
    set_user_party(owner);
    if (c.from_number.empty()) c.from_number = caller_number;
    if (c.from_name.empty()) c.from_name = caller_name;
    if (c.to_number.empty()) c.to_number = dialed;
    if (!c.direction_fixed && !dialed.empty()) {
      if (dialed.starts_with('*') && !c.started) {
        c.pending = true;  // feature code (*4101 park pickup, *97 voicemail...): not a call of its own yet
      } else if (c.direction.empty()) {
        // Until a B-leg says (device => internal, offnet-termination => outbound, §3.3): short numbers
        // and the account's extensions are internal.
        const bool short_number = dialed.size() <= 6 && std::all_of(dialed.begin(), dialed.end(), [](char ch) {
                                    return ch >= '0' && ch <= '9';
                                  });
        const bool extension = directory_ && directory_->find_by_extension(dialed);
        c.direction = (short_number || extension) ? "internal" : "outbound";
      }
    }
    return;
  }
  if (c.direction.empty()) c.direction = jstr(d, "call_direction") == "outbound" ? "outbound" : "inbound";
  if (c.from_number.empty()) c.from_number = caller_number;
  if (c.from_name.empty()) c.from_name = caller_name;
  if (c.to_number.empty()) c.to_number = dialed;
}

void engine::on_event(const frame& f, std::int64_t now_ms, tracker_output& out) {
  if (f.kind != frame_kind::event) return;
  if (f.name.starts_with("qubicle.")) {
    on_qubicle(f, now_ms, out);
    return;
  }
  const auto& d = f.data;
  if (!d.is_object()) return;
  const auto call_id = jstr(d, "call_id");
  if (call_id.empty()) return;
  auto account = jstr(ccvs_of(d), "account_id");
  if (account.empty()) account = f.account_id;
  if (account.empty()) return;  // cannot be attributed; Kazoo only sends such events to wildcard subscribers
  if (tombstones_.contains(map_key(account, call_id))) return;  // late event of an ended call
  if (auto link = link_of(call_id, d); !link.empty() && tombstones_.contains(map_key(account, link))) {
    // A leg of a call that has ended (e.g. its DESTROY overtook everything): remember it as ended too.
    if (!call_of_leg(account, call_id)) {
      tombstones_[map_key(account, call_id)] = now_ms + opts_.tombstone_ms;
      return;
    }
  }

  const auto msg = jstr(d, "msg_id");
  const std::uint64_t msg_hash = msg.empty() ? 0 : fnv1a(f.name + "|" + msg);
  if (msg_hash != 0) {
    // The same frame twice (two bindings matching one event, §1.4): dedupe on event_name+call_id+msg_id.
    if (auto* c = call_of_leg(account, call_id)) {
      const auto* l = c->find_leg(call_id);
      if (l && l->seen_msgs.contains(msg_hash)) return;
    }
  }
  step s{out, now_ms, f.data_text ? nullptr : &d, f.data_text};
  const auto t = event_time_ms(d, now_ms);
  if (f.name.starts_with("PARK_")) {
    on_park(account, call_id, d, s, t, msg_hash, f.name);
  } else {
    on_channel(account, call_id, d, s, t, msg_hash, f.name);
  }
  finish(s);
}

void engine::on_channel(const std::string& account, const std::string& call_id, const nlohmann::json& d, step& s,
                        std::int64_t t, std::uint64_t msg_hash, const std::string& name) {
  auto [c, l] = locate(account, call_id, d, s);
  if (msg_hash != 0) l->seen_msgs.add(msg_hash);
  c->last_activity_ms = std::max(c->last_activity_ms, s.now_ms);
  update_leg(*c, *l, name, d, t);
  touch(s, *c);

  if (name == "CHANNEL_BRIDGE") {
    const auto other = jstr(d, "other_leg_call_id");
    if (!other.empty() && other != call_id) {
      call_state* oc = call_of_leg(account, other);
      if (!oc) {
        add_leg(*c, other, call_id);
      } else if (oc != c) {
        // A park pickup seen first as a BRIDGE: the side that is not parked is the retriever.
        call_state* parked = c->parked || c->retrieve_pending ? c : (oc->parked || oc->retrieve_pending ? oc : nullptr);
        call_state* picker = parked == c ? oc : (parked == oc ? c : nullptr);
        std::string picker_leg = picker == c ? call_id : other;
        c = merge(*c, *oc, s);
        if (parked && picker) {
          leg_state* r = c->find_leg(picker_leg);
          if (r) r->retriever = true;
          retrieve(*c, r, s, t);
        }
      }
    }
    l = c->find_leg(call_id);  // add_leg/merge may have moved the legs
  }
  advance(*c, s);
  if (c->started && !c->ended) {
    if (name == "CHANNEL_HOLD" && !c->held) {
      c->held = true;
      ++c->holds;
      emit(*c, s, "call.held", l, t, std::to_string(c->holds));
    } else if (name == "CHANNEL_UNHOLD" && c->held) {
      c->held = false;
      ++c->unholds;
      emit(*c, s, "call.unheld", l, t, std::to_string(c->unholds));
    } else if (name == "CHANNEL_DESTROY" &&
               (jstr(d, "hangup_cause") == "ATTENDED_TRANSFER" || !jstr(d, "replaced_by").empty())) {
      // Attended transfer: the transferor's leg is replaced (Replaced-By / Transfer-History, §3.4).
      ++c->transfers;
      emit(*c, s, "call.transferred", nullptr, t, "attended:" + call_id);
    }
  }
  check_end(*c, s);
}

void engine::retrieve(call_state& p, leg_state* r, step& s, std::int64_t t) {
  const std::string user = r ? leg_user(p, *r) : std::string{};
  if (p.parked) {
    p.parked = false;
    if (!r) {
      // Only the parked side's PARK_RETRIEVED so far (§4.1 publishes two): wait for the retriever's one
      // or the BRIDGE to name the person; ended/tick flush it without a name.
      p.retrieve_pending = true;
      return;
    }
  } else if (!p.retrieve_pending || !r) {
    return;
  }
  p.retrieve_pending = false;
  if (!user.empty()) p.user_id = user;
  if (!p.started) return;
  emit(p, s, "call.retrieved", r, t, p.park_slot.str() + "#" + std::to_string(p.parks), user);
  if (!p.answered && r) {
    r->answered = true;
    if (r->answered_ms == 0) r->answered_ms = t;
    p.answered = true;
    p.answered_ms = t;
    r->answer_emitted = true;
    emit(p, s, "call.answered", r, t, r->id, user);
  }
}

void engine::on_park(const std::string& account, const std::string& call_id, const nlohmann::json& d, step& s,
                     std::int64_t t, std::uint64_t msg_hash, const std::string& name) {
  // Parking-Slot is a string on the wire (cf_park), an integer in some docs (§2.7): accept both.
  auto slot = jstr(d, "parking_slot");
  const auto slot_key = map_key(account, slot);
  call_state* p = nullptr;
  if (!slot.empty()) {
    if (auto it = slots_.find(slot_key); it != slots_.end()) {
      if (auto c = calls_.find(it->second); c != calls_.end()) p = c->second.get();
    }
  }
  if (name == "PARK_PARKED") {
    auto [c, l] = locate(account, call_id, d, s);
    if (msg_hash != 0) l->seen_msgs.add(msg_hash);
    if (!l->seen) update_leg(*c, *l, name, d, t);
    c->last_activity_ms = std::max(c->last_activity_ms, s.now_ms);
    touch(s, *c);
    advance(*c, s);
    if (!c->parked || c->park_slot != slot) {
      c->parked = true;
      c->park_slot = slot;
      ++c->parks;
      if (!slot.empty()) slots_[slot_key] = map_key(account, c->key);
      if (c->started) emit(*c, s, "call.parked", l, t, slot + "#" + std::to_string(c->parks), std::string{});
    }
    return;
  }
  call_state* own = call_of_leg(account, call_id);
  if (!p) p = own;
  if (!p) return;  // a pickup of a call we never saw: nothing to attach it to
  p->last_activity_ms = std::max(p->last_activity_ms, s.now_ms);
  touch(s, *p);
  if (name == "PARK_ABANDONED") {
    if (auto* l = p->find_leg(call_id); l && msg_hash != 0) l->seen_msgs.add(msg_hash);
    p->parked = false;
    p->end_reason = "park_abandoned";
    slots_.erase(slot_key);
    return;
  }
  // PARK_RETRIEVED: from the parked call's waiter (its own Call-ID) or the retriever's callflow.
  leg_state* r = nullptr;
  const bool waiter = own == p && p->find_leg(call_id) && !p->find_leg(call_id)->retriever &&
                      p->find_leg(call_id)->id == p->key;
  if (!waiter) {
    if (own && own != p) p = merge(*p, *own, s);
    r = p->find_leg(call_id);
    if (!r) r = &add_leg(*p, call_id, p->key);
    r->retriever = true;
    if (!r->seen) {
      r->seen = true;
      const auto& ccv = ccvs_of(d);
      if (auto owner = jstr(ccv, "owner_id"); !owner.empty()) r->owner_id = owner;
      if (jstr(ccv, "authorizing_type") == "device") r->device_id = jstr(ccv, "authorizing_id");
      r->created_ms = t;
    }
  }
  if (auto* l = p->find_leg(call_id); l && msg_hash != 0) l->seen_msgs.add(msg_hash);
  retrieve(*p, r, s, t);
  if (!p->parked) slots_.erase(slot_key);
}

void engine::forget(call_state& c, std::int64_t now_ms) {
  for (const auto& l : c.legs) {
    auto k = map_key(c.account_id, l.id);
    legs_.erase(k);
    tombstones_[k] = now_ms + opts_.tombstone_ms;
  }
  for (auto it = slots_.begin(); it != slots_.end();) {
    it = it->second == map_key(c.account_id, c.key) ? slots_.erase(it) : std::next(it);
  }
  calls_.erase(map_key(c.account_id, c.key));
}

void engine::finish(step& s) {
  for (const auto& k : s.changed) {
    auto it = calls_.find(k);
    if (it == calls_.end()) continue;
    call_state& c = *it->second;
    if (c.ended) {
      // Its state is forgotten now, so its final record is taken now.
      if (c.started) s.out.calls.push_back(record(c, s.now_ms));
      forget(c, s.now_ms);
    } else if (c.started && !c.dirty) {
      c.dirty = true;
      dirty_.push_back(k);
    }
  }
  s.changed.clear();
}

void engine::flush(std::int64_t now_ms, tracker_output& out) {
  for (const auto& k : dirty_) {
    auto it = calls_.find(k);
    if (it == calls_.end() || !it->second->dirty) continue;  // ended (final record already out) or merged away
    it->second->dirty = false;
    out.calls.push_back(record(*it->second, now_ms));
  }
  dirty_.clear();
}

namespace {

// "4 hours", "1 hour", "90 minutes", "45 seconds": the largest unit that states the span exactly.
std::string span_text(std::int64_t ms) {
  auto unit = [](std::int64_t n, const char* one) { return std::to_string(n) + " " + one + (n == 1 ? "" : "s"); };
  const auto s = ms / 1000;
  if (s >= 3600 && s % 3600 == 0) return unit(s / 3600, "hour");
  if (s >= 60 && s % 60 == 0) return unit(s / 60, "minute");
  return unit(s, "second");
}

}  // namespace

void engine::on_tick(std::int64_t now_ms, tracker_output& out) {
  step s{out, now_ms, nullptr, {}};
  std::vector<call_state*> stale;
  for (auto& [k, c] : calls_) {
    if (!c->ended && c->last_activity_ms + opts_.stale_call_timeout_ms <= now_ms) stale.push_back(c.get());
  }
  for (auto* c : stale) {
    const auto detail = "closed after " + span_text(opts_.stale_call_timeout_ms) + " without a hang-up";
    c->hangup_cause.clear();  // no DESTROY seen: the cause is unknown, not NORMAL_CLEARING
    c->duration_s = -1;
    c->ended_ms = now_ms;
    touch(s, *c);
    end_call(*c, s, "stale_timeout", detail);
  }
  finish(s);
  start_deferred(s);
  // Expired tombstones are swept at most once a minute: a busy switch leaves hundreds of thousands of
  // them, and scanning all of them every second would cost the I/O thread for nothing (a tombstone a
  // little past its expiry only keeps ignoring late events of a call long over).
  if (now_ms < next_tombstone_sweep_ms_) return;
  next_tombstone_sweep_ms_ = now_ms + 60 * 1000;
  for (auto it = tombstones_.begin(); it != tombstones_.end();) {
    it = it->second <= now_ms ? tombstones_.erase(it) : std::next(it);
  }
}

void engine::restore(const call_record& r) {
  auto c = std::make_unique<call_state>();
  if (!from_json(nlohmann::json::parse(r.state, nullptr, false), *c) || c->ended) return;
  auto k = map_key(c->account_id, c->key);
  for (const auto& l : c->legs) legs_[map_key(c->account_id, l.id)] = c.get();
  if (c->parked && !c->park_slot.empty()) slots_[map_key(c->account_id, c->park_slot.str())] = k;
  calls_[k] = std::move(c);
}

}  // namespace kazoo_bridge::calls::detail
