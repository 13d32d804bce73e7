// Migrations: embedded from migrations/*.sql, applied once, version in PRAGMA user_version, and a
// database from a newer kazoo-bridge refused without being touched.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <kazoo_bridge/store/database.hpp>

#include "raw_sqlite.hpp"
#include "sample_rows.hpp"
#include "store/migrations.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

namespace fs = std::filesystem;
using test::raw_sqlite;

std::vector<fs::path> migration_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(KAZOO_BRIDGE_SOURCE_DIR) / "migrations")) {
    if (e.path().extension() == ".sql") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Migrations, EmbeddedCopyIsExactlyTheMigrationsFolder) {
  auto files = migration_files();
  auto embedded = detail::embedded_migrations();
  ASSERT_FALSE(files.empty());
  ASSERT_EQ(embedded.size(), files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(embedded[i].version, static_cast<int>(i + 1));
    EXPECT_EQ(embedded[i].name, files[i].filename().string());
    EXPECT_EQ(embedded[i].sql, read_file(files[i])) << files[i];
  }
  EXPECT_EQ(database::latest_schema_version(), static_cast<int>(files.size()));
}

TEST(Migrations, FreshFileGetsEveryTableAndTheLatestUserVersion) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  {
    auto db = database::open({.path = path});
    ASSERT_TRUE(db) << db.error().message();
    EXPECT_EQ((*db)->schema_version(), database::latest_schema_version());
  }
  raw_sqlite raw(path);
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), database::latest_schema_version());
  for (const char* name : {"calls", "call_events", "outbox", "meta"}) {
    EXPECT_EQ(raw.scalar(std::string("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='") +
                         name + "'"),
              1)
        << name;
  }
  // The "due rows" index the delivery loop's claim query relies on.
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE type='index' AND name='outbox_due'"), 1);
}

TEST(Migrations, ReopenIsIdempotentAndKeepsData) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  {
    auto db = database::open({.path = path});
    ASSERT_TRUE(db);
    batch b;
    b.events.push_back(test::sample_event("evt_1", "c1"));
    ASSERT_TRUE((*db)->commit(b));
  }
  for (int i = 0; i < 2; ++i) {
    std::string reason;
    auto db = database::open({.path = path}, reason);
    ASSERT_TRUE(db) << reason;
    EXPECT_EQ((*db)->schema_version(), database::latest_schema_version());
    EXPECT_EQ((*db)->count_events().value(), 1);
  }
}

TEST(Migrations, DatabaseFromANewerVersionIsRefusedAndLeftUntouched) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  ASSERT_TRUE(database::open({.path = path}));
  const int newer = database::latest_schema_version() + 1;
  {
    raw_sqlite raw(path);
    // What a future release would have added.
    ASSERT_EQ(raw.exec("CREATE TABLE future_thing (x INTEGER); PRAGMA user_version = " +
                       std::to_string(newer)),
              SQLITE_OK);
  }
  std::string reason;
  auto db = database::open({.path = path}, reason);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error(), store_errc::schema_too_new);
  EXPECT_NE(reason.find(path), std::string::npos) << reason;
  EXPECT_NE(reason.find("schema version " + std::to_string(newer)), std::string::npos) << reason;
  EXPECT_NE(reason.find("newer"), std::string::npos) << reason;

  raw_sqlite raw(path);
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), newer);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name='future_thing'"), 1);
}

TEST(Migrations, PartiallyMigratedFileOnlyGetsTheMissingOnes) {
  // A file at version 0 that already has unrelated content: migrations run on top of it.
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  {
    raw_sqlite raw(path);
    ASSERT_EQ(raw.exec("CREATE TABLE operator_notes (t TEXT); INSERT INTO operator_notes VALUES ('x')"),
              SQLITE_OK);
  }
  auto db = database::open({.path = path});
  ASSERT_TRUE(db);
  raw_sqlite raw(path);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM operator_notes"), 1);
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), database::latest_schema_version());
}

TEST(Migrations, InMemoryDatabaseIsMigratedToo) {
  auto db = database::open({.path = ":memory:"});
  ASSERT_TRUE(db) << db.error().message();
  EXPECT_EQ((*db)->schema_version(), database::latest_schema_version());
  EXPECT_EQ((*db)->journal_mode().value(), "memory");
  batch b;
  b.events.push_back(test::sample_event("evt_1", "c1"));
  ASSERT_TRUE((*db)->commit(b));
  EXPECT_EQ((*db)->count_events().value(), 1);
}

}  // namespace
}  // namespace kazoo_bridge::store
