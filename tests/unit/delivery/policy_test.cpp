#include <gtest/gtest.h>

#include <kazoo_bridge/delivery/policy.hpp>

namespace kazoo_bridge::delivery {
namespace {

using namespace std::chrono_literals;

TEST(retry_schedule, default_is_the_standard_webhooks_example) {
  auto s = default_retry_schedule();
  std::vector<seconds> expected{0s, 5s, 5min, 30min, 2h, 5h, 10h, 14h, 20h, 24h};
  EXPECT_EQ(s, expected);
}

TEST(retry_schedule, delay_follows_the_schedule_and_ends_when_exhausted) {
  auto s = default_retry_schedule();
  struct row {
    std::int64_t attempts_made;
    std::optional<milliseconds> expected;
  };
  // unit 0.5 = no jitter
  for (auto [n, expected] : {row{1, 5s}, row{2, 5min}, row{3, 30min}, row{9, 24h}, row{10, std::nullopt},
                             row{11, std::nullopt}, row{-1, std::nullopt}}) {
    EXPECT_EQ(retry_delay(s, n, 0.5), expected) << n;
  }
}

TEST(retry_schedule, jitter_stays_within_its_bounds) {
  std::vector<seconds> s{0s, 100s};
  EXPECT_EQ(retry_delay(s, 1, 0.0, 0.1), milliseconds(90000));
  EXPECT_EQ(retry_delay(s, 1, 0.5, 0.1), milliseconds(100000));
  EXPECT_EQ(retry_delay(s, 1, 0.999999, 0.1), milliseconds(110000));
  EXPECT_EQ(retry_delay(s, 1, 0.25, 0.0), milliseconds(100000));
}

TEST(retry_after, delta_seconds_and_http_dates) {
  const std::int64_t now = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  struct row {
    std::string_view value;
    std::optional<milliseconds> expected;
  };
  for (auto [value, expected] : {
           row{"120", 120s},
           row{" 7 ", 7s},
           row{"0", 0s},
           row{"Sun, 06 Nov 1994 08:50:37 GMT", 60s},        // IMF-fixdate
           row{"Sunday, 06-Nov-94 08:49:47 GMT", 10s},       // RFC 850
           row{"Sun Nov  6 08:49:57 1994", 20s},             // asctime
           row{"Sun, 06 Nov 1994 08:00:00 GMT", 0s},         // in the past
           row{"99999999999999999999", 24h},                 // capped
           row{"Sun, 06 Nov 1995 08:49:37 GMT", 24h},        // capped
           row{"-5", std::nullopt},
           row{"soon", std::nullopt},
           row{"", std::nullopt},
           row{"Sun, 06 Foo 1994 08:49:37 GMT", std::nullopt},
           row{"1.5", std::nullopt},
       }) {
    EXPECT_EQ(parse_retry_after(value, now), expected) << value;
  }
  EXPECT_EQ(parse_retry_after("7200", now, 1h), milliseconds(1h));
}

TEST(classification, statuses_map_to_outcomes) {
  struct row {
    std::optional<int> status;
    outcome expected;
  };
  for (auto [status, expected] : {
           row{200, outcome::delivered}, row{201, outcome::delivered}, row{204, outcome::delivered},
           row{299, outcome::delivered}, row{410, outcome::gone}, row{429, outcome::retry},
           row{408, outcome::retry}, row{500, outcome::retry}, row{503, outcome::retry},
           row{599, outcome::retry}, row{std::nullopt, outcome::retry}, row{400, outcome::failed},
           row{401, outcome::failed}, row{404, outcome::failed}, row{301, outcome::failed},
           row{302, outcome::failed}, row{307, outcome::failed}, row{100, outcome::failed},
       }) {
    EXPECT_EQ(classify(status), expected) << (status ? *status : -1);
  }
  EXPECT_EQ(to_string(outcome::gone), "gone");
}

TEST(disable_rule, only_after_disable_after_without_success) {
  const auto three_days = milliseconds(259200000);
  EXPECT_FALSE(should_disable(std::nullopt, 10'000'000'000, three_days));
  EXPECT_FALSE(should_disable(1'000, 1'000 + 259199999, three_days));
  EXPECT_TRUE(should_disable(1'000, 1'000 + 259200000, three_days));
}

TEST(next_attempt, retry_after_is_a_minimum_and_exhaustion_ends_it) {
  std::vector<seconds> s{0s, 5s, 60s};
  EXPECT_EQ(next_attempt_at(s, 1, 1000, std::nullopt, 0.5), 6000);
  EXPECT_EQ(next_attempt_at(s, 1, 1000, milliseconds(30000), 0.5), 31000);
  EXPECT_EQ(next_attempt_at(s, 1, 1000, milliseconds(1000), 0.5), 6000);
  EXPECT_EQ(next_attempt_at(s, 3, 1000, milliseconds(1000), 0.5), std::nullopt);
}

}  // namespace
}  // namespace kazoo_bridge::delivery
