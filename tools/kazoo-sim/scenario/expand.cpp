// Expanding a scenario into timed blackhole events (reference/kazoo.md §1.4, §2.3–§2.6).

#include <kazoo_sim/scenario.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <openssl/evp.h>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_sim {
namespace {

using nlohmann::json;

constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string md5_hex(std::string_view s) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md.data(), &len, EVP_md5(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0xF];
  }
  return out;
}

bool is_park(std::string_view name) { return name.starts_with("PARK_"); }

// The keys cf_park:publish_event/3 puts on PARK_* events (§2.4); nothing else survives.
const std::set<std::string, std::less<>> park_keys = {
    "app_name", "app_version", "event_category", "event_name", "msg_id", "call_id", "callee_id_name",
    "callee_id_number", "caller_id_name", "caller_id_number", "custom_channel_vars", "parking_slot"};

// Kazoo drops null/undefined values before publishing (kz_api:build_message), recursively.
void drop_nulls(json& j) {
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end();) {
    if (it->is_null()) {
      it = j.erase(it);
    } else {
      drop_nulls(*it);
      ++it;
    }
  }
}

class expander {
 public:
  expander(const scenario& s, const account& a, const instance& i) : s_(s), a_(a), i_(i) {
    seed_state_ = seed_state_of(s.name, i.seed);
  }

  std::vector<timed_event> run() {
    const auto& events = s_.doc.at("events");
    // Per leg: when its channel was created and answered (durations, channel_created_time).
    for (const auto& e : events) {
      const auto leg = e["leg"].get<std::string>();
      const auto at = e["at_ms"].get<std::int64_t>();
      const auto name = e["name"].get<std::string>();
      auto& t = times_[leg];
      if (is_park(name)) continue;
      if (name == "CHANNEL_CREATE") {
        t.created = at;
        t.create_seen = true;
      } else if (!t.create_seen) {
        t.created = std::min(t.created.value_or(at), at);
      }
      if (name == "CHANNEL_ANSWER" && !t.answered) t.answered = at;
    }
    std::vector<timed_event> out;
    std::size_t index = 0;
    for (const auto& e : events) out.push_back(make_event(e, index++));
    std::stable_sort(out.begin(), out.end(),
                     [](const timed_event& x, const timed_event& y) { return x.at_unix_ms < y.at_unix_ms; });
    return out;
  }

 private:
  struct leg_times {
    std::optional<std::int64_t> created, answered;
    bool create_seen = false;
  };

  std::string hex(std::string_view key, std::size_t n) const { return seeded_hex(seed_state_, key, n); }
  std::string uuid(std::string_view key) const { return seeded_uuid(seed_state_, key); }

  std::string var(const std::string& name) const {
    if (auto it = i_.vars.find(name); it != i_.vars.end()) return it->second;
    if (auto v = s_.doc.find("vars"); v != s_.doc.end() && v->is_object()) {
      if (auto it = v->find(name); it != v->end() && it->is_string()) return it->get<std::string>();
    }
    return {};
  }

  // ${user:bob.id}: "bob" may be renamed through vars ({"bob": "gina"}).
  const user* user_ref(const std::string& who) const {
    auto renamed = var(who);
    return a_.find_user(renamed.empty() ? who : renamed);
  }

  std::optional<std::string> placeholder(const std::string& key) {
    if (key == "account.id") return a_.id;
    if (key == "account.name") return a_.name;
    if (key == "account.realm") return a_.realm;
    if (key == "account.number") return a_.numbers.empty() ? std::string{"+10000000000"} : a_.numbers.front();
    if (key == "interaction") {
      // Call-Interaction-ID = "{gregorian_seconds}-{8hex}" (§2.5).
      return std::to_string(kazoo_bridge::unix_to_gregorian_s(i_.start_unix_ms / 1000)) + "-" + hex("interaction", 8);
    }
    auto colon = key.find(':');
    if (colon == std::string::npos) return std::nullopt;
    auto kind = key.substr(0, colon);
    auto rest = key.substr(colon + 1);
    if (kind == "leg") return leg_call_id(rest);
    if (kind == "var") {
      auto v = var(rest);
      return v.empty() ? std::nullopt : std::optional<std::string>(v);
    }
    if (kind == "rand") return hex("rand:" + rest, 32);
    auto dot = rest.rfind('.');
    if (dot == std::string::npos) return std::nullopt;
    const user* u = user_ref(rest.substr(0, dot));
    if (!u) return std::nullopt;
    auto field = rest.substr(dot + 1);
    if (kind == "user") {
      if (field == "id") return u->id;
      if (field == "username") return u->username;
      if (field == "first_name") return u->first_name;
      if (field == "last_name") return u->last_name;
      if (field == "name") return u->first_name + " " + u->last_name;
      if (field == "email") return u->email;
      if (field == "extension") return u->extension;
      if (field == "presence_id") return u->presence_id;
      if (field == "priv_level") return u->priv_level;
      return std::nullopt;
    }
    if (kind == "device") {
      const device* d = a_.first_device_of(u->id);
      if (!d) return std::nullopt;
      if (field == "id") return d->id;
      if (field == "name") return d->name;
      if (field == "sip_username") return d->sip_username;
    }
    return std::nullopt;
  }

  std::string resolve(const std::string& in) {
    std::string out;
    std::size_t pos = 0;
    while (pos < in.size()) {
      auto start = in.find("${", pos);
      if (start == std::string::npos) break;
      auto end = in.find('}', start);
      if (end == std::string::npos) break;
      out.append(in, pos, start - pos);
      auto value = placeholder(in.substr(start + 2, end - start - 2));
      if (value) {
        out += *value;
      } else {
        out.append(in, start, end - start + 1);  // left verbatim: the tests look for "${"
      }
      pos = end + 1;
    }
    out.append(in, pos, std::string::npos);
    return out;
  }

  void resolve_all(json& j) {
    if (j.is_string()) {
      j = resolve(j.get<std::string>());
    } else if (j.is_structured()) {
      for (auto& v : j) resolve_all(v);
    }
  }

  // Call-ID templates: ${...} placeholders, then {uuid}, {hexN}, {md5:LEG}.
  std::string leg_call_id(const std::string& alias) {
    if (auto it = call_ids_.find(alias); it != call_ids_.end()) return it->second;
    const auto& legs = s_.doc.at("legs");
    auto leg = legs.find(alias);
    if (leg == legs.end() || in_progress_.contains(alias)) return "${leg:" + alias + "}";
    in_progress_.insert(alias);
    auto tmpl = resolve(leg->value("call_id", std::string{"{uuid}"}));
    std::string out;
    std::size_t pos = 0;
    while (pos < tmpl.size()) {
      auto start = tmpl.find('{', pos);
      if (start == std::string::npos) break;
      auto end = tmpl.find('}', start);
      if (end == std::string::npos) break;
      out.append(tmpl, pos, start - pos);
      auto token = tmpl.substr(start + 1, end - start - 1);
      if (token == "uuid") {
        out += uuid("leg:" + alias);
      } else if (token == "rand") {
        out += hex("leg:" + alias, 14);
      } else if (token.starts_with("hex")) {
        out += hex("leg:" + alias, static_cast<std::size_t>(std::stoul(token.substr(3))));
      } else if (token.starts_with("md5:")) {
        out += md5_hex(leg_call_id(token.substr(4)));
      } else {
        out.append(tmpl, start, end - start + 1);
      }
      pos = end + 1;
    }
    out.append(tmpl, pos, std::string::npos);
    in_progress_.erase(alias);
    call_ids_[alias] = out;
    return out;
  }

  std::int64_t unix_ms(std::int64_t at_ms) const { return i_.start_unix_ms + at_ms; }

  timed_event make_event(const json& e, std::size_t index) {
    timed_event out;
    out.leg = e["leg"].get<std::string>();
    out.name = e["name"].get<std::string>();
    const auto at = e["at_ms"].get<std::int64_t>();
    out.at_unix_ms = unix_ms(at);
    out.call_id = leg_call_id(out.leg);
    const bool park = is_park(out.name);
    const auto& legs = s_.doc.at("legs");
    const json leg_doc = legs.contains(out.leg) ? legs.at(out.leg) : json::object();

    // Leg defaults with the event's data applied as a JSON merge patch (RFC 7396): null deletes a key.
    json data = park ? json::object() : leg_doc.value("defaults", json::object());
    data.merge_patch(e.value("data", json::object()));
    resolve_all(data);

    data["event_name"] = out.name;
    data["event_category"] = "call_event";
    data["call_id"] = out.call_id;
    if (park) {
      // cf_park publishes with callflow's identity, a random Msg-ID and no Timestamp (§2.4).
      data["app_name"] = "callflow";
      data["app_version"] = "4.0.0";
      data["msg_id"] = hex("park-msg:" + std::to_string(index), 32);
      if (data.contains("parking_slot") && !data["parking_slot"].is_string()) {
        data["parking_slot"] = data["parking_slot"].dump();
      }
      for (auto it = data.begin(); it != data.end();) {
        it = park_keys.contains(it.key()) ? std::next(it) : data.erase(it);
      }
    } else {
      fill_channel_event(data, out, at, index);
    }
    drop_nulls(data);

    out.account_id = i_.account_id;
    if (auto ccv = data.find("custom_channel_vars"); ccv != data.end() && ccv->is_object()) {
      if (auto acc = ccv->find("account_id"); acc != ccv->end() && acc->is_string()) out.account_id = acc->get<std::string>();
    }
    out.data = std::move(data);
    return out;
  }

  void fill_channel_event(json& data, const timed_event& ev, std::int64_t at, std::size_t index) {
    const bool kzm = i_.flavour_ == flavour::kzm;
    data["app_name"] = kzm ? "freeswitch" : "ecallmgr";
    data["app_version"] = kzm ? "1.0" : "4.0.0";
    // Msg-ID of channel events = FreeSWITCH Event-Date-Timestamp (Unix µs) as a string (§2.3).
    const std::int64_t event_us = unix_ms(at) * 1000 + static_cast<std::int64_t>(index % 997);
    data["msg_id"] = std::to_string(event_us);
    const std::int64_t unix_s = kzm ? (event_us + 999999) / 1000000 : event_us / 1000000;
    data["timestamp"] = kazoo_bridge::unix_to_gregorian_s(unix_s);
    const auto& t = times_[ev.leg];
    data["channel_created_time"] = unix_ms(t.created.value_or(at)) * 1000 + 13;

    static const std::map<std::string, std::pair<const char*, const char*>> states = {
        {"CHANNEL_CREATE", {"INIT", "DOWN"}},          {"CHANNEL_ANSWER", {"EXECUTE", "ACTIVE"}},
        {"CHANNEL_BRIDGE", {"EXCHANGE_MEDIA", "ACTIVE"}}, {"CHANNEL_HOLD", {"EXCHANGE_MEDIA", "HELD"}},
        {"CHANNEL_UNHOLD", {"EXCHANGE_MEDIA", "ACTIVE"}}, {"CHANNEL_DESTROY", {"HANGUP", "HANGUP"}}};
    if (auto st = states.find(ev.name); st != states.end()) {
      if (!data.contains("channel_state")) data["channel_state"] = st->second.first;
      if (!data.contains("channel_call_state")) data["channel_call_state"] = st->second.second;
    }
    if (!data.contains("custom_application_vars")) data["custom_application_vars"] = json::object();
    if (!data.contains("media_server")) {
      data["media_server"] = "fs1.example.net";
      data["switch_hostname"] = "fs1.example.net";
      data["switch_nodename"] = "freeswitch@fs1.example.net";
      data["switch_uri"] = "sip:10.10.0.5:11000";
      data["switch_url"] = "sip:mod_sofia@10.10.0.5:11000";
    }
    if (ev.name == "CHANNEL_ANSWER" && !data.contains("disposition")) data["disposition"] = "ANSWER";

    if (ev.name == "CHANNEL_DESTROY") fill_destroy(data, t, at);
    if (kzm) add_kzm_extras(data, ev);
  }

  void fill_destroy(json& data, const leg_times& t, std::int64_t at) {
    const std::int64_t created = t.created.value_or(at);
    const std::int64_t duration = (at - created + 500) / 1000;
    const bool answered = t.answered && *t.answered <= at;
    // Billing-Seconds = ceil(billmsec / 1000); KZ43 Ringing-Seconds = duration - billing - progress (§2.4).
    const std::int64_t billing = answered ? (at - *t.answered + 999) / 1000 : 0;
    const std::int64_t ringing = std::max<std::int64_t>(0, duration - billing);
    if (!data.contains("duration_seconds")) data["duration_seconds"] = duration;
    if (!data.contains("billing_seconds")) data["billing_seconds"] = billing;
    if (!data.contains("ringing_seconds")) data["ringing_seconds"] = ringing;
    if (!data.contains("disposition")) data["disposition"] = answered ? "ANSWER" : "ORIGINATOR_CANCEL";
    if (!data.contains("remote_sdp") && answered) {
      data["remote_sdp"] = "v=0\r\no=- 1 1 IN IP4 10.10.1.20\r\ns=-\r\n";
      data["local_sdp"] = "v=0\r\no=FreeSWITCH 1 1 IN IP4 10.10.0.5\r\ns=FreeSWITCH\r\n";
    }
    if (i_.legacy_string_durations) {
      for (const char* k : {"duration_seconds", "billing_seconds", "ringing_seconds"}) {
        if (data[k].is_number()) data[k] = std::to_string(data[k].get<std::int64_t>());
      }
    }
    // Recordings: a CCV on 4.3 (ecallmgr_call_command), a top-level array on mod_kazoo (§2.5, §2.6.8).
    if (auto rec = data.find("media_recordings"); rec != data.end() && i_.flavour_ == flavour::kz43) {
      auto value = *rec;
      data.erase(rec);
      data["custom_channel_vars"]["media_recordings"] = value;
    }
  }

  void add_kzm_extras(json& data, const timed_event& ev) {
    if (ev.name == "CHANNEL_CREATE") {
      if (auto req = data.find("request"); req != data.end() && req->is_string()) {
        auto user_part = req->get<std::string>().substr(0, req->get<std::string>().find('@'));
        data["caller_destination_number"] = user_part;
        data["destination_number"] = user_part;
        if (user_part.starts_with('+')) data["to_did"] = user_part;
      }
    }
    auto ccv = data.find("custom_channel_vars");
    if (ccv == data.end() || !ccv->is_object()) return;
    if (ccv->contains("call_interaction_id")) {
      (*ccv)["call_interaction_is_root"] = ccv->value("bridge_id", std::string{}) == ev.call_id;
    }
    if (ccv->contains("application_name")) {
      (*ccv)["privacy_hide_name"] = false;
      (*ccv)["privacy_hide_number"] = false;
    }
  }

  const scenario& s_;
  const account& a_;
  const instance& i_;
  std::uint64_t seed_state_;
  std::map<std::string, std::string> call_ids_;
  std::set<std::string> in_progress_;
  std::map<std::string, leg_times> times_;
};

}  // namespace

std::uint64_t seed_state_of(std::string_view scenario_name, std::uint64_t seed) {
  return fnv1a(scenario_name, seed * 0x100000001b3ULL + 0x5bd1e995ULL);
}

std::string seeded_hex(std::uint64_t seed_state, std::string_view key, std::size_t n) {
  std::uint64_t state = fnv1a(key, seed_state);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    auto v = splitmix(state);
    for (int k = 0; k < 16 && out.size() < n; ++k) out += digits[(v >> (4 * k)) & 0xF];
  }
  return out;
}

std::string seeded_uuid(std::uint64_t seed_state, std::string_view key) {
  auto h = seeded_hex(seed_state, key, 32);
  h[12] = '4';  // RFC 4122 version 4 shape, like FreeSWITCH's uuids
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::vector<timed_event> expand(const scenario& s, const fixture& f, const instance& i) {
  const account* a = f.find_account(i.account_id);
  if (!a || !s.doc.contains("events") || !s.doc.contains("legs")) return {};
  return expander(s, *a, i).run();
}

std::string encode_call_id(std::string_view call_id) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : call_id) {
    auto b = static_cast<unsigned char>(c);
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || c == '-' || c == '~' ||
        c == '_') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += digits[b >> 4];
      out += digits[b & 0xF];
    }
  }
  return out;
}

std::string routing_key(const timed_event& e) {
  return "call." + e.account_id + "." + e.name + "." + encode_call_id(e.call_id);
}

}  // namespace kazoo_sim
