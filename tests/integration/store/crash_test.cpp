// A process that dies without stop() or closing the database: what was committed is there after
// a restart (WAL: transactions are durable across application crashes whatever `synchronous` is,
// sqlite.org/pragma.html#pragma_synchronous).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/store/committer.hpp>
#include <kazoo_bridge/store/database.hpp>

#include "../../unit/store/sample_rows.hpp"
#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store {
namespace {

namespace fs = std::filesystem;

// Runs in the forked child: commits `n` events through the committer, then dies at once (no
// stop(), no destructor, no sqlite3_close) as soon as the commit is reported.
[[noreturn]] void child_commit_then_crash(const std::string& path, int n, const std::string& sync) {
  auto db = database::open({.path = path, .synchronous = sync});
  if (!db) _exit(10);
  asio::io_context ioc;
  asio::thread_pool db_thread(1);
  metrics_registry metrics;
  kazoo_bridge::test::log_capture log("store");
  committer c(ioc.get_executor(), db_thread, **db, {.max_delay = std::chrono::milliseconds(1)}, metrics,
              log.logger());
  std::size_t stored = 0;
  c.on_committed = [&](const commit_stats& s) {
    stored += s.events_inserted;
    if (stored == static_cast<std::size_t>(n)) _exit(0);  // the crash
  };
  batch b;
  for (int i = 0; i < n; ++i) b.events.push_back(test::sample_event(fmt::format("evt_{}", i), "c1"));
  b.calls.push_back(test::sample_call("c1", "answered"));
  b.meta.push_back({"last_event_at", "42"});
  c.enqueue(std::move(b));
  asio::co_spawn(ioc, c.run(), [](std::exception_ptr) { _exit(11); });
  ioc.run_for(std::chrono::seconds(5));
  _exit(12);  // never committed
}

void crash_and_reopen(const std::string& sync) {
  kazoo_bridge::test::temp_dir dir;
  const auto path = dir.file("kb.db");
  constexpr int n = 25;
  pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) child_commit_then_crash(path, n, sync);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "child failed before committing";
  // The child never closed the database: its commits are still in the WAL, not checkpointed.
  EXPECT_TRUE(fs::exists(path + "-wal"));

  std::string reason;
  auto db = database::open({.path = path, .synchronous = sync}, reason);
  ASSERT_TRUE(db) << reason;
  EXPECT_EQ((*db)->count_events().value(), n);
  auto call = (*db)->find_call("c1").value();
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->status, "answered");
  EXPECT_EQ((*db)->meta("last_event_at").value(), "42");
}

TEST(Crash, CommittedRowsSurviveAProcessCrashWithSynchronousNormal) { crash_and_reopen("normal"); }

TEST(Crash, CommittedRowsSurviveAProcessCrashWithSynchronousFull) { crash_and_reopen("full"); }

}  // namespace
}  // namespace kazoo_bridge::store
