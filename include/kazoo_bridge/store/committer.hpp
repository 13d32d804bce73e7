#pragma once
/// Group commit: producers on the I/O thread enqueue batches without waiting; one task merges
/// everything pending into one SQLite transaction on the DB thread.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <vector>
#include <memory>
#include <optional>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/rows.hpp>

namespace kazoo_bridge::store {

struct committer_options {
  /// How long the first pending batch waits for others to join its transaction. With a commit in
  /// flight, a batch waits at most that commit + max_delay before its own commit starts. A batch that
  /// comes alone, at least max_delay after the one before it, does not wait: at a trickle nothing
  /// would join it (like PostgreSQL's commit_delay, which waits only when other transactions are busy).
  std::chrono::milliseconds max_delay{2};
  /// A transaction takes whole batches until it holds at least this many events (a batch is never
  /// split: the lifecycle events of one batch are committed atomically).
  std::size_t max_batch_events = 2000;
  /// wait_for_capacity() suspends producers while more events than this are queued.
  std::size_t max_pending_events = 20000;
  /// Backoff between attempts of a commit that failed for a reason that may go away
  /// (SQLITE_BUSY/FULL/IOERR...): doubles from initial to max.
  std::chrono::milliseconds retry_initial{50};
  std::chrono::milliseconds retry_max{5000};
  /// After stop(), how long run() keeps retrying a failing commit before it gives up and returns
  /// (logging how many events were not stored).
  std::chrono::milliseconds drain_timeout{10000};
};

/// Group commit of batches into the database.
///
/// Thread: I/O thread (the `io` executor) for every member; the database is only touched on
/// `db_thread`, one commit at a time, through offload().
/// Lifetime: `db`, `db_thread` and `metrics` outlive it; call stop(), then await run() before
/// destroying it.
/// Cancellation: stop() (or a cancellation emitted on run()'s slot, treated the same) makes run()
/// commit everything still pending without waiting for max_delay, then return; producers suspended
/// in wait_for_capacity() are released.
/// Errors: none are returned. A commit failing with a transient error (BUSY, FULL, IOERR...) is
/// logged once at error level, counted, and retried with backoff, its batches kept in order; the
/// queue keeps growing until back-pressure. A batch SQLite refuses (constraint, type: is_data_error)
/// is isolated from the others in its transaction, logged at error level with its event ids,
/// counted in kazoo_bridge_store_rejected_events_total, and dropped, so it cannot block the rest.
class committer {
 public:
  committer(asio::any_io_executor io, asio::thread_pool& db_thread, database& db, committer_options o,
            metrics_registry& metrics, std::shared_ptr<spdlog::logger> log);
  committer(const committer&) = delete;
  committer& operator=(const committer&) = delete;

  /// Queues a batch for the next transaction; never waits. Batches are committed in enqueue order.
  void enqueue(batch b);
  /// Returns at once while at most max_pending_events are queued; otherwise suspends until commits
  /// bring the queue back under the limit (or stop()).
  awaitable<void> wait_for_capacity();
  /// The commit loop, until stop(); then commits what is pending and returns.
  awaitable<void> run();
  void stop();
  /// Events enqueued and not yet committed (including the transaction in flight).
  std::size_t pending_events() const { return pending_events_; }

  /// Called on the I/O thread after each successful transaction (e.g. to wake delivery).
  std::function<void(const commit_stats&)> on_committed;
  /// Optional. Asked on the I/O thread just before each transaction is handed to the DB thread; the
  /// step it returns (if not empty) runs there inside that transaction, after its rows are written
  /// (database::commit's `in_transaction`). The delivery engine claims the outbox rows being queued
  /// this way (engine::claim_step()), so they leave as soon as they are committed.
  std::function<commit_step()> in_transaction;

 private:
  struct queued {
    batch b;
    std::chrono::steady_clock::time_point at;  // when enqueue() received it, for max_delay
    bool after_quiet = false;  // the first batch, or max_delay or more after the previous one
  };
  enum class waiting { no, idle, gathering, backoff };  // what run() is waiting for, if anything

  std::size_t group_size() const;
  awaitable<bool> commit_group(std::size_t n);  // false: failed, the batches are back in front
  awaitable<void> wait_until(waiting why, std::chrono::steady_clock::time_point until);
  void release_producers();

  asio::any_io_executor io_;
  asio::thread_pool& db_thread_;
  database& db_;
  committer_options opts_;
  std::shared_ptr<spdlog::logger> log_;

  std::deque<queued> queue_;  // enqueue order; the transaction in flight has taken its front
  std::vector<batch> inflight_;  // the transaction on the DB thread (back in queue_ if it fails)
  std::string inflight_error_;   // SQLite's message when it failed, written on the DB thread
  commit_step inflight_step_;  // in_transaction()'s step for that transaction
  std::size_t pending_events_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_enqueue_;
  std::size_t isolate_ = 0;    // after a refused transaction: commit this many batches one by one
  std::size_t fail_streak_ = 0;
  std::chrono::milliseconds backoff_{0};
  std::optional<std::chrono::steady_clock::time_point> retry_at_;  // after a transient failure
  waiting waiting_ = waiting::no;
  bool stopping_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  asio::steady_timer wake_;      // run() waits on it; enqueue()/stop() cancel it
  asio::steady_timer capacity_;  // producers wait on it; cancelled when the queue shrinks

  histogram& latency_;
  counter& commits_;
  histogram& batch_events_;
  gauge& pending_gauge_;
  counter& errors_;
  counter& rejected_;
};

}  // namespace kazoo_bridge::store
