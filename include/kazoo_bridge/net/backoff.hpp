#pragma once
/// Exponential backoff with proportional jitter. Pure: the caller supplies the random number,
/// so every delay is reproducible in tests (style guide B.6).

#include <chrono>

namespace kazoo_bridge::net {

/// delay(n) = min(max, initial * multiplier^n) scaled by a factor uniformly spread over
/// [1 - jitter, 1 + jitter], then clamped to [0, max].
/// Jitter spreads reconnecting clients apart so that a restarted Kazoo or endpoint is not hit by
/// every client at the same instant (the "thundering herd").
struct backoff_policy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;   ///< values below 1 are treated as 1 (never shrinking)
  double jitter = 0.2;       ///< fraction, clamped to [0, 1]

  /// attempt 0 = first retry; random01 in [0,1) supplied by the caller (pure; values outside are
  /// clamped, NaN counts as 0.5); never exceeds max, never < 0.
  std::chrono::milliseconds delay(unsigned attempt, double random01) const;
};

}  // namespace kazoo_bridge::net
