// Opening: pragmas read back from the connection, and clear errors for a bad location or option.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <kazoo_bridge/store/database.hpp>

#include "raw_sqlite.hpp"
#include "sample_rows.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Open, WalModeAndSynchronousNormalByDefault) {
  kazoo_bridge::test::temp_dir dir;
  auto db = database::open({.path = dir.file("kb.db")});
  ASSERT_TRUE(db);
  EXPECT_EQ((*db)->journal_mode().value(), "wal");
  EXPECT_EQ((*db)->synchronous_mode().value(), "normal");
}

TEST(Open, PageCacheIsSQLitesDefaultUnlessAskedFor) {
  kazoo_bridge::test::temp_dir dir;
  auto plain = database::open({.path = dir.file("kb.db")});
  ASSERT_TRUE(plain);
  EXPECT_EQ((*plain)->cache_size().value(), -2000);  // SQLite's default: 2,000 KiB
  // [storage] cache_mb: negative cache_size is KiB (sqlite.org/pragma.html#pragma_cache_size).
  auto big = database::open({.path = dir.file("kb2.db"), .cache_kib = 32 * 1024});
  ASSERT_TRUE(big);
  EXPECT_EQ((*big)->cache_size().value(), -32768);
}

TEST(Open, SynchronousFullIsHonoured) {
  kazoo_bridge::test::temp_dir dir;
  auto db = database::open({.path = dir.file("kb.db"), .synchronous = "full"});
  ASSERT_TRUE(db);
  EXPECT_EQ((*db)->synchronous_mode().value(), "full");
  auto upper = database::open({.path = dir.file("kb2.db"), .synchronous = "FULL"});
  ASSERT_TRUE(upper);
  EXPECT_EQ((*upper)->synchronous_mode().value(), "full");
}

TEST(Open, UnknownSynchronousIsRefusedWithTheKeyName) {
  kazoo_bridge::test::temp_dir dir;
  std::string reason;
  auto db = database::open({.path = dir.file("kb.db"), .synchronous = "off"}, reason);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error(), store_errc::bad_option);
  EXPECT_TRUE(contains(reason, "storage.synchronous")) << reason;
  EXPECT_FALSE(fs::exists(dir.file("kb.db")));  // refused before touching the disk
}

TEST(Open, MissingDirectoryIsAClearErrorAndIsNotCreated) {
  kazoo_bridge::test::temp_dir dir;
  const auto missing = dir.path() / "no" / "such";
  const auto path = (missing / "kb.db").string();
  std::string reason;
  auto db = database::open({.path = path}, reason);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error(), store_errc::cannot_open);
  EXPECT_TRUE(contains(reason, path)) << reason;
  EXPECT_TRUE(contains(reason, "directory " + missing.string() + " does not exist")) << reason;
  EXPECT_FALSE(fs::exists(missing));
}

TEST(Open, ParentThatIsAFileIsAClearError) {
  kazoo_bridge::test::temp_dir dir;
  std::ofstream(dir.file("plain")) << "x";
  std::string reason;
  auto db = database::open({.path = dir.file("plain") + "/kb.db"}, reason);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error(), store_errc::cannot_open);
  EXPECT_TRUE(contains(reason, "is not a directory")) << reason;
}

TEST(Open, UnwritableDirectoryIsAClearError) {
  kazoo_bridge::test::temp_dir dir;
  std::string reason;
  if (::geteuid() != 0) {
    const auto ro = dir.path() / "ro";
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    auto db = database::open({.path = (ro / "kb.db").string()}, reason);
    fs::permissions(ro, fs::perms::owner_all);
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error(), store_errc::cannot_open);
    EXPECT_TRUE(contains(reason, "is not writable")) << reason;
  } else {
    // root ignores permission bits; /proc refuses new files even to root.
    auto db = database::open({.path = "/proc/kazoo-bridge-test.db"}, reason);
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error(), store_errc::cannot_open);
    EXPECT_TRUE(contains(reason, "/proc/kazoo-bridge-test.db")) << reason;
  }
}

TEST(Open, FileThatIsNotADatabaseIsAClearError) {
  kazoo_bridge::test::temp_dir dir;
  std::ofstream(dir.file("kb.db")) << "this is a text file, long enough to have a header of sorts......"
                                      "................................................................";
  std::string reason;
  auto db = database::open({.path = dir.file("kb.db")}, reason);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error(), store_errc::cannot_open);
  EXPECT_TRUE(contains(reason, "not a database")) << reason;
}

TEST(Open, BusyTimeoutBoundsTheWaitForAnotherWriter) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  auto db = database::open({.path = path, .busy_timeout = std::chrono::milliseconds(20)});
  ASSERT_TRUE(db);
  test::raw_sqlite other(path);
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);  // another process holds the write lock

  batch b;
  b.events.push_back(test::sample_event("evt_1", "c1"));
  auto r = (*db)->commit(b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), sqlite_category());
  EXPECT_EQ(r.error().value() & 0xff, SQLITE_BUSY);
  EXPECT_FALSE(is_data_error(r.error()));  // worth retrying

  ASSERT_EQ(other.exec("ROLLBACK"), SQLITE_OK);
  auto again = (*db)->commit(b);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->events_inserted, 1u);
}

}  // namespace
}  // namespace kazoo_bridge::store
