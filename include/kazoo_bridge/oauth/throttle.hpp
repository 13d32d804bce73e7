#pragma once
/// Login throttling (issue #3 item 1): a sliding-window counter of failed logins per key (client IP,
/// or account + user name). Pure: `now_ms` is a parameter. Not thread-safe (I/O thread only).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace kazoo_bridge::oauth {

/// At most `limit` failures per key within `window_ms`. When full, check() says how long until the oldest
/// failure leaves the window (the Retry-After, rounded up to whole seconds, at least 1).
class sliding_window {
 public:
  sliding_window(std::size_t limit, std::int64_t window_ms, std::size_t max_keys = 100000);

  /// nullopt: allowed; otherwise the seconds to wait.
  std::optional<std::int64_t> check(const std::string& key, std::int64_t now_ms);
  /// Records one failure.
  void record(const std::string& key, std::int64_t now_ms);
  /// Number of keys held (bounded by max_keys: beyond it, expired keys are swept, then the oldest key
  /// is dropped, so a flood of distinct keys cannot exhaust memory).
  std::size_t keys() const { return hits_.size(); }

 private:
  void prune(std::deque<std::int64_t>& q, std::int64_t now_ms) const;
  void make_room(std::int64_t now_ms);

  std::size_t limit_;
  std::int64_t window_ms_;
  std::size_t max_keys_;
  std::unordered_map<std::string, std::deque<std::int64_t>> hits_;
};

/// The login policy: one window per client IP and one per user name ("account/user", lower case).
struct login_throttle_options {
  std::size_t per_ip = 20;              ///< failed logins per IP per window
  std::size_t per_user = 5;             ///< failed logins per user name per window
  std::int64_t window_ms = 15 * 60 * 1000;
};

class login_throttle {
 public:
  explicit login_throttle(login_throttle_options o);
  /// nullopt: the attempt may go to Kazoo; otherwise Retry-After seconds (the longer of both windows).
  std::optional<std::int64_t> check(const std::string& ip, const std::string& user_key, std::int64_t now_ms);
  void failed(const std::string& ip, const std::string& user_key, std::int64_t now_ms);

 private:
  sliding_window ip_, user_;
};

}  // namespace kazoo_bridge::oauth
