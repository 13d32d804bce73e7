// Read queries: order, limits and filters, as `kazoo-bridge calls/events` and the HTTP API use them.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <kazoo_bridge/store/database.hpp>

#include "sample_rows.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

using test::sample_call;
using test::sample_event;

std::vector<std::string> ids(const std::vector<event_row>& evs) {
  std::vector<std::string> out;
  for (const auto& e : evs) out.push_back(e.id);
  return out;
}

std::vector<std::string> call_ids(const std::vector<call_row>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.call_id);
  return out;
}

class Query : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = database::open({.path = dir_.file("kb.db")});
    ASSERT_TRUE(r);
    db_ = std::move(*r);
    // Two accounts, three calls; events deliberately committed out of time order, and e5/e6 share
    // a timestamp (insertion order breaks the tie).
    batch b;
    b.events = {
        sample_event("e3", "c2", "call.started", 3000, "acc1"),
        sample_event("e1", "c1", "call.started", 1000, "acc1"),
        sample_event("e2", "c1", "call.missed", 2000, "acc1"),
        sample_event("e4", "c2", "call.missed", 4000, "acc1"),
        sample_event("e5", "c3", "call.started", 5000, "acc2"),
        sample_event("e6", "c3", "call.missed", 5000, "acc2"),
    };
    b.calls = {sample_call("c1", "ended", 1000), sample_call("c2", "answered", 3000),
               sample_call("c3", "ringing", 5000, "acc2")};
    ASSERT_TRUE(db_->commit(b));
  }

  kazoo_bridge::test::temp_dir dir_;
  std::unique_ptr<database> db_;
};

TEST_F(Query, EventsAreOldestFirst) {
  EXPECT_EQ(ids(db_->events({}).value()), (std::vector<std::string>{"e1", "e2", "e3", "e4", "e5", "e6"}));
}

TEST_F(Query, LimitKeepsTheLastMatchingEvents) {
  EXPECT_EQ(ids(db_->events({.limit = 3}).value()), (std::vector<std::string>{"e4", "e5", "e6"}));
  EXPECT_EQ(ids(db_->events({.limit = 1}).value()), (std::vector<std::string>{"e6"}));
  EXPECT_TRUE(db_->events({.limit = 0}).value().empty());
}

TEST_F(Query, EventFiltersCombine) {
  EXPECT_EQ(ids(db_->events({.call_id = "c1"}).value()), (std::vector<std::string>{"e1", "e2"}));
  EXPECT_EQ(ids(db_->events({.type = "call.missed"}).value()), (std::vector<std::string>{"e2", "e4", "e6"}));
  EXPECT_EQ(ids(db_->events({.account_id = "acc2"}).value()), (std::vector<std::string>{"e5", "e6"}));
  EXPECT_EQ(ids(db_->events({.call_id = "c2", .type = "call.missed"}).value()),
            (std::vector<std::string>{"e4"}));
  EXPECT_EQ(ids(db_->events({.type = "call.missed", .account_id = "acc1", .limit = 1}).value()),
            (std::vector<std::string>{"e4"}));
  EXPECT_TRUE(db_->events({.call_id = "c1", .account_id = "acc2"}).value().empty());
  EXPECT_TRUE(db_->events({.type = "call.parked"}).value().empty());
  // The same filter shape again reuses its prepared statement with new values.
  EXPECT_EQ(ids(db_->events({.call_id = "c3"}).value()), (std::vector<std::string>{"e5", "e6"}));
}

TEST_F(Query, RecentCallsAreNewestFirstAndLimited) {
  EXPECT_EQ(call_ids(db_->recent_calls(10).value()), (std::vector<std::string>{"c3", "c2", "c1"}));
  EXPECT_EQ(call_ids(db_->recent_calls(2).value()), (std::vector<std::string>{"c3", "c2"}));
  EXPECT_TRUE(db_->recent_calls(0).value().empty());
}

TEST_F(Query, OpenCallsAreThoseNotEnded) {
  EXPECT_EQ(call_ids(db_->open_calls().value()), (std::vector<std::string>{"c2", "c3"}));
}

TEST_F(Query, FindCall) {
  auto c2 = db_->find_call("c2").value();
  ASSERT_TRUE(c2.has_value());
  EXPECT_EQ(c2->status, "answered");
  EXPECT_TRUE(c2->answered);
  EXPECT_FALSE(db_->find_call("nope").value().has_value());
}

TEST_F(Query, CountEvents) { EXPECT_EQ(db_->count_events().value(), 6); }

}  // namespace
}  // namespace kazoo_bridge::store
