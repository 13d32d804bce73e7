#pragma once
/// The JSON of a call record, shared by `kazoo-bridge calls --json` and the HTTP API.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/store/rows.hpp>

namespace kazoo_bridge::api {

/// The call's current state in the payload keys of design.md (the stored snapshot) plus call_id,
/// account_id, status (ringing|answered|parked|queued|ended) and answered (true/false).
nlohmann::json call_json(const store::call_row& row);

/// call_json(row) as text with "events": [...] added, each payload spliced in exactly as stored
/// (the bytes a hook received, key order and raw included), oldest first.
std::string call_with_events_text(const store::call_row& row, const std::vector<std::string>& payloads);

}  // namespace kazoo_bridge::api
