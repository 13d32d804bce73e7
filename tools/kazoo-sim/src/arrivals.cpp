#include "arrivals.hpp"

namespace kazoo_sim {

std::optional<arrival_kind> parse_arrival_kind(std::string_view s) {
  if (s == "uniform") return arrival_kind::uniform;
  if (s == "poisson") return arrival_kind::poisson;
  return std::nullopt;
}

arrival_schedule::arrival_schedule(arrival_kind kind, double calls_per_s, std::uint64_t seed)
    : kind_(kind), mean_gap_ms_(1000.0 / calls_per_s), rng_(seed ^ 0x9e3779b97f4a7c15ULL) {}

void arrival_schedule::take() {
  ++taken_;
  if (kind_ == arrival_kind::uniform) {
    // From the count, not by adding gaps: no drift from rounding over a long run.
    next_ms_ = static_cast<double>(taken_) * mean_gap_ms_;
    return;
  }
  next_ms_ += std::exponential_distribution<double>(1.0 / mean_gap_ms_)(rng_);
}

}  // namespace kazoo_sim
