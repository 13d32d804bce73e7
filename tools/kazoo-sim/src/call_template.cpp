#include "call_template.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <kazoo_bridge/common/time.hpp>

#include "text_util.hpp"

namespace kazoo_sim {
namespace {

using nlohmann::json;

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Sentinels put into the reference DOM in place of the time-derived values, so they can be found in
// the serialized text whatever their value. Cannot occur in scenario data (no "@@" anywhere).
constexpr std::string_view msg_id_sentinel = "\"@@kazoo-sim:msg_id@@\"";
constexpr std::string_view timestamp_sentinel = "\"@@kazoo-sim:timestamp@@\"";
constexpr std::string_view created_sentinel = "\"@@kazoo-sim:created@@\"";

std::string unquoted(std::string_view s) { return std::string(s.substr(1, s.size() - 2)); }

struct candidate {
  std::string value;
  int token;
};

// Cuts `text` at every occurrence of a candidate value (leftmost first, longest on ties).
text_template templatize(const std::string& text, const std::vector<candidate>& candidates) {
  struct match {
    std::size_t pos, len;
    int token;
  };
  std::vector<match> found;
  for (const auto& c : candidates) {
    if (c.value.empty()) continue;
    for (auto pos = text.find(c.value); pos != std::string::npos; pos = text.find(c.value, pos + c.value.size())) {
      found.push_back({pos, c.value.size(), c.token});
    }
  }
  std::sort(found.begin(), found.end(), [](const match& a, const match& b) {
    return a.pos != b.pos ? a.pos < b.pos : a.len > b.len;
  });
  text_template t;
  std::size_t at = 0;
  for (const auto& m : found) {
    if (m.pos < at) continue;  // overlaps an accepted token (build()'s check catches a wrong choice)
    t.pieces.push_back({text.substr(at, m.pos - at), m.token});
    at = m.pos + m.len;
  }
  t.pieces.push_back({text.substr(at), text_template::no_token});
  for (const auto& p : t.pieces) t.literal_size += p.literal.size();
  return t;
}

// call_state's str(): a string, or an integer as text.
std::string str(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  return {};
}

std::string owner_of(const json& data) {
  auto cv = data.find("custom_channel_vars");
  return cv == data.end() ? std::string() : str(*cv, "owner_id");
}

// Tokens of a leg's Call-ID template after its ${...} placeholders: {uuid}, {rand}, {hexN}, {md5:LEG}
// (expander::leg_call_id).
std::vector<std::string> call_id_tokens(const std::string& tmpl) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < tmpl.size();) {
    auto start = tmpl.find('{', pos);
    if (start == std::string::npos) break;
    auto end = tmpl.find('}', start);
    if (end == std::string::npos) break;
    if (start == 0 || tmpl[start - 1] != '$') out.push_back(tmpl.substr(start + 1, end - start - 1));
    pos = end + 1;
  }
  return out;
}

}  // namespace

call_template call_template::from_events(const std::vector<timed_event>& events, const instance& i,
                                         const scenario* s, std::uint64_t seed) {
  call_template t;
  t.flavour_ = i.flavour_;
  auto leg_index = [&t](const std::string& alias) {
    auto it = std::find(t.legs_.begin(), t.legs_.end(), alias);
    if (it != t.legs_.end()) return static_cast<std::size_t>(it - t.legs_.begin());
    t.legs_.push_back(alias);
    return t.legs_.size() - 1;
  };
  // Reference Call-IDs by leg (legs without events have none: an md5 of one cannot be templated).
  std::vector<std::string> ref_call_ids;
  auto set_ref = [&](std::size_t leg, const std::string& id) {
    if (ref_call_ids.size() <= leg) ref_call_ids.resize(leg + 1);
    ref_call_ids[leg] = id;
  };
  for (const auto& e : events) set_ref(leg_index(e.leg), e.call_id);

  std::vector<candidate> candidates;
  if (s != nullptr) {
    t.scenario_name_ = s->name;
    const auto seed_state = seed_state_of(s->name, seed);
    auto add = [&](seed_token tok) { t.tokens_.push_back(std::move(tok)); };
    if (auto legs = s->doc.find("legs"); legs != s->doc.end() && legs->is_object()) {
      for (const auto& [alias, leg] : legs->items()) {
        auto raw = leg.is_object() ? leg.value("call_id", std::string{"{uuid}"}) : std::string{"{uuid}"};
        for (const auto& tok : call_id_tokens(raw)) {
          if (tok == "uuid") {
            add({seed_token::kind::uuid, "leg:" + alias, 32, 0});
          } else if (tok == "rand") {
            add({seed_token::kind::hex, "leg:" + alias, 14, 0});
          } else if (tok.starts_with("hex") && tok.size() > 3) {
            add({seed_token::kind::hex, "leg:" + alias, std::stoul(tok.substr(3)), 0});
          } else if (tok.starts_with("md5:")) {
            add({seed_token::kind::md5_leg, {}, 0, leg_index(tok.substr(4))});
          }
        }
      }
    }
    add({seed_token::kind::interaction, "interaction", 8, 0});
    const auto text = s->doc.dump();
    for (auto pos = text.find("${rand:"); pos != std::string::npos; pos = text.find("${rand:", pos + 1)) {
      auto end = text.find('}', pos);
      if (end == std::string::npos) break;
      add({seed_token::kind::hex, "rand:" + text.substr(pos + 7, end - pos - 7), 32, 0});
    }
    if (auto evs = s->doc.find("events"); evs != s->doc.end() && evs->is_array()) {
      for (std::size_t k = 0; k < evs->size(); ++k) {
        if ((*evs)[k].value("name", std::string{}).starts_with("PARK_")) {
          add({seed_token::kind::hex, "park-msg:" + std::to_string(k), 32, 0});
        }
      }
    }
    // The reference values, found in the reference text. Duplicates (same generator twice) keep the first.
    for (std::size_t k = 0; k < t.tokens_.size(); ++k) {
      const auto& tok = t.tokens_[k];
      std::string value;
      switch (tok.kind_) {
        case seed_token::kind::hex: value = seeded_hex(seed_state, tok.key, tok.n); break;
        case seed_token::kind::uuid: value = seeded_uuid(seed_state, tok.key); break;
        case seed_token::kind::interaction:
          value = std::to_string(kazoo_bridge::unix_to_gregorian_s(i.start_unix_ms / 1000)) + "-" +
                  seeded_hex(seed_state, tok.key, tok.n);
          break;
        case seed_token::kind::md5_leg:
          if (tok.leg < ref_call_ids.size() && !ref_call_ids[tok.leg].empty()) {
            value = md5_hex(ref_call_ids[tok.leg]);
          }
          break;
      }
      bool dup = std::any_of(candidates.begin(), candidates.end(),
                             [&](const candidate& c) { return c.value == value; });
      if (!dup) candidates.push_back({std::move(value), static_cast<int>(k)});
    }
  }
  t.leg_call_ids_.resize(t.legs_.size());
  for (std::size_t k = 0; k < ref_call_ids.size(); ++k) t.leg_call_ids_[k] = templatize(ref_call_ids[k], candidates);

  // Evaluation order: md5 tokens after every token of the Call-ID they hash.
  std::vector<bool> ready(t.tokens_.size(), false);
  for (std::size_t k = 0; k < t.tokens_.size(); ++k) {
    if (t.tokens_[k].kind_ != seed_token::kind::md5_leg) {
      t.token_order_.push_back(k);
      ready[k] = true;
    }
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t k = 0; k < t.tokens_.size(); ++k) {
      if (ready[k]) continue;
      const auto& id = t.leg_call_ids_.at(t.tokens_[k].leg);
      bool deps = std::all_of(id.pieces.begin(), id.pieces.end(), [&](const text_template::piece& p) {
        return p.token < 0 || ready[static_cast<std::size_t>(p.token)];
      });
      if (deps) {
        t.token_order_.push_back(k);
        ready[k] = true;
        progress = true;
      }
    }
  }
  if (t.token_order_.size() != t.tokens_.size()) throw std::runtime_error("circular {md5:LEG} Call-IDs");

  auto with_sentinels = candidates;
  with_sentinels.push_back({std::string(msg_id_sentinel), text_template::msg_id_token});
  with_sentinels.push_back({std::string(timestamp_sentinel), text_template::timestamp_token});
  with_sentinels.push_back({std::string(created_sentinel), text_template::created_token});
  const std::int64_t start_us = i.start_unix_ms * 1000;
  for (const auto& e : events) {
    event_template et;
    et.name = e.name;
    et.account_id = e.account_id;
    et.leg = leg_index(e.leg);
    et.at_ms = e.at_unix_ms - i.start_unix_ms;
    t.length_ms_ = std::max(t.length_ms_, et.at_ms);
    et.channel = !e.name.starts_with("PARK_");
    json d = e.data;
    if (et.channel) {
      // expand()'s fill_channel_event sets all three on every channel event.
      et.event_offset_us = std::stoll(d.at("msg_id").get<std::string>()) - start_us;
      et.created_offset_us = d.at("channel_created_time").get<std::int64_t>() - start_us;
      d["msg_id"] = unquoted(msg_id_sentinel);
      d["timestamp"] = unquoted(timestamp_sentinel);
      d["channel_created_time"] = unquoted(created_sentinel);
    }
    et.data = templatize(d.dump(), with_sentinels);
    et.other_leg_call_id = templatize(str(e.data, "other_leg_call_id"), candidates);
    et.owner_id = templatize(owner_of(e.data), candidates);
    t.events_.push_back(std::move(et));
  }
  return t;
}

kazoo_bridge::result<call_template> call_template::build(const scenario& s, const fixture& fx,
                                                         const std::string& account_id, flavour f,
                                                         std::string* why) {
  auto fail = [&](std::string reason) -> kazoo_bridge::result<call_template> {
    if (why != nullptr) *why = std::move(reason);
    return kazoo_bridge::errc::bad_payload;
  };
  try {
    instance ref;
    ref.account_id = account_id;
    ref.seed = 0x243f6a8885a308d3ULL;
    ref.start_unix_ms = 1'700'000'000'123;
    ref.flavour_ = f;
    auto events = expand(s, fx, ref);
    if (events.empty()) return fail("expands to no events");
    auto t = from_events(events, ref, &s, ref.seed);
    // Another seed, another month, a start time with other roundings: must match a real expand().
    instance check = ref;
    check.seed = 0x13198a2e03707344ULL;
    check.start_unix_ms = 1'766'012'345'678;
    auto want = expand(s, fx, check);
    auto v = t.instantiate(check.seed, check.start_unix_ms);
    if (want.size() != t.events_.size()) return fail("event count differs");
    for (std::size_t k = 0; k < want.size(); ++k) {
      const auto& w = want[k];
      const auto& e = t.events_[k];
      if (w.name != e.name || w.account_id != e.account_id || w.call_id != v.call_ids.at(e.leg) ||
          w.at_unix_ms != check.start_unix_ms + e.at_ms) {
        return fail("event " + std::to_string(k) + " " + w.name + ": name/account/Call-ID/time differ");
      }
      if (t.render(v, k) != w.data.dump()) return fail("event " + std::to_string(k) + " " + w.name + ": data differs");
      if (t.render(v, e.other_leg_call_id) != str(w.data, "other_leg_call_id") ||
          t.render(v, e.owner_id) != owner_of(w.data)) {
        return fail("event " + std::to_string(k) + " " + w.name + ": other leg/owner differ");
      }
    }
    return t;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

call_template call_template::literal(const std::vector<timed_event>& events, const instance& i) {
  auto t = from_events(events, i, nullptr, 0);
  t.literal_ = true;
  t.literal_start_ms_ = i.start_unix_ms;
  return t;
}

call_values call_template::instantiate(std::uint64_t seed, std::int64_t start_unix_ms) const {
  call_values v;
  v.start_unix_ms = literal_ ? literal_start_ms_ : start_unix_ms;
  v.values.resize(tokens_.size());
  const auto seed_state = seed_state_of(scenario_name_, seed);
  for (auto k : token_order_) {
    const auto& tok = tokens_[k];
    switch (tok.kind_) {
      case seed_token::kind::hex: v.values[k] = seeded_hex(seed_state, tok.key, tok.n); break;
      case seed_token::kind::uuid: v.values[k] = seeded_uuid(seed_state, tok.key); break;
      case seed_token::kind::interaction:
        // Call-Interaction-ID = "{gregorian_seconds}-{8hex}" of the call's start (§2.5).
        v.values[k] = std::to_string(kazoo_bridge::unix_to_gregorian_s(v.start_unix_ms / 1000)) + "-" +
                      seeded_hex(seed_state, tok.key, tok.n);
        break;
      case seed_token::kind::md5_leg: v.values[k] = md5_hex(render(v, leg_call_ids_[tok.leg])); break;
    }
  }
  v.call_ids.reserve(leg_call_ids_.size());
  v.encoded_call_ids.reserve(leg_call_ids_.size());
  for (const auto& id : leg_call_ids_) {
    v.call_ids.push_back(render(v, id));
    v.encoded_call_ids.push_back(encode_routing_segment(v.call_ids.back()));
  }
  return v;
}

void call_template::append(std::string& out, const call_values& v, const text_template& t,
                           std::int64_t event_offset_us, std::int64_t created_offset_us,
                           std::size_t* msg_id_at) const {
  const std::int64_t start_us = v.start_unix_ms * 1000;
  for (const auto& p : t.pieces) {
    out += p.literal;
    switch (p.token) {
      case text_template::no_token: break;
      case text_template::msg_id_token:
        // Msg-ID of channel events = FreeSWITCH Event-Date-Timestamp, Unix µs, a string (§2.3).
        out += '"';
        if (msg_id_at != nullptr) *msg_id_at = out.size();
        append_int(out, start_us + event_offset_us);
        out += '"';
        break;
      case text_template::timestamp_token: {
        // KZ43 floors the event time to seconds, mod_kazoo rounds up (§2.6.8).
        const std::int64_t us = start_us + event_offset_us;
        const std::int64_t unix_s = flavour_ == flavour::kzm ? (us + 999999) / 1000000 : us / 1000000;
        append_int(out, kazoo_bridge::unix_to_gregorian_s(unix_s));
        break;
      }
      case text_template::created_token: append_int(out, start_us + created_offset_us); break;
      default: out += v.values[static_cast<std::size_t>(p.token)]; break;
    }
  }
}

std::string call_template::render(const call_values& v, std::size_t index, std::size_t* msg_id_at) const {
  const auto& e = events_.at(index);
  std::string out;
  out.reserve(e.data.literal_size + 64 * e.data.pieces.size());
  if (msg_id_at != nullptr) *msg_id_at = std::string::npos;
  append(out, v, e.data, e.event_offset_us, e.created_offset_us, msg_id_at);
  return out;
}

std::string call_template::render(const call_values& v, const text_template& t) const {
  std::string out;
  append(out, v, t, 0, 0, nullptr);
  return out;
}

}  // namespace kazoo_sim
