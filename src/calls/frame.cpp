// Blackhole envelope parsing (reference/kazoo.md §1.3 replies, §1.4 events).

#include <kazoo_bridge/calls/frame.hpp>

#include <algorithm>
#include <array>
#include <unordered_set>

#include "calls/json_text.hpp"

namespace kazoo_bridge::calls {
namespace {

using detail::json_member;

kazoo_bridge::result<frame> fail(std::string* reason, std::string text) {
  if (reason) *reason = std::move(text);
  return kazoo_bridge::errc::bad_payload;
}

// The last member named `key` (a duplicate key keeps its last value, as nlohmann's parser does).
const json_member* find(const std::vector<json_member>& members, std::string_view key) {
  for (auto it = members.rbegin(); it != members.rend(); ++it) {
    if (it->is(key)) return &*it;
  }
  return nullptr;
}

std::string str(const std::vector<json_member>& members, std::string_view key) {
  const auto* m = find(members, key);
  return m ? detail::decode_string(m->value) : std::string{};
}

// The members of a call event's `data` that the tracker reads (src/calls/engine*.cpp: jstr/jint/jtrue
// and finds on `d`); the others stay in data_text only. A new key read from `d` must be added here: the
// scenario tables, which go through parse_frame, catch a missing one.
constexpr std::array<std::string_view, 25> tracked_members = {
    "billing_seconds",  "call_direction",   "call_id",
    "callee_id_name",   "callee_id_number", "caller_id_name",
    "caller_id_number", "channel_created_time", "channel_is_loopback",
    "channel_loopback_leg", "channel_loopback_other_leg_id", "disposition",
    "duration_seconds", "event_name",       "event_timestamp",
    "hangup_cause",     "media_recordings", "msg_id",
    "other_leg_call_id", "parking_slot",    "replaced_by",
    "request",          "timestamp",        "to",
    "custom_channel_vars"};

bool tracked(const json_member& m) {
  static const std::unordered_set<std::string_view> keys(tracked_members.begin(), tracked_members.end());
  if (m.key.find('\\') == std::string_view::npos) return keys.contains(m.key);
  return std::any_of(tracked_members.begin(), tracked_members.end(), [&](std::string_view k) { return m.is(k); });
}

// Decodes the tracked members of a call event's data object (already validated). Custom channel vars
// are kept whole: the tracker also asks whether a leg has any CCV at all (carrier legs have none, §2.5).
nlohmann::json tracked_data(const std::vector<json_member>& members) {
  nlohmann::json d = nlohmann::json::object();
  for (const auto& m : members) {
    if (!tracked(m)) continue;
    d[detail::decode_key(m.key)] = detail::decode_value(m.value);
  }
  return d;
}

// "call.{ACCOUNT_ID}.{EVENT}.{CALL_ID}" -> ACCOUNT_ID (routing_key and subscription_key share the shape).
std::string account_of(const std::string& key) {
  if (!key.starts_with("call.")) return {};
  auto end = key.find('.', 5);
  if (end == std::string::npos) return {};
  auto account = key.substr(5, end - 5);
  return account == "*" ? std::string{} : account;
}

// "qubicle.queue.{ACCOUNT_ID}.{QUEUE_ID}" -> ACCOUNT_ID (§4.3).
std::string qubicle_account_of(const std::string& key) {
  auto first = key.find('.');
  if (first == std::string::npos) return {};
  auto second = key.find('.', first + 1);
  if (second == std::string::npos) return {};
  auto end = key.find('.', second + 1);
  auto account = key.substr(second + 1, end == std::string::npos ? std::string::npos : end - second - 1);
  return account == "*" ? std::string{} : account;
}

bool empty_object(std::string_view v) {
  if (v.empty() || v.front() != '{') return false;
  auto close = v.find_first_not_of(" \t\r\n", 1);
  return close != std::string_view::npos && v[close] == '}';
}

}  // namespace

bool is_call_event_name(std::string_view name) {
  static constexpr std::array<std::string_view, 9> names = {
      "CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_DESTROY", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
      "CHANNEL_BRIDGE", "PARK_PARKED",    "PARK_RETRIEVED",  "PARK_ABANDONED"};
  for (auto n : names) {
    if (n == name) return true;
  }
  return false;
}

kazoo_bridge::result<frame> parse_frame(std::string_view text, std::string* reason) {
  std::vector<json_member> top, members;
  switch (detail::scan_object(text, top, "data", &members)) {
    case detail::json_scan::invalid: return fail(reason, "invalid JSON");
    case detail::json_scan::not_object: return fail(reason, "not a JSON object");
    case detail::json_scan::ok: break;
  }
  frame f;
  const auto action = str(top, "action");
  f.subscribed_key = str(top, "subscribed_key");
  const auto* data = find(top, "data");
  if (action == "reply") {
    f.kind = frame_kind::reply;
    f.request_id = str(top, "request_id");
    f.status = str(top, "status");
    if (data) f.data = detail::decode_value(data->value);
    return f;
  }
  if (action != "event") return fail(reason, action.empty() ? "missing action" : "unknown action");
  f.kind = frame_kind::event;
  f.name = str(top, "name");
  if (!data || data->value.front() != '{' || empty_object(data->value)) return fail(reason, "event without data");
  if (f.name.empty()) f.name = str(members, "event_name");
  if (f.name.empty()) return fail(reason, "event without name");
  f.routing_key = str(top, "routing_key");
  f.data_text = std::make_shared<const std::string>(data->value);
  if (f.subscribed_key.starts_with("qubicle.") || f.routing_key.starts_with("qubicle.")) {
    // Qubicle (commercial call center, §4.3): name is the bare event ("join", "leave", "delivered"...),
    // the category is the binding. Events without a call (queue stats, recipient logins) are valid frames
    // the tracker ignores, not malformed ones. Rare: decoded whole.
    auto binding = f.subscribed_key.starts_with("qubicle.") ? f.subscribed_key : f.routing_key;
    auto category = binding.substr(0, binding.find('.', 8));
    f.name = category + "." + f.name;
    f.account_id = qubicle_account_of(f.routing_key);
    if (f.account_id.empty()) f.account_id = qubicle_account_of(str(top, "subscription_key"));
    if (f.account_id.empty()) f.account_id = str(members, "account_id");
    f.data = detail::decode_value(data->value);
    return f;
  }
  if (!is_call_event_name(f.name)) {
    return fail(reason, "unknown event name " + f.name.substr(0, 40));
  }
  if (str(members, "call_id").empty()) return fail(reason, "event without call_id");
  f.account_id = account_of(f.routing_key);
  if (f.account_id.empty()) f.account_id = account_of(str(top, "subscription_key"));
  f.data = tracked_data(members);
  return f;
}

}  // namespace kazoo_bridge::calls
