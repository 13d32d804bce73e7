#pragma once
/// When load mode starts its calls: at a constant rate, or as a Poisson process (exponential gaps
/// with the same mean), the classic model of telephone traffic (Erlang). With constant starts and
/// every call of a scenario playing its events at the same offsets, events of different calls fall in
/// the very same millisecond again and again; Poisson starts spread them the way a PBX's calls do.
/// Pure: no I/O, seeded, reproducible.

#include <cstdint>
#include <random>
#include <string_view>
#include <optional>

namespace kazoo_sim {

enum class arrival_kind { uniform, poisson };

/// "uniform" / "poisson" (the --arrivals values), or nothing.
std::optional<arrival_kind> parse_arrival_kind(std::string_view s);

class arrival_schedule {
 public:
  arrival_schedule(arrival_kind kind, double calls_per_s, std::uint64_t seed);
  /// Milliseconds from the start of the run to the next call's start: 0 for the first call, then
  /// non-decreasing on every take().
  double next_ms() const { return next_ms_; }
  /// The next call has started: move on to the one after it.
  void take();

 private:
  arrival_kind kind_;
  double mean_gap_ms_;
  std::uint64_t taken_ = 0;
  double next_ms_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace kazoo_sim
