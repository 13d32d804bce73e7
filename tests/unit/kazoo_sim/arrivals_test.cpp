// Load mode's call starts (tools/kazoo-sim/src/arrivals.hpp): a constant rate, or a Poisson process
// with the same mean whose gaps really are exponential (mean = standard deviation), reproducible by seed.
#include "arrivals.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace kazoo_sim {
namespace {

std::vector<double> gaps(arrival_schedule& s, int n) {
  std::vector<double> out;
  double last = s.next_ms();
  for (int i = 0; i < n; ++i) {
    s.take();
    out.push_back(s.next_ms() - last);
    last = s.next_ms();
  }
  return out;
}

TEST(arrival_schedule, uniform_starts_one_call_every_1_over_rate_without_drift) {
  arrival_schedule s(arrival_kind::uniform, 3.0, 1);
  EXPECT_EQ(s.next_ms(), 0.0);  // the first call at once
  for (int i = 0; i < 30'000; ++i) s.take();
  EXPECT_DOUBLE_EQ(s.next_ms(), 10'000'000.0);  // 30,000 calls at 3/s: exactly 10,000 s
  arrival_schedule t(arrival_kind::uniform, 4.0, 1);
  for (double g : gaps(t, 100)) EXPECT_DOUBLE_EQ(g, 250.0);
}

TEST(arrival_schedule, poisson_gaps_are_exponential_with_the_rates_mean) {
  arrival_schedule s(arrival_kind::poisson, 2.0, 5);
  EXPECT_EQ(s.next_ms(), 0.0);
  const auto g = gaps(s, 20'000);
  double sum = 0, sq = 0;
  int short_gaps = 0;
  for (double x : g) {
    ASSERT_GE(x, 0.0);
    sum += x;
    sq += x * x;
    if (x < 50.0) ++short_gaps;
  }
  const double mean = sum / static_cast<double>(g.size());
  const double sd = std::sqrt(sq / static_cast<double>(g.size()) - mean * mean);
  EXPECT_NEAR(mean, 500.0, 15.0);  // 2 calls/s
  EXPECT_NEAR(sd / mean, 1.0, 0.05);  // exponential: coefficient of variation 1 (uniform: 0)
  // P(gap < 50 ms) = 1 - e^-0.1 = 9.5 %: calls do start close together, as on a real PBX.
  EXPECT_NEAR(short_gaps / static_cast<double>(g.size()), 0.095, 0.01);
}

TEST(arrival_schedule, the_same_seed_gives_the_same_starts) {
  arrival_schedule a(arrival_kind::poisson, 10.0, 42), b(arrival_kind::poisson, 10.0, 42),
      c(arrival_kind::poisson, 10.0, 43);
  EXPECT_EQ(gaps(a, 50), gaps(b, 50));
  arrival_schedule a2(arrival_kind::poisson, 10.0, 42);
  EXPECT_NE(gaps(a2, 50), gaps(c, 50));
}

TEST(arrival_schedule, parses_the_command_line_names) {
  EXPECT_EQ(parse_arrival_kind("uniform"), arrival_kind::uniform);
  EXPECT_EQ(parse_arrival_kind("poisson"), arrival_kind::poisson);
  EXPECT_FALSE(parse_arrival_kind("Poisson"));
  EXPECT_FALSE(parse_arrival_kind(""));
}

}  // namespace
}  // namespace kazoo_sim
