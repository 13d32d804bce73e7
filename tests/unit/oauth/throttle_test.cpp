// Login throttling: a sliding window per IP and per user name (issue #3 item 1).
#include <gtest/gtest.h>

#include <kazoo_bridge/oauth/throttle.hpp>

namespace kazoo_bridge::oauth {
namespace {

TEST(oauth_throttle, window_fills_then_frees_as_failures_age) {
  sliding_window w(3, 60'000);
  EXPECT_FALSE(w.check("k", 0));
  w.record("k", 0);
  w.record("k", 10'000);
  EXPECT_FALSE(w.check("k", 10'000));
  w.record("k", 20'000);
  // Full: the oldest failure (t=0) leaves the window at t=60 s.
  EXPECT_EQ(w.check("k", 20'000), 40);
  EXPECT_EQ(w.check("k", 59'001), 1);  // rounded up, never 0
  EXPECT_FALSE(w.check("k", 60'000));
  EXPECT_FALSE(w.check("other", 20'000));
}

TEST(oauth_throttle, distinct_keys_are_bounded) {
  sliding_window w(1, 60'000, 10);
  for (int i = 0; i < 100; ++i) w.record("k" + std::to_string(i), i);
  EXPECT_LE(w.keys(), 10u);
  EXPECT_TRUE(w.check("k99", 100).has_value());  // the newest keys are kept
}

struct throttle_case {
  const char* name;
  int ip_failures, user_failures;
  bool throttled;
};

class oauth_login_throttle : public ::testing::TestWithParam<throttle_case> {};

TEST_P(oauth_login_throttle, per_ip_and_per_user_limits) {
  const auto& c = GetParam();
  login_throttle t({.per_ip = 10, .per_user = 3, .window_ms = 900'000});
  // Failures on the same user from many IPs, and on many users from one IP.
  for (int i = 0; i < c.user_failures; ++i) t.failed("10.0.0." + std::to_string(i), "acme/alice", 1000);
  for (int i = 0; i < c.ip_failures; ++i) t.failed("192.0.2.1", "acme/u" + std::to_string(i), 1000);
  auto r = t.check("192.0.2.1", "acme/alice", 2000);
  EXPECT_EQ(r.has_value(), c.throttled) << c.name;
  if (r) {
    EXPECT_EQ(*r, 899);
  }
}

INSTANTIATE_TEST_SUITE_P(table, oauth_login_throttle,
                         ::testing::Values(throttle_case{"nothing yet", 0, 0, false},
                                           throttle_case{"user below limit", 0, 2, false},
                                           throttle_case{"user at limit from many IPs", 0, 3, true},
                                           throttle_case{"ip below limit", 9, 0, false},
                                           throttle_case{"ip at limit over many users", 10, 0, true},
                                           throttle_case{"both", 10, 3, true}));

}  // namespace
}  // namespace kazoo_bridge::oauth
