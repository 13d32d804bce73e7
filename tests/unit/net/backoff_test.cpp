#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <kazoo_bridge/net/backoff.hpp>

namespace kazoo_bridge::net {
namespace {

using std::chrono::milliseconds;

TEST(backoff, without_jitter_doubles_until_the_cap) {
  backoff_policy p{milliseconds{500}, milliseconds{30000}, 2.0, 0.0};
  const long expected[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  for (unsigned i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(p.delay(i, 0.3).count(), expected[i]) << "attempt " << i;
  }
}

TEST(backoff, jitter_spreads_symmetrically_around_the_base) {
  backoff_policy p;  // 500 ms, x2, 20 %
  EXPECT_EQ(p.delay(0, 0.0).count(), 400);
  EXPECT_EQ(p.delay(0, 0.5).count(), 500);
  EXPECT_EQ(p.delay(0, 0.999999).count(), 600);
  EXPECT_EQ(p.delay(2, 0.0).count(), 1600);
  EXPECT_EQ(p.delay(2, 0.75).count(), 2200);
}

TEST(backoff, every_delay_stays_within_the_jitter_band_and_the_cap) {
  backoff_policy p;
  for (unsigned attempt = 0; attempt < 80; ++attempt) {
    double base = std::min(30000.0, 500.0 * std::pow(2.0, attempt));
    for (double r = 0.0; r < 1.0; r += 0.05) {
      auto d = static_cast<double>(p.delay(attempt, r).count());
      EXPECT_GE(d, std::floor(base * 0.8)) << attempt << " " << r;
      EXPECT_LE(d, std::min(30000.0, std::ceil(base * 1.2))) << attempt << " " << r;
    }
  }
}

TEST(backoff, at_the_cap_jitter_only_goes_down) {
  backoff_policy p;
  EXPECT_EQ(p.delay(20, 0.999).count(), 30000);
  EXPECT_EQ(p.delay(20, 0.0).count(), 24000);
}

TEST(backoff, huge_attempts_do_not_overflow) {
  backoff_policy p;
  EXPECT_EQ(p.delay(std::numeric_limits<unsigned>::max(), 0.5).count(), 30000);
  backoff_policy big{milliseconds{1}, milliseconds{std::numeric_limits<int>::max()}, 10.0, 0.0};
  EXPECT_EQ(big.delay(5000, 0.5).count(), std::numeric_limits<int>::max());
}

TEST(backoff, bad_inputs_are_clamped_never_negative) {
  backoff_policy p;
  EXPECT_EQ(p.delay(0, -5.0).count(), 400);
  EXPECT_EQ(p.delay(0, 7.0).count(), 600);
  EXPECT_EQ(p.delay(0, std::nan("")).count(), 500);

  backoff_policy neg{milliseconds{-100}, milliseconds{1000}, 2.0, 0.2};
  EXPECT_EQ(neg.delay(3, 0.9).count(), 0);

  backoff_policy shrinking{milliseconds{1000}, milliseconds{5000}, 0.5, 0.0};
  EXPECT_EQ(shrinking.delay(4, 0.5).count(), 1000);  // multiplier < 1 treated as 1

  backoff_policy wild{milliseconds{1000}, milliseconds{5000}, 2.0, 3.0};  // jitter clamped to 1
  EXPECT_EQ(wild.delay(0, 0.0).count(), 0);
  EXPECT_EQ(wild.delay(0, 0.99).count(), 1980);

  backoff_policy initial_above_max{milliseconds{9000}, milliseconds{5000}, 2.0, 0.0};
  EXPECT_EQ(initial_above_max.delay(0, 0.5).count(), 5000);

  backoff_policy negative_max{milliseconds{100}, milliseconds{-1}, 2.0, 0.0};
  EXPECT_EQ(negative_max.delay(0, 0.5).count(), 0);
}

}  // namespace
}  // namespace kazoo_bridge::net
