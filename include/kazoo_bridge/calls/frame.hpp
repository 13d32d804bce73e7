#pragma once
/// Parsing blackhole WebSocket messages (reference/kazoo.md §1.3, §1.4). Pure.

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::calls {

enum class frame_kind { event, reply };

/// A parsed blackhole message: the real 4.x/5.x envelope
/// {"action":"event","subscribed_key","subscription_key","name","routing_key","data":{...}}
/// or a reply {"action":"reply","request_id","status","data"}.
struct frame {
  frame_kind kind = frame_kind::event;
  std::string name;            ///< Event-Name (events only)
  /// The snake_case `data` object (events), the reply's `data` (replies). For the nine call events only
  /// the members the call tracker reads are decoded (see frame.cpp); the whole object is in data_text.
  nlohmann::json data;
  /// Events: the exact text of `data` as received, shared by every lifecycle event it causes (their `raw`).
  std::shared_ptr<const std::string> data_text;
  std::string request_id;      ///< replies
  std::string status;          ///< replies: "success" | "error"
  std::string subscribed_key;  ///< the binding the client sent, e.g. "call.*.*"
  std::string routing_key;     ///< "call.{ACCOUNT_ID}.{EVENT}.{ENCODED_CALL_ID}"
  /// The account the event was delivered for: CCV account_id is missing on carrier CHANNEL_CREATE
  /// (the account comes from the DID lookup, §1.4), so it is taken from routing_key/subscription_key.
  std::string account_id;
};

struct parse_error {
  std::string reason;
};

/// The nine call events blackhole exposes (§1.5); anything else is errc::bad_payload.
bool is_call_event_name(std::string_view name);

/// Returns the frame, or errc::bad_payload for invalid JSON, a non-object, an event with missing/empty
/// `data` or without `data.call_id`, an unknown event name, or an unknown action. When `reason` is
/// given it receives a short text for the "malformed frame" metric and one sampled log line.
kazoo_bridge::result<frame> parse_frame(std::string_view text, std::string* reason = nullptr);

}  // namespace kazoo_bridge::calls
