// Background checkpoints: the daemon's commits never copy the WAL into the database file
// themselves; a thread of the store does, and the WAL is reused instead of growing forever.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include <kazoo_bridge/store/database.hpp>

#include "sample_rows.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// `n` events of ~4 KB each in one transaction: a few 8 KB pages of WAL per event.
void commit_events(database& db, int first, int n) {
  batch b;
  for (int i = first; i < first + n; ++i) {
    auto e = test::sample_event(fmt::format("evt_{}", i), fmt::format("call_{}", i));
    e.payload = fmt::format(R"({{"id":"evt_{}","pad":"{}"}})", i, std::string(4000, 'x'));
    b.events.push_back(std::move(e));
  }
  ASSERT_TRUE(db.commit(b).has_value()) << db.last_error();
}

std::uintmax_t size_of(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

TEST(BackgroundCheckpoint, OffByDefault) {
  kazoo_bridge::test::temp_dir dir;
  auto db = database::open({.path = dir.file("kb.db")});
  ASSERT_TRUE(db.has_value());
  commit_events(**db, 0, 10);
  EXPECT_EQ((*db)->checkpoints().checkpoints, 0U);
  EXPECT_FALSE((*db)->wait_for_checkpoints(1, 0ms));
}

TEST(BackgroundCheckpoint, CommitsNeverCheckpointThemselves) {
  // A threshold that is never reached: if the writer still ran SQLite's automatic checkpoint
  // (every 1,000 pages) the WAL would be reset instead of growing past 8 MB.
  kazoo_bridge::test::temp_dir dir;
  options o;
  o.path = dir.file("kb.db");
  o.background_checkpoint_pages = 1'000'000;
  auto db = database::open(o);
  ASSERT_TRUE(db.has_value());
  for (int i = 0; i < 30; ++i) commit_events(**db, i * 100, 100);  // 3,000 events, ~12 MB
  EXPECT_GT(size_of(o.path + "-wal"), 1000U * 8192U);
  EXPECT_EQ((*db)->checkpoints().checkpoints, 0U);
}

TEST(BackgroundCheckpoint, CopiesTheWalIntoTheFileAndTheWalIsReused) {
  kazoo_bridge::test::temp_dir dir;
  options o;
  o.path = dir.file("kb.db");
  o.background_checkpoint_pages = 64;
  auto db = database::open(o);
  ASSERT_TRUE(db.has_value());
  const auto file_before = size_of(o.path);

  std::uintmax_t first_wal = 0;
  for (std::uint64_t round = 1; round <= 5; ++round) {
    // Each round fills the WAL past the threshold, then waits for that round's checkpoint. The
    // next round's first commit starts the WAL again from its beginning (nothing left to copy,
    // no reader), so the file does not grow round after round.
    commit_events(**db, static_cast<int>(round) * 1000, 200);  // ~100 pages
    ASSERT_TRUE((*db)->wait_for_checkpoints(round, 20s)) << "round " << round;
    if (round == 1) first_wal = size_of(o.path + "-wal");
    // Anything committed after the checkpoint request is picked up by the next request.
    ASSERT_GE((*db)->checkpoints().last_copied_pages, 64);
  }
  EXPECT_GT(size_of(o.path), file_before + 200U * 4000U);  // the rows reached the database file
  EXPECT_LE(size_of(o.path + "-wal"), first_wal + 16U * 8192U);
  EXPECT_EQ((*db)->checkpoints().failures, 0U);
  auto n = (*db)->count_events();
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 1000);
}

}  // namespace
}  // namespace kazoo_bridge::store
