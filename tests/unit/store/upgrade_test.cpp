// Upgrading a database that a release with only migration 0001 wrote: 0002 rebuilds calls and
// call_events without the json_valid CHECKs, and must keep every row, every seq value, the outbox
// rows and their foreign key. Also: the page size of new and of existing files.

#include <gtest/gtest.h>

#include <string>

#include <kazoo_bridge/store/database.hpp>

#include "raw_sqlite.hpp"
#include "sample_rows.hpp"
#include "store/migrations.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

using test::raw_sqlite;

// A file exactly as a 0001-only kazoo-bridge left it: 4 KB pages (SQLite's default then), WAL,
// schema 0001, user_version 1.
void make_version_1(const std::string& path) {
  raw_sqlite raw(path);
  ASSERT_EQ(raw.exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL"), SQLITE_OK);
  const auto& m1 = detail::embedded_migrations()[0];
  ASSERT_EQ(m1.version, 1);
  ASSERT_EQ(raw.exec("BEGIN; " + std::string(m1.sql) + "; PRAGMA user_version = 1; COMMIT;"), SQLITE_OK);
}

// Rows with gaps in seq (as after deletes) and outbox rows pointing at them.
void populate(const std::string& path) {
  raw_sqlite raw(path);
  ASSERT_EQ(raw.exec("PRAGMA foreign_keys = ON"), SQLITE_OK);
  ASSERT_EQ(raw.exec(R"(
    INSERT INTO call_events (seq, id, type, call_id, account_id, user_id, direction, occurred_at_ms, payload)
    VALUES (5, 'evt_a', 'call.started', 'c1', 'acc1', 'u1', 'inbound', 1000, '{"id":"evt_a"}'),
           (9, 'evt_b', 'call.answered', 'c1', 'acc1', 'u1', 'inbound', 1000, '{"id":"evt_b"}'),
           (12, 'evt_c', 'call.ended', 'c1', 'acc1', NULL, 'inbound', 900, '{"id":"evt_c","raw":{"x":[1]}}');
    INSERT INTO calls (call_id, account_id, status, direction, answered, user_id, started_at_ms,
                       updated_at_ms, ended_at_ms, snapshot, state)
    VALUES ('c1', 'acc1', 'ended', 'inbound', 1, 'u1', 1000, 3000, 3000, '{"a":1}', '{"legs":[]}'),
           ('c2', 'acc2', 'ringing', 'outbound', 0, NULL, 2000, 2000, NULL, '{}', '{"legs":["x"]}');
    INSERT INTO outbox (event_id, destination, call_id, status, attempts, next_attempt_at_ms,
                        created_at_ms, updated_at_ms)
    VALUES ('evt_a', 'hook:1', 'c1', 'delivered', 1, 0, 10, 20),
           ('evt_b', 'hook:1', 'c1', 'pending', 0, 50, 10, 10),
           ('evt_b', 'salesforce', 'c1', 'pending', 3, 60, 10, 30);
    INSERT INTO meta (key, value) VALUES ('last_event_at', '3000');
  )"),
            SQLITE_OK);
}

TEST(Upgrade, Version1DatabaseKeepsEveryRowSeqAndOutboxRow) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  make_version_1(path);
  populate(path);

  std::string reason;
  auto opened = database::open({.path = path}, reason);
  ASSERT_TRUE(opened) << reason;
  auto& db = **opened;
  EXPECT_EQ(db.schema_version(), database::latest_schema_version());

  // Events: same rows, same order (occurred_at, then seq), same payload bytes.
  auto evs = db.events({.call_id = "c1"}).value();
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].id, "evt_c");  // occurred first (900)
  EXPECT_EQ(evs[1].id, "evt_a");  // 1000, seq 5
  EXPECT_EQ(evs[2].id, "evt_b");  // 1000, seq 9
  EXPECT_EQ(evs[0].payload, R"({"id":"evt_c","raw":{"x":[1]}})");
  EXPECT_FALSE(evs[0].user_id.has_value());

  // Calls: every column.
  auto c1 = db.find_call("c1").value();
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->status, "ended");
  EXPECT_TRUE(c1->answered);
  EXPECT_EQ(c1->ended_at_ms, 3000);
  EXPECT_EQ(c1->snapshot, R"({"a":1})");
  EXPECT_EQ(c1->state, R"({"legs":[]})");
  auto open = db.open_calls().value();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].call_id, "c2");
  EXPECT_EQ(open[0].account_id, "acc2");
  EXPECT_EQ(db.meta("last_event_at").value(), "3000");

  // Outbox: all three rows, the pending ones still due, their state unchanged.
  EXPECT_EQ(db.count_outbox().value(), 3);
  auto due = db.due_outbox(100, 10).value();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].event_id, "evt_b");
  EXPECT_EQ(due[0].destination, "hook:1");
  EXPECT_EQ(due[1].destination, "salesforce");
  EXPECT_EQ(due[1].attempts, 3);

  {
    raw_sqlite raw(path);
    EXPECT_EQ(raw.scalar("PRAGMA user_version"), database::latest_schema_version());
    // The seq values themselves survive, not only their order.
    EXPECT_EQ(raw.scalar("SELECT seq FROM call_events WHERE id = 'evt_a'"), 5);
    EXPECT_EQ(raw.scalar("SELECT seq FROM call_events WHERE id = 'evt_c'"), 12);
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    // No leftovers of the rebuild; every index is back.
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE '%_new'"), 0);
    for (const char* idx : {"calls_started", "calls_account_started", "calls_open", "call_events_occurred",
                            "call_events_call", "call_events_type", "call_events_account", "outbox_due",
                            "outbox_lane"}) {
      EXPECT_EQ(raw.scalar(std::string("SELECT count(*) FROM sqlite_master WHERE type='index' AND name='") +
                           idx + "'"),
                1)
          << idx;
    }
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE sql LIKE '%json_valid%'"), 0);
  }

  // New events continue after the highest seq, and the outbox foreign key still holds.
  batch b;
  b.events = {test::sample_event("evt_d", "c2")};
  b.outbox = {{.event_id = "evt_d", .destination = "hook:1", .call_id = "c2", .next_attempt_at_ms = 0}};
  ASSERT_TRUE(db.commit(b)) << db.last_error();
  batch orphan;
  orphan.outbox = {{.event_id = "evt_nowhere", .destination = "hook:1", .call_id = "c9"}};
  auto refused = db.commit(orphan);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is_data_error(refused.error())) << refused.error().message();
  raw_sqlite raw(path);
  EXPECT_EQ(raw.scalar("SELECT seq FROM call_events WHERE id = 'evt_d'"), 13);
  // ON DELETE CASCADE still reaches the outbox through the rebuilt table.
  ASSERT_EQ(raw.exec("PRAGMA foreign_keys = ON; DELETE FROM call_events WHERE id = 'evt_b'"), SQLITE_OK);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM outbox WHERE event_id = 'evt_b'"), 0);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM outbox"), 2);
}

// 0007: a call's events are found in the index by Call-ID (stored before) and in the one by call
// number (stored since), also for a call in progress across the upgrade; new calls get numbers in order.
TEST(Upgrade, CallNumbersKeepEveryCallsEventsTogetherAcrossTheUpgrade) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  make_version_1(path);
  populate(path);  // c1 ended, c2 ringing: both stored before call numbers existed
  std::string reason;
  auto opened = database::open({.path = path}, reason);
  ASSERT_TRUE(opened) << reason;
  auto& db = **opened;

  // c2 goes on after the upgrade; c3 and c4 are new. One transaction, calls listed after events.
  batch b;
  b.events = {test::sample_event("evt_c2_answered", "c2", "call.answered", 2500),
              test::sample_event("evt_c3_started", "c3", "call.started", 2600),
              test::sample_event("evt_c4_started", "c4", "call.started", 2700),
              test::sample_event("evt_c3_ended", "c3", "call.ended", 2800)};
  b.calls = {test::sample_call("c2", "answered"), test::sample_call("c3", "ended"), test::sample_call("c4")};
  ASSERT_TRUE(db.commit(b)) << db.last_error();

  auto ids = [&](const std::string& call) {
    std::vector<std::string> out;
    for (const auto& e : db.events({.call_id = call}).value()) out.push_back(e.id);
    return out;
  };
  EXPECT_EQ(ids("c2"), std::vector<std::string>{"evt_c2_answered"});
  EXPECT_EQ(ids("c1"), (std::vector<std::string>{"evt_c", "evt_a", "evt_b"}));
  EXPECT_EQ(ids("c3"), (std::vector<std::string>{"evt_c3_started", "evt_c3_ended"}));
  EXPECT_EQ(ids("c4"), std::vector<std::string>{"evt_c4_started"});
  EXPECT_TRUE(ids("c9").empty());

  raw_sqlite raw(path);
  // Calls stored before keep no number; new ones are numbered as they come, and their events carry it.
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM calls WHERE num IS NULL"), 2);
  EXPECT_EQ(raw.scalar("SELECT num FROM calls WHERE call_id = 'c3'"), 1);
  EXPECT_EQ(raw.scalar("SELECT num FROM calls WHERE call_id = 'c4'"), 2);
  EXPECT_EQ(raw.scalar("SELECT call_num FROM call_events WHERE id = 'evt_c3_ended'"), 1);
  EXPECT_EQ(raw.scalar("SELECT call_num FROM call_events WHERE id = 'evt_c4_started'"), 2);
  EXPECT_EQ(raw.scalar("SELECT call_num FROM call_events WHERE id = 'evt_c2_answered'"), 0);
  EXPECT_EQ(raw.scalar("SELECT call_num FROM call_events WHERE id = 'evt_a'"), 0);
  // A later update of a numbered call keeps its number.
  batch again;
  again.calls = {test::sample_call("c4", "answered")};
  ASSERT_TRUE(db.commit(again)) << db.last_error();
  EXPECT_EQ(raw.scalar("SELECT num FROM calls WHERE call_id = 'c4'"), 2);
}

TEST(Upgrade, PartiesOfCallsStoredBeforeVersion3AreFilledIn) {
  // 0003 backfills call_parties from what older versions stored: the events' user_id, the calls'
  // user_id and the snapshot's from_user_id (the internal caller).
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  make_version_1(path);
  populate(path);
  {
    raw_sqlite raw(path);
    ASSERT_EQ(raw.exec(R"(
      INSERT INTO calls (call_id, account_id, status, direction, answered, user_id, started_at_ms,
                         updated_at_ms, snapshot, state)
      VALUES ('c3', 'acc1', 'answered', 'internal', 1, 'u2', 4000, 4000, '{"from_user_id":"u9"}', '{}'),
             ('c4', 'acc1', 'ended', 'inbound', 0, NULL, 5000, 5000, '{"from_user_id":null}', '{}');
    )"),
              SQLITE_OK);
  }
  auto opened = database::open({.path = path});
  ASSERT_TRUE(opened);
  raw_sqlite raw(path);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM call_parties"), 3);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM call_parties WHERE call_id = 'c1' AND user_id = 'u1'"), 1);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM call_parties WHERE call_id = 'c3' AND user_id = 'u2'"), 1);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM call_parties WHERE call_id = 'c3' AND user_id = 'u9'"), 1);
}

TEST(Upgrade, ForeignKeysAreOnAgainAfterMigrating) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  make_version_1(path);
  populate(path);
  auto opened = database::open({.path = path});
  ASSERT_TRUE(opened);
  // The daemon's own connection must still refuse an outbox row for an unknown event.
  batch orphan;
  orphan.outbox = {{.event_id = "evt_nowhere", .destination = "hook:1", .call_id = "c9"}};
  EXPECT_FALSE((*opened)->commit(orphan));
  EXPECT_EQ((*opened)->count_outbox().value(), 3);
}

TEST(Upgrade, BrokenReferenceStopsTheMigrationAndLeavesVersion1) {
  // An outbox row whose event is gone (written with foreign keys off by some tool): the rebuild
  // must not silently carry a broken reference into version 2.
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  make_version_1(path);
  {
    raw_sqlite raw(path);
    ASSERT_EQ(raw.exec("PRAGMA foreign_keys = OFF; INSERT INTO outbox (event_id, destination, call_id, "
                       "next_attempt_at_ms, created_at_ms, updated_at_ms) VALUES ('gone', 'h', 'c', 0, 0, 0)"),
              SQLITE_OK);
  }
  std::string reason;
  auto opened = database::open({.path = path}, reason);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), store_errc::migration_failed);
  EXPECT_NE(reason.find("0002_"), std::string::npos) << reason;
  EXPECT_NE(reason.find("foreign key"), std::string::npos) << reason;
  raw_sqlite raw(path);
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), 1);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE sql LIKE '%json_valid%'"), 2);
}

TEST(PageSize, NewFileGetsLargePagesAndAnExistingFileKeepsItsOwn) {
  kazoo_bridge::test::temp_dir dir;
  const auto fresh = dir.file("fresh.db");
  ASSERT_TRUE(database::open({.path = fresh}));
  EXPECT_EQ(raw_sqlite(fresh).scalar("PRAGMA page_size"), 8192);

  const auto old = dir.file("old.db");
  make_version_1(old);
  populate(old);
  ASSERT_TRUE(database::open({.path = old}));
  raw_sqlite raw(old);
  EXPECT_EQ(raw.scalar("PRAGMA page_size"), 4096);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM call_events"), 3);
}

}  // namespace
}  // namespace kazoo_bridge::store
