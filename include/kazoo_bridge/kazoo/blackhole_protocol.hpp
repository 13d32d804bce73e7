#pragma once
/// Pure pieces of the blackhole WebSocket protocol as the server really speaks it (reference/kazoo.md §1):
/// subscribe requests with the singular `binding`, reply bookkeeping, and the reconnect decision.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <kazoo_bridge/net/backoff.hpp>

namespace kazoo_bridge::kazoo {

/// What we subscribe per account. `call.*.*` covers the nine call events with ONE binding, so no event
/// arrives twice (overlapping bindings duplicate deliveries, §1.4). Qubicle bindings only exist with the
/// commercial bh_qubicle module (§4.3); a server without it answers "no available subscriptions to
/// requested binding", which we accept and log once.
std::vector<std::string> bindings_for(bool qubicle);

/// `{"action":"subscribe","auth_token":...,"request_id":...,"data":{"account_id":...,"binding":...}}`.
/// `data.binding` is singular: the documented plural `bindings` is not implemented (§0 item 2).
std::string subscribe_message(std::string_view token, std::string_view account_id, std::string_view binding,
                              std::string_view request_id);

/// Tracks subscribe requests by request_id until their reply arrives.
class subscription_book {
 public:
  enum class outcome { subscribed, not_offered, failed, unknown_request };
  struct reply_result {
    outcome what = outcome::unknown_request;
    std::string account_id, binding;
    std::string error;  ///< the server's error text(s), joined with "; "
  };

  void sent(std::string request_id, std::string account_id, std::string binding);
  /// `status` and `data` of an {"action":"reply"} frame. Every error reply is an error (issue: "every error
  /// reply treated as an error"); only the optional Qubicle bindings may be "not offered".
  reply_result on_reply(const std::string& request_id, const std::string& status, const std::string& errors_joined);
  bool complete() const { return pending_.empty(); }
  std::size_t pending() const { return pending_.size(); }
  void clear() { pending_.clear(); }

 private:
  struct entry {
    std::string account_id, binding;
  };
  std::map<std::string, entry> pending_;
};

/// When to reconnect after the blackhole connection ends: exponential backoff with jitter; the attempt
/// counter resets once a connection has stayed subscribed for `stable_after`, so a server that drops us
/// once a day is retried at once, while one that accepts and drops at once is not hammered.
class reconnect_policy {
 public:
  explicit reconnect_policy(net::backoff_policy b = {}, std::chrono::milliseconds stable_after = std::chrono::seconds(60))
      : backoff_(b), stable_after_(stable_after) {}

  void on_subscribed(std::int64_t now_ms) { subscribed_at_ms_ = now_ms; }
  /// Delay before the next attempt; random01 in [0,1) is supplied by the caller.
  std::chrono::milliseconds on_disconnected(std::int64_t now_ms, double random01);
  unsigned attempt() const { return attempt_; }

 private:
  net::backoff_policy backoff_;
  std::chrono::milliseconds stable_after_;
  unsigned attempt_ = 0;
  std::int64_t subscribed_at_ms_ = -1;
};

}  // namespace kazoo_bridge::kazoo
