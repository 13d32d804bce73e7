// call_history: who sees which calls (parties, accounts), filters, keyset pages, the timeline.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <kazoo_bridge/store/call_history.hpp>
#include <kazoo_bridge/store/database.hpp>

#include "sample_rows.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

using test::sample_call;
using test::sample_event;

std::vector<std::string> ids(const call_page& p) {
  std::vector<std::string> out;
  for (const auto& c : p.calls) out.push_back(c.call_id);
  return out;
}

using strings = std::vector<std::string>;

class CallHistory : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = database::open({.path = dir_.file("kb.db")});
    ASSERT_TRUE(r);
    db_ = std::move(*r);
    history_ = std::make_unique<call_history>(*db_);
    // acc1: c1 alice's outbound call, c2 bob's inbound call, c3 rang alice and bob (ring group) and
    // bob answered, c4 an IVR call nobody answered (no user at all). acc2: c5, alice's id reused.
    batch b;
    b.calls = {call("c1", 1000, "outbound", "ended"), call("c2", 2000, "inbound", "answered"),
               call("c3", 3000, "inbound", "ended"), call("c4", 4000, "inbound", "ended"),
               call("c5", 5000, "inbound", "ringing", "acc2")};
    b.parties = {{"c1", "alice"}, {"c2", "bob"}, {"c3", "alice"}, {"c3", "bob"}, {"c5", "alice"},
                 {"c3", "alice"}};  // a pair twice in one batch: ignored
    ASSERT_TRUE(db_->commit(b)) << db_->last_error();
  }

  static call_row call(std::string id, std::int64_t started, std::string direction, std::string status,
                       std::string account = "acc1") {
    auto c = sample_call(std::move(id), std::move(status), started, std::move(account));
    c.direction = std::move(direction);
    return c;
  }

  call_page list(call_filter f) {
    auto r = history_->list_calls(f);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : call_page{};
  }

  kazoo_bridge::test::temp_dir dir_;
  std::unique_ptr<database> db_;
  std::unique_ptr<call_history> history_;
};

TEST_F(CallHistory, AUserSeesOnlyTheCallsTheyArePartyOf) {
  EXPECT_EQ(ids(list({.account_id = "acc1", .visible_to = "alice"})), (strings{"c3", "c1"}));
  EXPECT_EQ(ids(list({.account_id = "acc1", .visible_to = "bob"})), (strings{"c3", "c2"}));
  EXPECT_EQ(ids(list({.account_id = "acc1", .visible_to = "carol"})), strings{});
}

TEST_F(CallHistory, TheWholeAccountIncludesCallsWithoutAnyUser) {
  EXPECT_EQ(ids(list({.account_id = "acc1"})), (strings{"c4", "c3", "c2", "c1"}));
}

TEST_F(CallHistory, NeverAnotherAccountsCalls) {
  EXPECT_EQ(ids(list({.account_id = "acc2"})), strings{"c5"});
  EXPECT_EQ(ids(list({.account_id = "acc2", .visible_to = "alice"})), strings{"c5"});
  EXPECT_EQ(ids(list({.account_id = "acc3"})), strings{});
  auto other = history_->find_call("acc1", "c5", std::nullopt);
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other) << "acc2's call must not be found through acc1";
}

TEST_F(CallHistory, Filters) {
  EXPECT_EQ(ids(list({.account_id = "acc1", .direction = "outbound"})), strings{"c1"});
  EXPECT_EQ(ids(list({.account_id = "acc1", .status = "ended"})), (strings{"c4", "c3", "c1"}));
  // since is inclusive, until exclusive.
  EXPECT_EQ(ids(list({.account_id = "acc1", .since_ms = 2000, .until_ms = 4000})), (strings{"c3", "c2"}));
  // user_id (party) as a filter of an admin's listing, and combined with a user's own visibility.
  EXPECT_EQ(ids(list({.account_id = "acc1", .party = "bob"})), (strings{"c3", "c2"}));
  EXPECT_EQ(ids(list({.account_id = "acc1", .visible_to = "alice", .party = "bob"})), strings{"c3"});
  EXPECT_EQ(ids(list({.account_id = "acc1", .visible_to = "alice", .direction = "inbound",
                      .status = "ended"})),
            strings{"c3"});
}

TEST_F(CallHistory, PagesAreStableWhileNewCallsArrive) {
  batch more;
  // Same start time for four calls: call_id breaks the tie, so page boundaries inside the group
  // neither skip nor repeat.
  for (const char* id : {"t1", "t2", "t3", "t4"}) more.calls.push_back(call(id, 2500, "inbound", "ended"));
  ASSERT_TRUE(db_->commit(more));
  std::vector<std::string> seen;
  call_filter f{.account_id = "acc1", .limit = 3};
  auto page = list(f);
  EXPECT_EQ(ids(page), (strings{"c4", "c3", "t4"}));
  ASSERT_TRUE(page.next);
  for (auto& id : ids(page)) seen.push_back(id);
  // Between pages: a newer call (belongs before the walk's start) and an older one (after it).
  batch arrivals;
  arrivals.calls = {call("n1", 9000, "inbound", "ringing"), call("o1", 500, "inbound", "ended")};
  ASSERT_TRUE(db_->commit(arrivals));
  while (page.next) {
    f.after = page.next;
    page = list(f);
    for (auto& id : ids(page)) seen.push_back(id);
  }
  EXPECT_EQ(seen, (strings{"c4", "c3", "t4", "t3", "t2", "t1", "c2", "c1", "o1"}));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size()) << "no call twice";
}

TEST_F(CallHistory, NextIsSetOnlyWhenMoreCallsMatch) {
  auto exact = list({.account_id = "acc1", .limit = 4});
  EXPECT_EQ(exact.calls.size(), 4u);
  EXPECT_FALSE(exact.next) << "no empty last page";
  auto partial = list({.account_id = "acc1", .limit = 2});
  ASSERT_TRUE(partial.next);
  EXPECT_EQ(partial.next->call_id, "c3");
  EXPECT_EQ(partial.next->started_at_ms, 3000);
}

TEST_F(CallHistory, ListingWalksTheAccountIndex) {
  // The planner must go through calls_account_started (account_id, started_at_ms DESC), never
  // scan the table, with and without the party check and the page key. (It also reports "USE TEMP
  // B-TREE FOR RIGHT PART OF ORDER BY": call_id only orders calls that started in the same
  // millisecond, sorted a group at a time, and the LIMIT still stops the walk early.)
  for (const call_filter& f : {call_filter{.account_id = "acc1"},
                               call_filter{.account_id = "acc1", .visible_to = "alice",
                                           .after = call_key{3000, "c3"}},
                               call_filter{.account_id = "acc1", .since_ms = 1, .until_ms = 2,
                                           .direction = "inbound", .status = "ended"}}) {
    auto plan = history_->list_plan(f);
    ASSERT_TRUE(plan);
    std::string all;
    for (const auto& line : *plan) all += line + "\n";
    EXPECT_NE(all.find("USING INDEX calls_account_started"), std::string::npos) << all;
    EXPECT_EQ(all.find("SCAN calls"), std::string::npos) << all;
    if (f.visible_to) {
      EXPECT_NE(all.find("USING PRIMARY KEY (call_id=? AND user_id=?)"), std::string::npos) << all;
    }
  }
}

TEST_F(CallHistory, TimelineIsOldestFirstWithPayloadsExactlyAsStored) {
  batch b;
  auto late = sample_event("e2", "c3", "call.ended", 3900);
  auto early = sample_event("e1", "c3", "call.started", 3000);
  early.payload = R"({"z":1,"id":"e1",  "raw":{"b":2,"a":1}})";  // key order and spacing kept
  auto foreign = sample_event("e3", "c3", "call.started", 3100, "acc2");  // same call id, other account
  b.events = {late, early, foreign};
  ASSERT_TRUE(db_->commit(b));
  auto t = history_->find_call("acc1", "c3", std::nullopt);
  ASSERT_TRUE(t && *t);
  EXPECT_EQ((*t)->call.call_id, "c3");
  EXPECT_EQ((*t)->payloads, (strings{early.payload, late.payload}));
  auto capped = history_->find_call("acc1", "c3", std::nullopt, 1);
  ASSERT_TRUE(capped && *capped);
  EXPECT_EQ((*capped)->payloads, strings{early.payload});
}

TEST_F(CallHistory, FindCallHonoursPartyVisibility) {
  auto as_alice = history_->find_call("acc1", "c2", std::string("alice"));
  ASSERT_TRUE(as_alice);
  EXPECT_FALSE(*as_alice) << "bob's call is not alice's";
  auto as_bob = history_->find_call("acc1", "c2", std::string("bob"));
  ASSERT_TRUE(as_bob && *as_bob);
  auto missing = history_->find_call("acc1", "nope", std::nullopt);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(CallHistory, PartiesOfLaterBatchesAddToTheCall) {
  batch b;
  b.parties = {{"c4", "carol"}, {"c1", "alice"}};  // a transfer to carol; alice again: ignored
  ASSERT_TRUE(db_->commit(b));
  EXPECT_EQ(ids(list({.account_id = "acc1", .visible_to = "carol"})), strings{"c4"});
  EXPECT_EQ(ids(list({.account_id = "acc1", .visible_to = "alice"})), (strings{"c3", "c1"}));
}

}  // namespace
}  // namespace kazoo_bridge::store
