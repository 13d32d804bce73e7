#include <kazoo_bridge/delivery/subscriptions.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kazoo_bridge::delivery {
namespace {

calls::lifecycle_event event(std::string type, std::string account, nlohmann::json user_id, nlohmann::json from_user,
                             std::string direction) {
  calls::lifecycle_event e;
  e.id = "evt_1";
  e.type = std::move(type);
  e.call_id = "call-1";
  e.account_id = std::move(account);
  e.payload = {{"user_id", std::move(user_id)}, {"from_user_id", std::move(from_user)}, {"direction", direction}};
  return e;
}

subscription sub(std::string id, std::string event, std::string scope, std::string user = "u1") {
  return subscription{.id = std::move(id), .account_id = "acc", .user_id = std::move(user), .event = std::move(event),
                      .scope = std::move(scope)};
}

std::vector<std::string> ids(const subscription_index& idx, const calls::lifecycle_event& e) {
  std::vector<const subscription*> out;
  idx.match(e, out);
  std::vector<std::string> r;
  for (const auto* s : out) r.push_back(s->id);
  std::sort(r.begin(), r.end());
  return r;
}

struct match_case {
  const char* name;
  subscription s;
  calls::lifecycle_event e;
  bool matches;
};

TEST(SubscriptionIndex, TableOfTypeScopeAndFilters) {
  auto with = [](subscription s, auto f) {
    f(s.filters);
    return s;
  };
  const std::vector<match_case> cases = {
      {"exact type, user is user_id", sub("a", "call.missed", "user"),
       event("call.missed", "acc", "u1", nullptr, "inbound"), true},
      {"other type", sub("a", "call.missed", "user"), event("call.ended", "acc", "u1", nullptr, "inbound"), false},
      {"wildcard takes every type", sub("a", "*", "user"), event("call.parked", "acc", "u1", nullptr, "inbound"),
       true},
      {"user is the internal caller (from_user_id)", sub("a", "call.started", "user"),
       event("call.started", "acc", "u2", "u1", "internal"), true},
      {"user scope: another user's call", sub("a", "call.missed", "user"),
       event("call.missed", "acc", "u2", nullptr, "inbound"), false},
      {"user scope: event names nobody", sub("a", "call.started", "user"),
       event("call.started", "acc", nullptr, nullptr, "inbound"), false},
      {"account scope: any user's call", sub("a", "call.missed", "account"),
       event("call.missed", "acc", "u9", nullptr, "inbound"), true},
      {"account scope: event names nobody", sub("a", "call.started", "account"),
       event("call.started", "acc", nullptr, nullptr, "inbound"), true},
      {"another account never", sub("a", "*", "account"), event("call.missed", "other", "u1", nullptr, "inbound"),
       false},
      {"direction filter matches",
       with(sub("a", "*", "account"), [](auto& f) { f.direction = "outbound"; }),
       event("call.ended", "acc", "u1", nullptr, "outbound"), true},
      {"direction filter refuses",
       with(sub("a", "*", "account"), [](auto& f) { f.direction = "outbound"; }),
       event("call.ended", "acc", "u1", nullptr, "inbound"), false},
      {"include_internal=false drops internal",
       with(sub("a", "*", "user"), [](auto& f) { f.include_internal = false; }),
       event("call.ended", "acc", "u1", nullptr, "internal"), false},
      {"include_internal=false keeps inbound",
       with(sub("a", "*", "user"), [](auto& f) { f.include_internal = false; }),
       event("call.ended", "acc", "u1", nullptr, "inbound"), true},
      {"user_id filter (account scope) matches user_id",
       with(sub("a", "*", "account"), [](auto& f) { f.user_id = "u7"; }),
       event("call.answered", "acc", "u7", nullptr, "inbound"), true},
      {"user_id filter matches from_user_id",
       with(sub("a", "*", "account"), [](auto& f) { f.user_id = "u7"; }),
       event("call.started", "acc", nullptr, "u7", "outbound"), true},
      {"user_id filter refuses another user",
       with(sub("a", "*", "account"), [](auto& f) { f.user_id = "u7"; }),
       event("call.answered", "acc", "u8", nullptr, "inbound"), false},
  };
  for (const auto& c : cases) {
    subscription_index idx;
    idx.put(c.s);
    EXPECT_EQ(ids(idx, c.e).size(), c.matches ? 1U : 0U) << c.name;
    EXPECT_EQ(wants(c.s, c.e), c.matches) << c.name;
  }
}

TEST(SubscriptionIndex, InactiveNeverMatchesAndReEnableDoes) {
  subscription_index idx;
  idx.put(sub("a", "call.missed", "user"));
  const auto e = event("call.missed", "acc", "u1", nullptr, "inbound");
  idx.set_active("a", false);
  EXPECT_TRUE(ids(idx, e).empty());
  idx.set_active("a", true);
  EXPECT_EQ(ids(idx, e), std::vector<std::string>{"a"});
  auto inactive = sub("b", "call.missed", "user");
  inactive.active = false;
  idx.put(inactive);
  EXPECT_EQ(ids(idx, e), std::vector<std::string>{"a"});
}

TEST(SubscriptionIndex, PutReplacesEraseRemoves) {
  subscription_index idx;
  idx.put(sub("a", "call.missed", "user"));
  idx.put(sub("b", "*", "account"));
  EXPECT_EQ(idx.size(), 2U);
  const auto missed = event("call.missed", "acc", "u1", nullptr, "inbound");
  EXPECT_EQ(ids(idx, missed), (std::vector<std::string>{"a", "b"}));
  idx.put(sub("a", "call.ended", "user"));  // same id, new event type: moves bucket
  EXPECT_EQ(idx.size(), 2U);
  EXPECT_EQ(ids(idx, missed), std::vector<std::string>{"b"});
  EXPECT_EQ(ids(idx, event("call.ended", "acc", "u1", nullptr, "inbound")), (std::vector<std::string>{"a", "b"}));
  idx.erase("b");
  idx.erase("unknown");
  EXPECT_EQ(idx.size(), 1U);
  EXPECT_TRUE(ids(idx, missed).empty());
  EXPECT_EQ(idx.find("b"), nullptr);
  ASSERT_NE(idx.find("a"), nullptr);
  EXPECT_EQ(idx.find("a")->event, "call.ended");
}

TEST(SubscriptionIndex, AppendsWithoutClearing) {
  subscription_index idx;
  idx.put(sub("a", "*", "account"));
  std::vector<const subscription*> out{nullptr};
  idx.match(event("call.held", "acc", nullptr, nullptr, "inbound"), out);
  EXPECT_EQ(out.size(), 2U);
}

TEST(Subscriptions, DestinationAndSubscribableTypes) {
  EXPECT_EQ(destination_of("hook_abc"), "hook:hook_abc");
  EXPECT_TRUE(is_subscribable_event("*"));
  for (auto t : calls::event_types) EXPECT_TRUE(is_subscribable_event(t)) << t;
  EXPECT_FALSE(is_subscribable_event("call.bogus"));
  EXPECT_FALSE(is_subscribable_event(""));
}

}  // namespace
}  // namespace kazoo_bridge::delivery
