// Crossbar rows (§5.3 channels, §5.6 CDRs). Many CDR numbers are strings; both forms are accepted.

#include <kazoo_bridge/calls/crossbar_rows.hpp>

#include <charconv>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::calls {
namespace {

std::string str(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::int64_t num(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number()) return static_cast<std::int64_t>(it->get<double>());
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc{} ? v : 0;
  }
  return 0;
}

bool truthy(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return it->get<std::string>() == "true";
  return false;
}

}  // namespace

live_channel live_channel_from_json(const nlohmann::json& row, std::string account_id) {
  live_channel c;
  if (!row.is_object()) return c;
  c.uuid = str(row, "uuid");
  c.direction = str(row, "direction");
  c.answered = truthy(row, "answered");
  c.authorizing_id = str(row, "authorizing_id");
  c.authorizing_type = str(row, "authorizing_type");
  c.owner_id = str(row, "owner_id");
  c.destination = str(row, "destination");
  c.other_leg = str(row, "other_leg");
  c.presence_id = str(row, "presence_id");
  c.username = str(row, "username");
  c.timestamp = num(row, "timestamp");
  c.account_id = std::move(account_id);
  if (auto a = str(row, "account_id"); !a.empty()) c.account_id = a;
  c.bridge_id = str(row, "bridge_id");
  c.interaction_id = str(row, "interaction_id");
  if (c.interaction_id.empty()) c.interaction_id = str(row, "call_interaction_id");
  c.caller_id_number = str(row, "caller_id_number");
  c.caller_id_name = str(row, "caller_id_name");
  c.raw = row;
  return c;
}

cdr cdr_from_json(const nlohmann::json& row) {
  cdr c;
  if (!row.is_object()) return c;
  c.call_id = str(row, "call_id");
  c.interaction_id = str(row, "interaction_id");
  c.bridge_id = str(row, "bridge_id");
  c.other_leg_call_id = str(row, "other_leg_call_id");
  c.owner_id = str(row, "owner_id");
  c.authorizing_id = str(row, "authorizing_id");
  if (auto ccv = row.find("custom_channel_vars"); ccv != row.end() && ccv->is_object()) {
    c.authorizing_type = str(*ccv, "authorizing_type");
    c.resource_type = str(*ccv, "resource_type");
    if (c.bridge_id.empty()) c.bridge_id = str(*ccv, "bridge_id");
    if (c.owner_id.empty()) c.owner_id = str(*ccv, "owner_id");
  }
  c.caller_id_name = str(row, "caller_id_name");
  c.caller_id_number = str(row, "caller_id_number");
  c.callee_id_name = str(row, "callee_id_name");
  c.callee_id_number = str(row, "callee_id_number");
  c.direction = str(row, "direction");
  if (c.direction.empty()) c.direction = str(row, "call_direction");
  c.hangup_cause = str(row, "hangup_cause");
  c.disposition = str(row, "disposition");
  c.request = str(row, "request");
  c.to = str(row, "to");
  c.from = str(row, "from");
  c.recording_url = str(row, "recording_url");
  c.duration_seconds = num(row, "duration_seconds");
  c.billing_seconds = num(row, "billing_seconds");
  c.ended_unix_s = num(row, "unix_timestamp");
  if (c.ended_unix_s == 0) {
    // `timestamp` is Gregorian seconds, a string in CDR listings (§5.6).
    if (auto g = num(row, "timestamp"); g > gregorian_unix_offset_s) c.ended_unix_s = gregorian_to_unix_s(g);
  }
  if (auto m = row.find("media_recordings"); m != row.end()) {
    if (m->is_array()) {
      for (const auto& r : *m) {
        if (r.is_string() && !r.get<std::string>().empty()) c.media_recordings.push_back(r.get<std::string>());
      }
    } else if (m->is_string() && !m->get<std::string>().empty()) {
      c.media_recordings.push_back(m->get<std::string>());
    }
  }
  c.raw = row;
  return c;
}

}  // namespace kazoo_bridge::calls
