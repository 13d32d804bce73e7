// Blackhole envelope parsing (reference/kazoo.md §1.3 replies, §1.4 events).

#include <kazoo_bridge/calls/frame.hpp>

#include <array>

namespace kazoo_bridge::calls {
namespace {

kazoo_bridge::result<frame> fail(std::string* reason, std::string text) {
  if (reason) *reason = std::move(text);
  return kazoo_bridge::errc::bad_payload;
}

std::string str(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string{};
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
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(reason, "invalid JSON");
  if (!doc.is_object()) return fail(reason, "not a JSON object");
  frame f;
  const auto action = str(doc, "action");
  f.subscribed_key = str(doc, "subscribed_key");
  if (action == "reply") {
    f.kind = frame_kind::reply;
    f.request_id = str(doc, "request_id");
    f.status = str(doc, "status");
    if (auto d = doc.find("data"); d != doc.end()) f.data = std::move(*d);
    return f;
  }
  if (action != "event") return fail(reason, action.empty() ? "missing action" : "unknown action");
  f.kind = frame_kind::event;
  f.name = str(doc, "name");
  auto data = doc.find("data");
  if (data == doc.end() || !data->is_object() || data->empty()) return fail(reason, "event without data");
  if (f.name.empty()) f.name = str(*data, "event_name");
  if (f.name.empty()) return fail(reason, "event without name");
  f.routing_key = str(doc, "routing_key");
  if (f.subscribed_key.starts_with("qubicle.") || f.routing_key.starts_with("qubicle.")) {
    // Qubicle (commercial call center, §4.3): name is the bare event ("join", "leave", "delivered"...),
    // the category is the binding. Events without a call (queue stats, recipient logins) are valid frames
    // the tracker ignores, not malformed ones.
    auto binding = f.subscribed_key.starts_with("qubicle.") ? f.subscribed_key : f.routing_key;
    auto category = binding.substr(0, binding.find('.', 8));
    f.name = category + "." + f.name;
    f.account_id = qubicle_account_of(f.routing_key);
    if (f.account_id.empty()) f.account_id = qubicle_account_of(str(doc, "subscription_key"));
    if (f.account_id.empty()) f.account_id = str(*data, "account_id");
    f.data = std::move(*data);
    return f;
  }
  if (!is_call_event_name(f.name)) {
    return fail(reason, "unknown event name " + f.name.substr(0, 40));
  }
  if (str(*data, "call_id").empty()) return fail(reason, "event without call_id");
  f.account_id = account_of(f.routing_key);
  if (f.account_id.empty()) f.account_id = account_of(str(doc, "subscription_key"));
  f.data = std::move(*data);
  return f;
}

}  // namespace kazoo_bridge::calls
