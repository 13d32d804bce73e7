#pragma once
/// The SQLite database of kazoo-bridge: opening (WAL, pragmas, embedded migrations), the atomic
/// commit of a batch, and the read queries of the CLI (the HTTP API's are in call_history.hpp).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/store/error.hpp>
#include <kazoo_bridge/store/rows.hpp>

struct sqlite3;

namespace kazoo_bridge::store {

class call_history;

/// A step of a commit's own transaction, run after its rows are written and before COMMIT: the
/// transaction's batches and what was written of them (database::commit, committer::in_transaction).
using commit_step = std::function<void(std::span<const batch>, const commit_stats&)>;

/// One SQLite connection in WAL mode.
///
/// Thread: confined to one thread at a time, in the daemon the DB thread (reach it with offload(),
/// as the committer does); it holds no lock of its own. Not copyable.
/// Lifetime: close by destroying it; committed transactions survive a crash without it (WAL).
/// Errors: sqlite_category() codes (SQLITE_BUSY after busy_timeout, CONSTRAINT for refused data,
/// FULL, IOERR...) and store_errc; last_error() holds SQLite's message for the last failure.
class database {
 public:
  /// Opens or creates the file (its directory must exist and be writable; a new file gets 8 KB
  /// pages, an existing one keeps its page size), switches to WAL, sets
  /// busy_timeout, synchronous and foreign_keys, then applies pending migrations, each in its own
  /// transaction. A file whose user_version is above latest_schema_version() is refused
  /// (store_errc::schema_too_new) and left untouched.
  static result<std::unique_ptr<database>> open(options o);
  /// The same, with a one-line operator-facing reason on failure (path, directory, versions).
  static result<std::unique_ptr<database>> open(options o, std::string& reason);

  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  /// BEGIN IMMEDIATE; insert events (an id already stored is a duplicate: ignored and counted, the
  /// stored row is not changed); insert outbox rows (ignored for an (event, destination) already
  /// queued, and for an event of this batch that was a duplicate: a re-derived event is never queued
  /// again, even after its first row was pruned); upsert calls (the last row given for a call wins; a stored call keeps the account_id
  /// it was first stored with, a call never moves between accounts); insert parties (a
  /// (call, user) pair already stored is ignored); upsert meta; COMMIT.
  /// The rows are bound without a copy: they must not change while commit() runs.
  /// All or nothing: on any error the transaction is rolled back and nothing is visible.
  result<commit_stats> commit(const batch& b);
  /// Several batches in one transaction, in order (group commit). All or nothing across them.
  /// `in_transaction`, when given, runs after the rows are written and before COMMIT, on this
  /// connection (the delivery engine claims the outbox rows just queued: committer::in_transaction).
  /// It must not fail the transaction (it keeps its own writes in a savepoint), and what it wrote
  /// is rolled back with everything else if COMMIT fails.
  result<commit_stats> commit(std::span<const batch> batches, const commit_step& in_transaction = {});

  /// The `limit` most recent calls, newest first (started_at).
  result<std::vector<call_row>> recent_calls(std::size_t limit);
  /// Every call whose status is not 'ended', oldest first (start-up restore).
  result<std::vector<call_row>> open_calls();
  result<std::optional<call_row>> find_call(const std::string& call_id);
  /// The LAST `q.limit` events matching every set filter, returned oldest first
  /// (by occurred_at, then insertion order).
  result<std::vector<event_row>> events(const event_query& q);
  result<std::optional<std::string>> meta(const std::string& key);
  result<std::int64_t> count_events();

  /// Pending outbox rows due at `now_ms` (next_attempt_at_ms <= now_ms), earliest first.
  result<std::vector<outbox_entry>> due_outbox(std::int64_t now_ms, std::size_t limit);
  result<std::int64_t> count_outbox();

  /// The connection's PRAGMA synchronous, read back: "off", "normal", "full" or "extra".
  result<std::string> synchronous_mode();
  /// The connection's PRAGMA journal_mode, read back: "wal" for a file, "memory" for ":memory:".
  result<std::string> journal_mode();
  /// The connection's PRAGMA cache_size, read back (negative: KiB, options::cache_kib).
  result<std::int64_t> cache_size();

  /// The background checkpointer's counters (all zero without options::background_checkpoint_pages).
  checkpoint_stats checkpoints() const;
  /// Blocks until `n` background checkpoints have completed or `timeout` passed (false). For tests
  /// and tools; false at once without a background checkpointer.
  bool wait_for_checkpoints(std::uint64_t n, std::chrono::milliseconds timeout) const;

  /// PRAGMA user_version after open(): the last migration applied.
  int schema_version() const;
  /// The newest migration embedded in this build.
  static int latest_schema_version();

  /// SQLite's message for the last failed call (e.g. "CHECK constraint failed: ..."); empty if none.
  const std::string& last_error() const;
  const std::string& path() const;

 private:
  // The store's other tables and read models live in their own files and share this connection.
  friend class call_history;  // call_history.hpp
  friend class oauth_store;   // oauth_store.hpp
  friend class hook_store;    // hook_store.hpp
  friend class outbox_store;  // outbox_store.hpp
  ::sqlite3* native_handle() const;
  struct impl;
  explicit database(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace kazoo_bridge::store
