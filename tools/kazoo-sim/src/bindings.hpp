#pragma once
/// Blackhole binding grammar (reference/kazoo.md §1.5): validation with Kazoo's exact error texts,
/// expansion into internal bindings (call.*.* = 9) and event matching. Pure.

#include <array>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kazoo_sim {

/// The only 9 call events blackhole exposes (bh_call ?LISTEN_TO, §1.5 / §0 item 6).
inline constexpr std::array<std::string_view, 9> call_event_names = {
    "CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_DESTROY", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE", "PARK_PARKED",    "PARK_RETRIEVED",  "PARK_ABANDONED"};

bool is_call_event(std::string_view name);

/// One internal (AMQP-like) binding of a session. A client binding expands to one or more.
struct internal_binding {
  std::string client_binding;    ///< what the client sent: becomes `subscribed_key`
  std::string subscription_key;  ///< e.g. call.{ACCOUNT}.CHANNEL_CREATE.*
  std::string account_id;
  std::string module;            ///< "call", "qubicle", "object", "fax", "conference"
  std::string event;             ///< call: event name or "*"; qubicle: session|recipient|queue
  std::string call_id;           ///< call: encoded Call-ID or "*"
  /// The hub's cache of this binding's event frame head, `{"action":"event","subscribed_key":..,
  /// "subscription_key":..,` (built on the first event, reused for every later one).
  mutable std::string frame_head;
};

struct binding_options {
  bool qubicle = false;  ///< bh_qubicle loaded (commercial; --qubicle)
};

/// Either the expanded bindings or the error string Kazoo replies with (§1.3 table).
using binding_result = std::variant<std::vector<internal_binding>, std::string>;

binding_result expand_binding(std::string_view binding, std::string_view account_id,
                              const binding_options& opts);

/// Does a call event (name, encoded Call-ID) of `account_id` match this binding?
bool matches_call_event(const internal_binding& b, std::string_view account_id,
                        std::string_view event_name, std::string_view encoded_call_id);

}  // namespace kazoo_sim
