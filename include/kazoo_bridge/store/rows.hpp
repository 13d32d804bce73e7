#pragma once
/// The rows the store persists. The store knows nothing of Kazoo or of the calls module: callers
/// hand it finished rows (JSON already rendered to text) and read the same shapes back.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kazoo_bridge::store {

/// How to open the database ([storage] in the config).
struct options {
  std::string path{};                  ///< file path; ":memory:" for a private in-memory database
  std::string synchronous = "normal";  ///< "normal" or "full" (PRAGMA synchronous, WAL mode)
  std::chrono::milliseconds busy_timeout{5000};  ///< how long a statement waits for another writer
  /// 0: SQLite's automatic checkpoints, run by the commit that fills the WAL to 1,000 pages.
  /// N > 0: checkpoints run on a thread of their own once the WAL holds N pages, so no commit
  /// waits for the copy into the database file and its fsync (the daemon; not the CLI).
  int background_checkpoint_pages = 0;
  /// SQLite's page cache for this connection, KiB (PRAGMA cache_size = -N); 0: SQLite's default (2 MB).
  /// REST hook delivery touches one attempt-log page per hook and the pending outbox's indexes in
  /// every transaction; with 1,000 hooks that is more than 2 MB, and a smaller cache re-reads
  /// (and spills) pages inside each transaction (bench/README.md, REST hook delivery).
  int cache_kib = 0;
};

/// What the background checkpointer has done (database::checkpoints()).
struct checkpoint_stats {
  std::uint64_t checkpoints = 0;      ///< completed checkpoints
  std::uint64_t failures = 0;         ///< failed attempts (retried at the next commit)
  std::int64_t last_wal_pages = 0;    ///< WAL pages seen by the last checkpoint
  std::int64_t last_copied_pages = 0; ///< of which copied into the database file
};

/// One lifecycle event (table call_events).
struct event_row {
  std::string id{};  ///< deterministic: the same event re-derived after a restart has the same id
  std::string type{}, call_id{}, account_id{};
  std::int64_t occurred_at_ms = 0;
  /// JSON text exactly as a hook receives it. Must be valid JSON: the caller's serializer
  /// guarantees it, the store does not parse it (schema 2 dropped the json_valid CHECKs).
  std::string payload{};
  std::optional<std::string> user_id{};
  std::string direction{};
};

/// The current state of one call (table calls).
struct call_row {
  std::string call_id{}, account_id{};
  std::string status{};  ///< ringing|answered|parked|queued|ended (enforced by the schema)
  std::string direction{};
  bool answered = false;
  std::optional<std::string> user_id{};
  std::int64_t started_at_ms = 0, updated_at_ms = 0;
  std::optional<std::int64_t> ended_at_ms{};
  std::string snapshot{};  ///< JSON object text (not parsed by the store); empty is stored as "{}"
  std::string state{};     ///< JSON object text (not parsed by the store); empty is stored as "{}"
};

/// A delivery to queue for an event (table outbox), committed with the event itself. The event must
/// be in the same batch or already stored (foreign key), otherwise the batch is refused.
struct outbox_row {
  std::string event_id{};
  std::string destination{};  ///< e.g. "hook:<id>", "salesforce", "kommo"
  std::string call_id{};    ///< ordering key: per destination, one call's rows go in order
  std::int64_t next_attempt_at_ms = 0;
};

/// A stored outbox row, as the delivery loop sees it.
struct outbox_entry {
  std::int64_t id = 0;
  std::string event_id{}, destination{}, call_id{}, status{};
  std::int64_t attempts = 0, next_attempt_at_ms = 0;
  std::optional<std::string> last_error{};
};

/// A user who takes part in a call (table call_parties): the caller, a user rung, the answering
/// agent, a transfer target. A pair already stored is ignored.
struct party_row {
  std::string call_id{}, user_id{};
};

/// What one commit writes, all or nothing.
struct batch {
  std::vector<event_row> events{};
  std::vector<call_row> calls{};
  std::vector<std::pair<std::string, std::string>> meta{};  ///< key/value upserts, e.g. last_event_at
  std::vector<outbox_row> outbox{};                       ///< deliveries of these (or stored) events
  std::vector<party_row> parties{};                       ///< users seen on calls (duplicates ignored)
};

struct commit_stats {
  std::size_t events_inserted = 0, events_duplicate = 0, calls_upserted = 0;
  std::size_t outbox_inserted = 0;  ///< a row for a duplicate (event, destination) is not inserted
  std::size_t batches = 0;          ///< how many batches this transaction held
  /// The id of the first outbox row this transaction inserted (0: none). A new row's id is above every
  /// id in the table, so this transaction's rows are the ids from here on (committer::in_transaction).
  std::int64_t first_outbox_id = 0;

  commit_stats& operator+=(const commit_stats& o) {
    events_inserted += o.events_inserted;
    events_duplicate += o.events_duplicate;
    calls_upserted += o.calls_upserted;
    outbox_inserted += o.outbox_inserted;
    batches += o.batches;
    if (first_outbox_id == 0 || (o.first_outbox_id != 0 && o.first_outbox_id < first_outbox_id)) {
      first_outbox_id = o.first_outbox_id;
    }
    return *this;
  }
};

/// Filters of database::events(); unset members match everything.
struct event_query {
  std::optional<std::string> call_id{}, type{}, account_id{};
  std::size_t limit = 100;
};

}  // namespace kazoo_bridge::store
