#include "store/checkpointer.hpp"

#include <fmt/format.h>

#include <kazoo_bridge/store/error.hpp>

namespace kazoo_bridge::store::detail {

result<std::unique_ptr<checkpointer>> checkpointer::start(const std::string& path, int wal_pages,
                                                          std::string& reason) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  connection c(raw);
  if (rc != SQLITE_OK) {
    reason = fmt::format("cannot open a checkpoint connection to {}: {}", path,
                         raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return make_error_code(store_errc::cannot_open);
  }
  sqlite3_extended_result_codes(c.get(), 1);
  // This connection never writes rows; it must not run automatic checkpoints of its own either.
  sqlite3_wal_autocheckpoint(c.get(), 0);
  // A connection learns that the file is in WAL mode when it first reads it; until then
  // wal_checkpoint_v2() does nothing and reports -1 pages.
  std::string msg;
  if (auto ec = exec(c.get(), "SELECT count(*) FROM sqlite_schema", &msg)) {
    reason = fmt::format("cannot read {} for checkpoints: {}", path, msg);
    return ec;
  }
  return std::unique_ptr<checkpointer>(new checkpointer(std::move(c), wal_pages));
}

checkpointer::checkpointer(connection c, int wal_pages)
    : conn_(std::move(c)), wal_pages_(wal_pages), thread_([this] { loop(); }) {}

checkpointer::~checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void checkpointer::attach(sqlite3* writer) { sqlite3_wal_hook(writer, &checkpointer::on_wal_commit, this); }

int checkpointer::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* c = static_cast<checkpointer*>(self);
  if (pages >= c->wal_pages_) c->request();
  return SQLITE_OK;
}

void checkpointer::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

checkpointer::stats checkpointer::snapshot() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool checkpointer::wait_for(std::uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return done_.wait_for(lock, timeout, [&] { return stats_.checkpoints >= n; });
}

void checkpointer::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
    }
    int wal = 0;
    int copied = 0;
    // PASSIVE: copies what no reader still needs, never waits for the writer or readers. The
    // writer's next commit restarts the WAL once everything is copied.
    const int rc = sqlite3_wal_checkpoint_v2(conn_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied);
    {
      std::lock_guard lock(mutex_);
      if (rc == SQLITE_OK && wal >= 0) {
        ++stats_.checkpoints;
        stats_.last_wal_pages = wal;
        stats_.last_copied_pages = copied;
      } else {
        ++stats_.failures;
      }
    }
    done_.notify_all();
  }
}

}  // namespace kazoo_bridge::store::detail
