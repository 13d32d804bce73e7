#include <kazoo_bridge/store/hook_store.hpp>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raw_sqlite.hpp"
#include "sample_rows.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

using test::sample_event;

hook_row sample_hook(std::string id, std::string user = "user1", std::string grant = "fam1") {
  hook_row h;
  h.id = std::move(id);
  h.account_id = "acc1";
  h.user_id = std::move(user);
  h.client_id = "client1";
  h.grant_id = std::move(grant);
  h.target_url = "https://hooks.example.com/x";
  h.event = "call.missed";
  h.scope = "user";
  h.filters = R"({"direction":"inbound"})";
  h.secret = "whsec_c2VjcmV0";
  h.created_at_ms = 1000;
  h.updated_at_ms = 1000;
  return h;
}

// Runs every test on a private :memory: database and on a WAL file (the daemon's case).
class HookStore : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    path_ = GetParam() ? (dir_.path() / "hooks.db").string() : ":memory:";
    auto db = database::open({.path = path_});
    ASSERT_TRUE(db) << db.error().message();
    db_ = std::move(*db);
    hooks_ = std::make_unique<hook_store>(*db_);
  }

  void store_events(std::vector<event_row> events) {
    batch b;
    b.events = std::move(events);
    ASSERT_TRUE(db_->commit(b));
  }

  std::int64_t count(const std::string& sql) {
    if (!GetParam()) return -2;  // a second connection cannot see a private :memory: database
    test::raw_sqlite raw(path_);
    return raw.scalar(sql);
  }

  kazoo_bridge::test::temp_dir dir_;
  std::string path_;
  std::unique_ptr<database> db_;
  std::unique_ptr<hook_store> hooks_;
};

TEST_P(HookStore, CreateGetListCount) {
  ASSERT_FALSE(hooks_->create(sample_hook("hook_a")));
  auto other_user = sample_hook("hook_b", "user2");
  other_user.created_at_ms = 2000;
  ASSERT_FALSE(hooks_->create(other_user));
  EXPECT_TRUE(hooks_->create(sample_hook("hook_a"))) << "a duplicate id is refused";

  auto got = hooks_->get("hook_a");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->target_url, "https://hooks.example.com/x");
  EXPECT_EQ((*got)->filters, R"({"direction":"inbound"})");
  EXPECT_EQ((*got)->grant_id, "fam1");
  EXPECT_EQ((*got)->status, "active");
  EXPECT_FALSE((*got)->disabled_reason);
  auto missing = hooks_->get("hook_zzz");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  auto mine = hooks_->list_by_owner("acc1", "user1");
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 1U);
  EXPECT_EQ((*mine)[0].id, "hook_a");
  auto all = hooks_->list_by_account("acc1");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[1].id, "hook_b");
  EXPECT_EQ(*hooks_->count_by_owner("acc1", "user2"), 1);
  EXPECT_EQ(*hooks_->count_by_owner("acc2", "user2"), 0);
}

TEST_P(HookStore, StatusAndActiveList) {
  ASSERT_FALSE(hooks_->create(sample_hook("hook_a")));
  ASSERT_FALSE(hooks_->create(sample_hook("hook_b")));
  ASSERT_TRUE(*hooks_->set_status("hook_b", "disabled", 5000));
  auto active = hooks_->list_active();
  ASSERT_TRUE(active);
  ASSERT_EQ(active->size(), 1U);
  EXPECT_EQ((*active)[0].id, "hook_a");
  EXPECT_TRUE(hooks_->set_status("hook_b", "paused", 5000).has_error()) << "the schema's CHECK refuses it";
  ASSERT_TRUE(*hooks_->set_status("hook_b", "active", 6000));
  auto b = *hooks_->get("hook_b");
  EXPECT_EQ(b->status, "active");
  EXPECT_EQ(b->updated_at_ms, 6000);
  EXPECT_FALSE(*hooks_->set_status("hook_zzz", "active", 6000));
}

TEST_P(HookStore, RemoveCancelsPendingOutboxRowsAndDropsAttempts) {
  ASSERT_FALSE(hooks_->create(sample_hook("hook_a")));
  ASSERT_FALSE(hooks_->create(sample_hook("hook_b")));
  batch b;
  b.events = {sample_event("evt_1", "c1"), sample_event("evt_2", "c1")};
  b.outbox = {{"evt_1", "hook:hook_a", "c1", 10}, {"evt_2", "hook:hook_a", "c1", 10}, {"evt_1", "hook:hook_b", "c1", 10}};
  ASSERT_TRUE(db_->commit(b));
  ASSERT_TRUE(*hooks_->remove("hook_a", 20));
  EXPECT_FALSE(*hooks_->remove("hook_a", 20)) << "already gone";
  EXPECT_FALSE(*hooks_->get("hook_a"));
  auto due = db_->due_outbox(100, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1U) << "only hook_b's row is still pending";
  EXPECT_EQ((*due)[0].destination, "hook:hook_b");
  if (GetParam()) {
    EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE status = 'cancelled' AND destination = 'hook:hook_a'"), 2);
  }
}

TEST_P(HookStore, RemoveByGrantRemovesOnlyThatGrantsHooks) {
  ASSERT_FALSE(hooks_->create(sample_hook("hook_a", "user1", "fam1")));
  ASSERT_FALSE(hooks_->create(sample_hook("hook_b", "user1", "fam1")));
  ASSERT_FALSE(hooks_->create(sample_hook("hook_c", "user1", "fam2")));
  auto removed = hooks_->remove_by_grant("fam1", 50);
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, (std::vector<std::string>{"hook_a", "hook_b"}));
  EXPECT_TRUE(*hooks_->get("hook_c"));
  EXPECT_TRUE(hooks_->remove_by_grant("fam1", 50)->empty());
}

TEST_P(HookStore, DeliveriesNewestFirstWithLimit) {
  ASSERT_FALSE(hooks_->create(sample_hook("hook_a")));
  // The delivery engine writes these rows; the store has no writer for them, so plain SQL on a file.
  if (!GetParam()) GTEST_SKIP() << "needs a second connection";
  {
    test::raw_sqlite raw(path_);
    ASSERT_EQ(raw.exec("INSERT INTO hook_deliveries (hook_id, event_id, attempt, attempted_at_ms, duration_ms, outcome, "
                       "status_code, error, response_snippet, next_retry_at_ms) VALUES "
                       "('hook_a', 'evt_1', 1, 100, 12, 'retry', 503, NULL, 'busy', 1100),"
                       "('hook_a', 'evt_1', 2, 1100, 9, 'delivered', 200, NULL, 'ok', NULL),"
                       "('hook_a', 'evt_2', 1, 1200, 3000, 'retry', NULL, 'timeout', NULL, 5000)"),
              0);
  }
  auto d = hooks_->deliveries("hook_a", 2);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 2U);
  EXPECT_EQ((*d)[0].event_id, "evt_2");
  EXPECT_FALSE((*d)[0].status_code);
  EXPECT_EQ((*d)[0].error, "timeout");
  EXPECT_EQ((*d)[1].outcome, "delivered");
  EXPECT_EQ((*d)[1].status_code, 200);
  EXPECT_EQ((*d)[1].attempt, 2);
  EXPECT_TRUE(hooks_->deliveries("hook_zzz", 10)->empty());
}

TEST_P(HookStore, ReplayQueuesOncePendingAndRequeuesFinished) {
  ASSERT_FALSE(hooks_->create(sample_hook("hook_a")));
  store_events({sample_event("evt_1", "c1", "call.missed", 1000), sample_event("evt_2", "c2", "call.missed", 2000),
                sample_event("evt_3", "c3", "call.missed", 3000, "acc2")});
  auto one = hooks_->replay_candidates({.account_id = "acc1", .event_id = "evt_1"});
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1U);
  EXPECT_TRUE(hooks_->replay_candidates({.account_id = "acc1", .event_id = "evt_3"})->empty())
      << "another account's event is not a candidate";
  auto range = hooks_->replay_candidates({.account_id = "acc1", .since_ms = 1500, .until_ms = 5000});
  ASSERT_EQ(range->size(), 1U);
  EXPECT_EQ((*range)[0].id, "evt_2");

  std::vector<replay_item> items{{"evt_1", "c1"}, {"evt_2", "c2"}};
  EXPECT_EQ(*hooks_->replay("hook_a", items, 100), 2);
  EXPECT_EQ(*hooks_->replay("hook_a", items, 200), 0) << "still pending: not queued twice";
  auto due = db_->due_outbox(1000, 10);
  ASSERT_EQ(due->size(), 2U);
  EXPECT_EQ((*due)[0].next_attempt_at_ms, 100);

  if (!GetParam()) return;  // marking a row delivered needs the delivery engine's SQL
  {
    test::raw_sqlite raw(path_);
    ASSERT_EQ(raw.exec("UPDATE outbox SET status = 'delivered', attempts = 1 WHERE event_id = 'evt_1'"), 0);
  }
  EXPECT_EQ(*hooks_->replay("hook_a", items, 300), 1) << "the delivered one is queued again";
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE destination = 'hook:hook_a'"), 2);
  EXPECT_EQ(count("SELECT attempts FROM outbox WHERE event_id = 'evt_1'"), 0);
  EXPECT_EQ(count("SELECT max(id) = (SELECT id FROM outbox WHERE event_id = 'evt_1') FROM outbox"), 1)
      << "a new row, behind what is queued";
}

TEST_P(HookStore, ReplayOfAnUnknownEventIsRefusedAtomically) {
  ASSERT_FALSE(hooks_->create(sample_hook("hook_a")));
  store_events({sample_event("evt_1", "c1")});
  std::vector<replay_item> items{{"evt_1", "c1"}, {"evt_missing", "c9"}};
  EXPECT_TRUE(hooks_->replay("hook_a", items, 100).has_error()) << "foreign key";
  EXPECT_EQ(*db_->count_outbox(), 0) << "rolled back as a whole";
  EXPECT_EQ(*hooks_->replay("hook_a", std::span(items).first(1), 100), 1) << "the connection is usable again";
}

TEST_P(HookStore, LatestEventsNewestFirstByTypeAndVisibility) {
  store_events({sample_event("evt_1", "c1", "call.missed", 1000), sample_event("evt_2", "c2", "call.missed", 2000),
                sample_event("evt_3", "c2", "call.ended", 3000), sample_event("evt_4", "c4", "call.missed", 4000, "acc2")});
  batch parties;
  parties.parties = {{"c1", "user7"}};
  ASSERT_TRUE(db_->commit(parties));
  auto all = hooks_->latest_events("acc1", std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3U);
  EXPECT_EQ((*all)[0].id, "evt_3");
  auto missed = hooks_->latest_events("acc1", std::string("call.missed"), std::nullopt, 1);
  ASSERT_EQ(missed->size(), 1U);
  EXPECT_EQ((*missed)[0].id, "evt_2");
  auto visible = hooks_->latest_events("acc1", std::string("call.missed"), std::string("user7"), 10);
  ASSERT_EQ(visible->size(), 1U);
  EXPECT_EQ((*visible)[0].id, "evt_1");
  EXPECT_TRUE(hooks_->latest_events("acc1", std::string("call.missed"), std::string("nobody"), 10)->empty());
}

INSTANTIATE_TEST_SUITE_P(MemoryAndFile, HookStore, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "file" : "memory"; });

}  // namespace
}  // namespace kazoo_bridge::store
