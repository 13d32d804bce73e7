#pragma once
// WAL checkpoints on a thread of their own, so the committing thread never copies pages into the
// database file or waits for fsync. Private to the store module (database::impl owns one).
//
// Why: with synchronous=NORMAL a WAL commit is a write() without fsync, but SQLite's automatic
// checkpoint (every 1,000 WAL pages) runs inside the COMMIT that crossed the threshold: it copies
// up to 8 MB into the database file and fsyncs both files, and every event queued behind that
// commit waits for it (the tail of send -> commit latency, bench/README.md). A PASSIVE checkpoint
// on another connection runs beside the writer and the readers (sqlite.org/wal.html
// "Checkpointing", sqlite.org/c3ref/wal_checkpoint_v2.html); the writer only restarts the WAL
// from the beginning once a checkpoint has copied everything and no reader still needs it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite.hpp"

namespace kazoo_bridge::store::detail {

/// Thread: request() from the writer's thread (the wal hook); everything else on the owner's
/// thread. Lifetime: destroy it before the writer connection (the destructor joins its thread).
/// Errors: a failed checkpoint (SQLITE_BUSY from a concurrent one, I/O) is counted and retried at
/// the next request; the writer is never affected, the WAL only grows until one succeeds.
class checkpointer {
 public:
  /// Opens its own connection to `path` (the database must exist, in WAL mode) and starts the
  /// thread. `wal_pages`: the WAL size that triggers a checkpoint.
  static result<std::unique_ptr<checkpointer>> start(const std::string& path, int wal_pages,
                                                     std::string& reason);
  ~checkpointer();
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  /// Installs the wal hook on the writer connection (replacing SQLite's automatic checkpoints):
  /// after each commit that leaves at least wal_pages in the WAL, the thread is woken.
  void attach(sqlite3* writer);

  /// Wakes the thread (cheap; several requests before it runs make one checkpoint).
  void request();

  struct stats {
    std::uint64_t checkpoints = 0;  ///< completed PASSIVE checkpoints
    std::uint64_t failures = 0;
    std::int64_t last_wal_pages = 0;  ///< WAL size the last checkpoint saw
    std::int64_t last_copied_pages = 0;
  };
  stats snapshot() const;
  /// Blocks until at least `n` checkpoints have completed or `timeout` passed; false on timeout.
  bool wait_for(std::uint64_t n, std::chrono::milliseconds timeout) const;

 private:
  checkpointer(connection c, int wal_pages);
  void loop();
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);

  connection conn_;
  int wal_pages_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  mutable std::condition_variable done_;
  bool requested_ = false;
  bool stopping_ = false;
  stats stats_;
  std::thread thread_;  // last: started after every member above exists
};

}  // namespace kazoo_bridge::store::detail
