#include <kazoo_bridge/api/call_json.hpp>

namespace kazoo_bridge::api {

nlohmann::json call_json(const store::call_row& row) {
  auto j = nlohmann::json::parse(row.snapshot, nullptr, false);
  if (!j.is_object()) j = nlohmann::json::object();
  j["call_id"] = row.call_id;
  j["account_id"] = row.account_id;
  j["status"] = row.status;
  j["answered"] = row.answered;
  return j;
}

std::string call_with_events_text(const store::call_row& row, const std::vector<std::string>& payloads) {
  // Parsing the payloads and dumping them again would reorder their keys (nlohmann::json sorts
  // objects) and re-render `raw`; the store keeps them as valid JSON text, so they are spliced.
  std::string out = call_json(row).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.pop_back();  // the object's closing '}' (call_json is never empty: call_id is always there)
  out += ",\"events\":[";
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    if (i > 0) out += ',';
    out += payloads[i];
  }
  out += "]}";
  return out;
}

}  // namespace kazoo_bridge::api
