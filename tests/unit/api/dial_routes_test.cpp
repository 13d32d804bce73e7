#include <gtest/gtest.h>

#include <kazoo_bridge/api/dial_routes.hpp>

namespace kazoo_bridge::api {
namespace {

TEST(dial_rate_limiter, admits_the_limit_per_sliding_minute_per_user) {
  dial_rate_limiter l(3);
  EXPECT_EQ(l.admit("acc/bob", 1000), 0);
  EXPECT_EQ(l.admit("acc/bob", 2000), 0);
  EXPECT_EQ(l.admit("acc/bob", 3000), 0);
  // The fourth within the minute waits until the first one leaves the window.
  EXPECT_EQ(l.admit("acc/bob", 4000), 57000);
  EXPECT_EQ(l.admit("acc/bob", 60999), 1);
  // Another user has a budget of their own.
  EXPECT_EQ(l.admit("acc/alice", 4000), 0);
  // Refusals are not counted: at 61000 the first call has left the window, one more is admitted.
  EXPECT_EQ(l.admit("acc/bob", 61000), 0);
  EXPECT_EQ(l.admit("acc/bob", 61001), 999);
  // After a quiet minute the whole budget is back.
  EXPECT_EQ(l.admit("acc/bob", 200000), 0);
  EXPECT_EQ(l.admit("acc/bob", 200001), 0);
  EXPECT_EQ(l.admit("acc/bob", 200002), 0);
  EXPECT_GT(l.admit("acc/bob", 200003), 0);
}

TEST(dial_rate_limiter, forgets_idle_users_without_losing_active_ones) {
  dial_rate_limiter l(1);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(l.admit("u" + std::to_string(i), i), 0);
  // u1999 called at 1999 ms: still limited although the map was pruned meanwhile.
  EXPECT_GT(l.admit("u1999", 50000), 0);
  EXPECT_EQ(l.admit("u0", 70000), 0);
}

struct reply_case {
  kazoo::quickcall_answer answer;
  kazoo::quickcall_target target;
  dial_reply expected;
};

class reply_mapping : public ::testing::TestWithParam<reply_case> {};

TEST_P(reply_mapping, from_kazoo_answer) {
  const auto& c = GetParam();
  EXPECT_EQ(reply_for(c.answer, c.target), c.expected);
}

using qs = kazoo::quickcall_status;
constexpr auto user = kazoo::quickcall_target::user;
constexpr auto device = kazoo::quickcall_target::device;

INSTANTIATE_TEST_SUITE_P(
    table, reply_mapping,
    ::testing::Values(
        reply_case{{qs::started, "abc-quickcall", ""}, user, {202, "", ""}},
        reply_case{{qs::started, std::nullopt, ""}, device, {202, "", ""}},
        reply_case{{qs::not_found, std::nullopt, "bad identifier"},
                   device,
                   {404, "not_found", "Kazoo does not know this device"}},
        reply_case{
            {qs::not_found, std::nullopt, "bad identifier"},
            user,
            {502, "kazoo_refused",
             "Kazoo does not know your user, so it has no phone to ring (Kazoo: bad identifier)"}},
        reply_case{{qs::refused, std::nullopt, "forbidden"},
                   user,
                   {502, "kazoo_refused", "Kazoo refused the call (Kazoo: forbidden)"}},
        reply_case{{qs::refused, std::nullopt, ""},
                   user,
                   {502, "kazoo_refused", "Kazoo refused the call"}},
        reply_case{
            {qs::failed, std::nullopt, "unspecified_fault"},
            user,
            {502, "kazoo_refused",
             "Kazoo could not ring your phone: is a device assigned to you and enabled? (Kazoo: "
             "unspecified_fault)"}},
        reply_case{{qs::auth_expired, std::nullopt, "invalid credentials"},
                   user,
                   {503, "temporarily_unavailable",
                    "Kazoo did not accept the bridge's credentials; retry later"}},
        reply_case{{qs::rate_limited, std::nullopt, "too many requests"},
                   user,
                   {503, "temporarily_unavailable",
                    "Kazoo is limiting the rate of requests; retry later"}},
        reply_case{{qs::unavailable, std::nullopt, "datastore_fault"},
                   device,
                   {503, "temporarily_unavailable",
                    "Kazoo is not answering; retry later (Kazoo: datastore_fault)"}}));

}  // namespace
}  // namespace kazoo_bridge::api
