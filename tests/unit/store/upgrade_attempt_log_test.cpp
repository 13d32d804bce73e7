// Upgrading a database that a release with migrations 0001-0005 wrote: 0006 rebuilds the REST hook attempt
// log (hook_deliveries) with a cheaper CHECK and without the unused (hook_id, event_id) index. What a user
// relies on must survive: every attempt row with its id (GET /api/v1/hooks/{id}/deliveries lists them newest
// first by id), the outcome rule, and the cascade that deletes a hook's attempts with the hook.

#include <gtest/gtest.h>

#include <string>

#include <kazoo_bridge/store/database.hpp>

#include "raw_sqlite.hpp"
#include "store/migrations.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

using test::raw_sqlite;

// A file exactly as a 0001-0005 kazoo-bridge left it, with two hooks and their attempt log.
void make_version_5(const std::string& path) {
  raw_sqlite raw(path);
  ASSERT_EQ(raw.exec("PRAGMA journal_mode = WAL"), SQLITE_OK);
  std::string sql = "BEGIN;";
  for (const auto& m : detail::embedded_migrations()) {
    if (m.version > 5) break;
    sql += std::string(m.sql) + ";";
  }
  sql += "PRAGMA user_version = 5; COMMIT;";
  ASSERT_EQ(raw.exec(sql), SQLITE_OK);
  ASSERT_EQ(raw.exec("PRAGMA foreign_keys = ON"), SQLITE_OK);
  ASSERT_EQ(raw.exec(R"(
    INSERT INTO hooks (id, account_id, user_id, target_url, event, scope, secret, created_at_ms, updated_at_ms)
    VALUES ('hook_a', 'acc', 'u1', 'https://a.example/', '*', 'user', 'whsec_x', 1, 1),
           ('hook_b', 'acc', 'u2', 'https://b.example/', '*', 'user', 'whsec_y', 1, 1);
    INSERT INTO hook_deliveries (id, hook_id, event_id, attempt, attempted_at_ms, duration_ms, outcome,
                                 status_code, error, response_snippet, next_retry_at_ms)
    VALUES (7, 'hook_a', 'evt_1', 1, 1000, 20, 'retry', 503, 'HTTP 503', 'busy', 61000),
           (8, 'hook_a', 'evt_1', 2, 61000, 15, 'delivered', 200, NULL, '{"ok":true}', NULL),
           (12, 'hook_b', 'evt_1', 1, 1000, 30000, 'failed', NULL, 'timeout', NULL, NULL);
  )"),
            SQLITE_OK);
}

TEST(UpgradeAttemptLog, Version5AttemptLogKeepsEveryRowAndItsRules) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  make_version_5(path);

  std::string reason;
  {
    auto db = database::open({.path = path}, reason);
    ASSERT_TRUE(db) << reason;
    EXPECT_EQ((*db)->schema_version(), database::latest_schema_version());
  }
  raw_sqlite raw(path);
  ASSERT_EQ(raw.exec("PRAGMA foreign_keys = ON"), SQLITE_OK);
  // Every attempt, with its id and values.
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM hook_deliveries"), 3);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM hook_deliveries WHERE id = 7 AND hook_id = 'hook_a' AND "
                       "event_id = 'evt_1' AND attempt = 1 AND attempted_at_ms = 1000 AND duration_ms = 20 AND "
                       "outcome = 'retry' AND status_code = 503 AND error = 'HTTP 503' AND "
                       "response_snippet = 'busy' AND next_retry_at_ms = 61000"),
            1);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM hook_deliveries WHERE id = 12 AND status_code IS NULL AND "
                       "error = 'timeout' AND response_snippet IS NULL"),
            1);
  // The listing's index is there, the unused one is gone, nothing is left of the rebuild.
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'hook_deliveries_hook'"), 1);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'hook_deliveries_event'"), 0);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE '%_new'"), 0);
  // New attempts continue after the highest id (newest first stays right).
  ASSERT_EQ(raw.exec("INSERT INTO hook_deliveries (hook_id, event_id, attempt, attempted_at_ms, duration_ms, "
                     "outcome) VALUES ('hook_b', 'evt_2', 1, 2000, 10, 'gone')"),
            SQLITE_OK);
  EXPECT_EQ(raw.scalar("SELECT max(id) FROM hook_deliveries"), 13);
  // Still only the four outcomes, and only for a hook that exists.
  EXPECT_EQ(raw.exec("INSERT INTO hook_deliveries (hook_id, event_id, attempt, attempted_at_ms, duration_ms, "
                     "outcome) VALUES ('hook_a', 'evt_3', 1, 3000, 10, 'maybe')"),
            SQLITE_CONSTRAINT);
  EXPECT_EQ(raw.exec("INSERT INTO hook_deliveries (hook_id, event_id, attempt, attempted_at_ms, duration_ms, "
                     "outcome) VALUES ('hook_zzz', 'evt_3', 1, 3000, 10, 'failed')"),
            SQLITE_CONSTRAINT);
  // Deleting a hook still deletes its attempt log, and only its own.
  ASSERT_EQ(raw.exec("DELETE FROM hooks WHERE id = 'hook_a'"), SQLITE_OK);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM hook_deliveries WHERE hook_id = 'hook_a'"), 0);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM hook_deliveries WHERE hook_id = 'hook_b'"), 2);
}

}  // namespace
}  // namespace kazoo_bridge::store
