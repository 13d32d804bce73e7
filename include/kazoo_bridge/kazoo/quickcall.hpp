#pragma once
/// Kazoo quickcall (reference/kazoo.md §5.4), the pure part: the request path and what Kazoo's
/// answer means. crossbar_client::quickcall() sends it.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kazoo_bridge::kazoo {

/// What to ring first: every device of a user, or one device.
enum class quickcall_target { user, device };

struct quickcall_request {
  std::string account_id;
  quickcall_target target = quickcall_target::user;
  std::string target_id;  ///< user id or device id
  std::string number;     ///< already normalised: "+15551234567" or an extension "101"
  /// Answer the phone by itself (intercom). Kazoo's default is true, applied only when exactly one
  /// endpoint rings (§5.4); we default to false: an unattended phone must not dial out on speaker.
  bool auto_answer = false;
  std::chrono::seconds ring_timeout{30};  ///< quickcall `timeout`, > 3 s (§5.4)
};

/// GET /accounts/{a}/users|devices/{id}/quickcall/{number}?auto_answer=..&timeout=.. (relative to
/// the /v2 base). GET, not POST: POST waits for the phone to be answered (up to `timeout`), GET
/// answers 202 as soon as the originate is sent (§5.4). The number is percent-encoded ("+" as %2B,
/// since some URL decoders turn a literal "+" into a space).
std::string quickcall_path(const quickcall_request& q);

/// What Kazoo answered, in our terms.
enum class quickcall_status {
  started,    ///< 2xx: the originate is under way
  not_found,  ///< 404 bad_identifier: Kazoo does not know the user/device
  refused,    ///< another 4xx (validation, 403 forbidden or token restrictions, 423 locked, ...)
  failed,     ///< 500 "quickcall initiation failed" / unspecified_fault: nothing Kazoo could ring
  auth_expired,  ///< 401: our Crossbar token expired (renew it, try once more)
  rate_limited,  ///< 429 too_many_requests (Crossbar's token bucket, §5.1)
  unavailable,   ///< another 5xx: Kazoo or its datastore is down
};

struct quickcall_answer {
  quickcall_status status = quickcall_status::unavailable;
  /// The originated leg's Call-ID ("{hex}-quickcall") from the originate request Kazoo echoes in
  /// `data` (`Outbound-Call-ID`, or `outbound_call_id` once normalised); nullopt when absent.
  std::optional<std::string> call_id;
  /// Kazoo's own words for an error (`data.error_message`, `data.message`, `message`), "" if none.
  std::string message;
  bool operator==(const quickcall_answer&) const = default;
};

/// Reads Kazoo's answer (§5.1 envelopes). A 2xx with an unreadable body still means started.
quickcall_answer classify_quickcall(unsigned http_status, std::string_view body);

}  // namespace kazoo_bridge::kazoo
