#pragma once
/// Per-destination-host limits of the delivery engine: a token bucket (requests per second) and
/// a concurrency cap (requests in flight). Pure: the caller passes a steady clock reading.

#include <chrono>
#include <cstddef>

namespace kazoo_bridge::delivery {

/// A token bucket: `rate` tokens per second, at most `burst` saved. Starts full.
/// Zapier documents 30 webhooks/s per app, hence the [hooks] rate_per_host default of 30.
class token_bucket {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  token_bucket(double rate_per_s, double burst, time_point now);

  /// Takes one token if there is one at `now`.
  bool try_take(time_point now);
  /// How long until a token is available (0 when one is).
  std::chrono::milliseconds wait_time(time_point now);

 private:
  void refill(time_point now);
  double rate_, burst_, tokens_;
  time_point last_;
};

/// At most `limit` requests in flight; acquire() fails when all slots are taken.
class concurrency_cap {
 public:
  explicit concurrency_cap(std::size_t limit) : limit_(limit == 0 ? 1 : limit) {}
  bool try_acquire() {
    if (in_use_ >= limit_) return false;
    ++in_use_;
    return true;
  }
  void release() {
    if (in_use_ > 0) --in_use_;
  }
  std::size_t in_use() const { return in_use_; }
  std::size_t limit() const { return limit_; }
  bool full() const { return in_use_ >= limit_; }

 private:
  std::size_t limit_, in_use_ = 0;
};

}  // namespace kazoo_bridge::delivery
