#include <gtest/gtest.h>

#include <kazoo_bridge/delivery/rate_limit.hpp>

namespace kazoo_bridge::delivery {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

TEST(token_bucket, allows_a_burst_then_the_rate) {
  const auto t0 = clock::time_point{} + 1h;
  token_bucket b(30, 30, t0);
  int taken = 0;
  while (b.try_take(t0)) ++taken;
  EXPECT_EQ(taken, 30);
  EXPECT_EQ(b.wait_time(t0), 34ms);  // 1/30 s, rounded up
  EXPECT_FALSE(b.try_take(t0 + 30ms));
  EXPECT_TRUE(b.try_take(t0 + 34ms));
  // One second later exactly 30 more (never more than the burst).
  int later = 0;
  while (b.try_take(t0 + 10s)) ++later;
  EXPECT_EQ(later, 30);
}

TEST(concurrency_cap, refuses_beyond_the_limit) {
  concurrency_cap c(2);
  EXPECT_TRUE(c.try_acquire());
  EXPECT_TRUE(c.try_acquire());
  EXPECT_FALSE(c.try_acquire());
  EXPECT_TRUE(c.full());
  c.release();
  EXPECT_TRUE(c.try_acquire());
  EXPECT_EQ(c.in_use(), 2u);
}

}  // namespace
}  // namespace kazoo_bridge::delivery
