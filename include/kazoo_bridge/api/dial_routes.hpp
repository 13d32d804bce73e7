#pragma once
/// Click-to-call, POST /api/v1/calls (issue #4; docs/api.md "Click-to-call"): Kazoo rings the
/// caller's phone through quickcall (reference/kazoo.md §5.4), then dials the number.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include <kazoo_bridge/api/caller.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>
#include <kazoo_bridge/kazoo/quickcall.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::api {

struct dial_options {
  std::string realm = "kazoo-bridge";     ///< the realm of every WWW-Authenticate challenge
  std::string default_country = "US";     ///< [dial] default_country (phone::normalize)
  std::size_t calls_per_minute = 10;      ///< [dial] calls_per_minute, per user
  std::chrono::seconds ring_timeout{30};  ///< [dial] ring_timeout_s (quickcall `timeout`)
  std::chrono::seconds retry_after{
      5};  ///< Retry-After of a 503 (Kazoo unreachable, token unavailable)
};

/// At most `limit` admissions per key in any window of `window_ms` (a sliding log: exact, and small
/// at these rates). Pure: the time is an argument. Thread: one thread (the I/O thread).
class dial_rate_limiter {
 public:
  explicit dial_rate_limiter(std::size_t limit, std::int64_t window_ms = 60000);
  /// 0 and the admission is recorded, or the milliseconds until one will be admitted (not
  /// recorded).
  std::int64_t admit(const std::string& key, std::int64_t now_ms);

 private:
  std::size_t limit_;
  std::int64_t window_ms_;
  std::unordered_map<std::string, std::deque<std::int64_t>> seen_;
};

/// Our HTTP answer to Kazoo's quickcall answer.
struct dial_reply {
  unsigned status = 202;    ///< 202, 404, 502 or 503
  std::string error;        ///< "" for 202; not_found | kazoo_refused | temporarily_unavailable
  std::string description;  ///< error_description
  bool operator==(const dial_reply&) const = default;
};

/// 2xx -> 202; 404 -> 404 for a device the caller named, 502 for the caller's own user; other 4xx
/// and Kazoo's "quickcall initiation failed"/unspecified_fault 500 -> 502 kazoo_refused with
/// Kazoo's words; 401 (after one renewal), 429, other 5xx -> 503 temporarily_unavailable (with
/// Retry-After).
dial_reply reply_for(const kazoo::quickcall_answer& a, kazoo::quickcall_target target);

/// What the route uses. Everything is used on the I/O thread.
struct dial_deps {
  authenticate_fn authenticate;
  kazoo::crossbar_client& crossbar;  ///< Crossbar with the daemon's API-key token
  kazoo::token_source& tokens;
  std::shared_ptr<spdlog::logger> log;
  dial_options options{};
};

/// Registers POST /api/v1/calls on `r`.
///
/// Thread: the handler runs on the I/O thread. Lifetime: crossbar, tokens and what authenticate
///   refers to outlive the router's use. Cancellation: a handler cancelled by the server's stop()
///   abandons its Crossbar request (a quickcall already sent is not undone: Kazoo owns the call).
/// Errors (JSON {"error", "error_description"}): 401/400 bearer errors as on every /api/v1 route
///   (RFC 6750); 403 insufficient_scope (scope="dial") without `dial`; 400 invalid_request (body)
///   or invalid_number; 404 not_found for an unknown device; 403 forbidden for another user's
///   device (unless the caller is an account admin with the `account` scope); 429 rate_limited with
///   Retry-After; 502 kazoo_refused; 503 temporarily_unavailable with Retry-After.
void add_dial_routes(net::router& r, dial_deps d);

}  // namespace kazoo_bridge::api
