#pragma once
/// Call lifecycle events and call records: what the daemon stores and hooks receive (design.md
/// "Lifecycle events").

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kazoo_bridge::calls {

struct lifecycle_event {
  /// "evt_" + 26 chars, deterministic from (account, call key, type, discriminator) so re-deriving the
  /// same event after a restart yields the same id (consumers and the store dedupe on it).
  std::string id;
  std::string type;        ///< "call.started", ...
  std::string call_id;     ///< the logical call id (= A-leg Call-ID / bridge_id)
  std::string account_id;
  std::int64_t occurred_at_ms = 0;
  /// What a hook receives, except `raw`: every other key of design.md always present (null when
  /// unknown), plus click_to_call, origin ("click_to_call"|"quickcall"|null), end_reason and from_user_id.
  nlohmann::json payload;
  /// The payload's `raw`: the JSON text of the Kazoo object behind the event, exactly as received (one
  /// frame's `data` is shared by every event it causes); null renders as `null`.
  std::shared_ptr<const std::string> raw;
};

/// The whole payload as JSON text, `raw` included: what the store keeps and a hook receives.
std::string payload_text(const lifecycle_event& e);

/// The current state of one call, for the `calls` table and `kazoo-bridge calls`.
struct call_record {
  std::string call_id, account_id;
  std::string status;      ///< ringing|answered|parked|queued|ended
  std::string direction;   ///< inbound|outbound|internal
  bool answered = false;
  std::optional<std::string> user_id;
  std::int64_t started_at_ms = 0, updated_at_ms = 0;
  std::optional<std::int64_t> ended_at_ms;
  /// JSON object text: the payload keys describing the call now (no id/type/raw/summary), compact,
  /// keys sorted (the same text as nlohmann's dump of that object).
  std::string snapshot;
  std::string state;        ///< JSON text of everything tracker::restore() needs (the tracker's own format)
};

/// Every lifecycle event type, in the order of design.md.
inline constexpr std::string_view event_types[] = {
    "call.started", "call.ringing", "call.answered", "call.held", "call.unheld", "call.transferred",
    "call.parked", "call.retrieved", "call.queue.entered", "call.queue.answered", "call.queue.abandoned",
    "call.ended", "call.missed"};

/// "evt_" + 26 lower-case base32 chars of SHA-256(account \n call key \n type \n discriminator).
std::string make_event_id(std::string_view account_id, std::string_view call_key, std::string_view type,
                          std::string_view discriminator);

/// One human sentence for a payload, e.g.
/// "Inbound call from +1 555 123 4567 (Jane Roe) answered by John Doe (ext 101)".
std::string summary_for(const nlohmann::json& payload);

/// "+15551234567" -> "+1 555 123 4567" (NANP); other numbers unchanged.
std::string pretty_number(std::string_view number);

}  // namespace kazoo_bridge::calls
