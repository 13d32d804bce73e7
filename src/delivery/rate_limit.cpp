#include <kazoo_bridge/delivery/rate_limit.hpp>

#include <algorithm>
#include <cmath>

namespace kazoo_bridge::delivery {

token_bucket::token_bucket(double rate_per_s, double burst, time_point now)
    : rate_(rate_per_s > 0 ? rate_per_s : 1.0), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

void token_bucket::refill(time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool token_bucket::try_take(time_point now) {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::milliseconds token_bucket::wait_time(time_point now) {
  refill(now);
  if (tokens_ >= 1.0) return std::chrono::milliseconds(0);
  const double ms = std::ceil((1.0 - tokens_) / rate_ * 1000.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(1.0, ms)));
}

}  // namespace kazoo_bridge::delivery
