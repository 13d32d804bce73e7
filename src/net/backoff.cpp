#include <algorithm>
#include <cmath>

#include <kazoo_bridge/net/backoff.hpp>

namespace kazoo_bridge::net {

std::chrono::milliseconds backoff_policy::delay(unsigned attempt, double random01) const {
  const double cap = static_cast<double>(std::max<std::chrono::milliseconds::rep>(max.count(), 0));
  const double first = std::clamp(static_cast<double>(initial.count()), 0.0, cap);
  const double mult = std::isnan(multiplier) ? 1.0 : std::max(multiplier, 1.0);
  const double spread = std::isnan(jitter) ? 0.0 : std::clamp(jitter, 0.0, 1.0);
  const double r = std::isnan(random01) ? 0.5 : std::clamp(random01, 0.0, 1.0);

  if (first <= 0.0) return std::chrono::milliseconds{0};
  // pow() may overflow to +inf for large attempts; min() with the cap absorbs that.
  const double base = std::min(cap, first * std::pow(mult, static_cast<double>(attempt)));
  const double factor = 1.0 + spread * (2.0 * r - 1.0);
  const double value = std::clamp(base * factor, 0.0, cap);
  return std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(std::llround(value))};
}

}  // namespace kazoo_bridge::net
