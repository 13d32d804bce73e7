#include <kazoo_bridge/store/database.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include <kazoo_bridge/common/time.hpp>

#include "store/checkpointer.hpp"
#include "store/migrations.hpp"
#include "store/call_columns.hpp"
#include "store/sqlite.hpp"

namespace kazoo_bridge::store {
namespace {

using detail::call_columns;
using detail::read_call;
using detail::statement;
namespace fs = std::filesystem;

constexpr std::string_view event_columns =
    "id, type, call_id, account_id, user_id, direction, occurred_at_ms, payload";

constexpr std::string_view outbox_columns =
    "id, event_id, destination, call_id, status, attempts, next_attempt_at_ms, last_error";

std::int64_t clamp_limit(std::size_t limit) {
  constexpr auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(limit, max));
}

event_row read_event(const statement::use& u) {
  event_row e;
  e.id = u.text(0);
  e.type = u.text(1);
  e.call_id = u.text(2);
  e.account_id = u.text(3);
  e.user_id = u.optional_text(4);
  e.direction = u.text(5);
  e.occurred_at_ms = u.int64(6);
  e.payload = u.text(7);
  return e;
}

outbox_entry read_outbox(const statement::use& u) {
  outbox_entry o;
  o.id = u.int64(0);
  o.event_id = u.text(1);
  o.destination = u.text(2);
  o.call_id = u.text(3);
  o.status = u.text(4);
  o.attempts = u.int64(5);
  o.next_attempt_at_ms = u.int64(6);
  o.last_error = u.optional_text(7);
  return o;
}

std::string_view json_or_empty_object(const std::string& s) {
  // Both branches string_view: `s.empty() ? "{}" : s` would make a temporary std::string.
  return s.empty() ? std::string_view("{}") : std::string_view(s);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

bool is_memory(const std::string& path) { return path == ":memory:"; }

// The page size of a database file this build creates. 8 KB holds three 2.2 KB call_events rows
// per page instead of one: a 24% smaller file and, at 2,000 events per transaction (the load where
// the DB thread is the limit), 9% fewer instructions per event than 4 KB. The price: each randomly
// placed index leaf written per transaction is 8 KB, so 22-38% more bytes go to the WAL, and small
// transactions cost about as much as before. 16 KB doubled the bytes written. Figures:
// bench/README.md, "store-speed".
constexpr int new_database_page_size = 8192;

// Checks what SQLite would only report as "unable to open database file", so that an operator
// reads which directory is missing or unwritable. WAL also creates <db>-wal and <db>-shm beside the
// file, so the directory must be writable even when the file already exists.
error_code check_location(const std::string& path, std::string& reason) {
  std::error_code fec;
  fs::path file = fs::absolute(fs::path(path), fec);
  if (fec) file = fs::path(path);
  fs::path dir = file.parent_path();
  auto fail = [&](std::string why) {
    reason = fmt::format("cannot open database {}: {}", path, why);
    return make_error_code(store_errc::cannot_open);
  };
  auto st = fs::status(dir, fec);
  if (!fs::exists(st)) return fail(fmt::format("directory {} does not exist", dir.string()));
  if (!fs::is_directory(st)) return fail(fmt::format("{} is not a directory", dir.string()));
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    int e = errno;
    return fail(fmt::format("directory {} is not writable ({})", dir.string(), std::strerror(e)));
  }
  auto fst = fs::status(file, fec);
  if (fs::exists(fst)) {
    if (fs::is_directory(fst)) return fail("it is a directory");
    if (::access(file.c_str(), R_OK | W_OK) != 0) {
      int e = errno;
      return fail(fmt::format("the file is not readable and writable ({})", std::strerror(e)));
    }
  }
  return {};
}

}  // namespace

struct database::impl {
  options opts;
  detail::connection db;
  int version = 0;
  std::string last_error;

  statement insert_event, insert_outbox, upsert_call, correct_started, upsert_meta, insert_party;
  statement recent_calls, open_calls, find_call, get_meta, count_events, count_outbox, due_outbox;
  statement synchronous, journal_mode;
  // events(): one statement per combination of filters (call_id, type, account_id), prepared on
  // first use, so each query can use the matching index instead of `? IS NULL OR col = ?`.
  std::array<statement, 8> events_by_filter;
  std::unordered_map<std::string_view, const call_row*> newest_call;  // commit_in_transaction()
  std::unordered_set<std::string_view> duplicate_events;              // commit_in_transaction(), per batch
  // After `db`: destroyed (its thread joined) before the writer connection closes.
  std::unique_ptr<detail::checkpointer> checkpointer;

  // Records SQLite's message for the last failure and returns the error, for `return fail(ec);`.
  error_code fail(error_code ec) {
    last_error = sqlite3_errmsg(db.get());
    return ec;
  }

  error_code prepare_all(std::string& reason);
  error_code migrate(std::string& reason);
  result<std::int64_t> count_foreign_key_violations();
  result<commit_stats> commit_in_transaction(std::span<const batch> batches);
  result<std::vector<call_row>> calls_of(statement& st, std::optional<std::int64_t> limit);
  result<std::string> pragma_text(statement& st);
};

error_code database::impl::prepare_all(std::string& reason) {
  struct spec {
    statement* st;
    std::string sql;
  };
  std::array<spec, 15> specs{{
      // call_num: the number of the event's call (upserted before the events of a transaction), so the
      // per-call index grows at its end (migrations/0007_call_numbers.sql); 0 for a call stored
      // before that migration, whose events stay in call_events_call by Call-ID.
      {&insert_event,
       fmt::format("INSERT INTO call_events ({}, call_num) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                   "coalesce((SELECT num FROM calls WHERE call_id = ?3), 0)) "
                   "ON CONFLICT (id) DO NOTHING",
                   event_columns)},
      {&insert_outbox,
       "INSERT INTO outbox (event_id, destination, call_id, next_attempt_at_ms, created_at_ms, "
       "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (event_id, destination) DO NOTHING"},
      // SQLite rewrites an index entry on UPDATE whenever one of its columns is in the SET list,
      // changed or not. account_id never changes for a call (a call never moves between accounts),
      // so it is not SET; started_at_ms (in calls_started and calls_account_started) only changes
      // when the tracker corrects it, which correct_started below does on its own. Status must
      // stay: it is what moves a call in and out of the partial index calls_open.
      // A new call's number is the largest so far + 1 (calls_num); an existing call keeps its own.
      {&upsert_call,
       fmt::format("INSERT INTO calls ({}, num) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                   "(SELECT coalesce(max(num), 0) + 1 FROM calls WHERE num IS NOT NULL)) "
                   "ON CONFLICT (call_id) DO UPDATE SET "
                   "status = excluded.status, direction = excluded.direction, "
                   "answered = excluded.answered, user_id = excluded.user_id, "
                   "updated_at_ms = excluded.updated_at_ms, "
                   "ended_at_ms = excluded.ended_at_ms, snapshot = excluded.snapshot, "
                   "state = excluded.state",
                   call_columns)},
      // Changes no row (and so touches no index) unless the start time was corrected.
      {&correct_started,
       "UPDATE calls SET started_at_ms = ?2 WHERE call_id = ?1 AND started_at_ms <> ?2"},
      {&upsert_meta,
       "INSERT INTO meta (key, value) VALUES (?1, ?2) "
       "ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
      // A pair already stored is a primary-key lookup without a write (WITHOUT ROWID: the table
      // is its key, migrations/0003_call_parties.sql).
      {&insert_party,
       "INSERT INTO call_parties (call_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING"},
      {&recent_calls,
       fmt::format("SELECT {} FROM calls ORDER BY started_at_ms DESC, rowid DESC LIMIT ?1",
                   call_columns)},
      {&open_calls, fmt::format("SELECT {} FROM calls WHERE status <> 'ended' "
                                "ORDER BY started_at_ms, rowid",
                                call_columns)},
      {&find_call, fmt::format("SELECT {} FROM calls WHERE call_id = ?1", call_columns)},
      {&get_meta, "SELECT value FROM meta WHERE key = ?1"},
      {&count_events, "SELECT count(*) FROM call_events"},
      {&count_outbox, "SELECT count(*) FROM outbox"},
      {&due_outbox, fmt::format("SELECT {} FROM outbox WHERE status = 'pending' AND "
                                "next_attempt_at_ms <= ?1 ORDER BY next_attempt_at_ms, id LIMIT ?2",
                                outbox_columns)},
      {&synchronous, "PRAGMA synchronous"},
      {&journal_mode, "PRAGMA journal_mode"},
  }};
  for (auto& s : specs) {
    std::string msg;
    *s.st = statement(db.get(), s.sql, &msg);
    if (!s.st->valid()) {
      reason = fmt::format("cannot prepare a statement on {}: {}", opts.path, msg);
      last_error = msg;
      return s.st->prepare_error();
    }
  }
  return {};
}

result<std::int64_t> database::impl::count_foreign_key_violations() {
  statement st(db.get(), "PRAGMA foreign_key_check");
  if (!st.valid()) return st.prepare_error();
  statement::use u(st);
  std::int64_t n = 0;
  while (true) {
    auto row = u.step();
    if (!row) return row.error();
    if (!*row) return n;
    ++n;
  }
}

error_code database::impl::migrate(std::string& reason) {
  auto read_version = [this]() -> result<int> {
    statement st(db.get(), "PRAGMA user_version");
    if (!st.valid()) return st.prepare_error();
    statement::use u(st);
    auto row = u.step();
    if (!row) return row.error();
    return static_cast<int>(u.int64(0));
  };

  auto v = read_version();
  if (!v) {
    reason = fmt::format("cannot read the schema version of {}: {}", opts.path,
                         sqlite3_errmsg(db.get()));
    return v.error();
  }
  const int latest = latest_schema_version();
  if (*v > latest) {
    reason = fmt::format(
        "database {} has schema version {}, newer than this kazoo-bridge supports ({}); it was "
        "written by a newer release: upgrade kazoo-bridge or point [storage] database elsewhere",
        opts.path, *v, latest);
    version = *v;
    return make_error_code(store_errc::schema_too_new);
  }

  // Rebuilding a table (0002) needs foreign keys off, as sqlite.org/lang_altertable.html says:
  // with them on, DROP TABLE call_events would delete the outbox rows (ON DELETE CASCADE). The
  // pragma is a no-op inside a transaction, so it is switched here, and back on for good after.
  // foreign_key_check before each COMMIT still refuses a migration that breaks a reference.
  struct foreign_keys_on_again {
    explicit foreign_keys_on_again(sqlite3* d) : db(d) {}
    foreign_keys_on_again(const foreign_keys_on_again&) = delete;
    foreign_keys_on_again& operator=(const foreign_keys_on_again&) = delete;
    ~foreign_keys_on_again() { detail::exec(db, "PRAGMA foreign_keys = ON"); }
    sqlite3* db;
  };
  std::optional<foreign_keys_on_again> restore;
  for (const auto& m : detail::embedded_migrations()) {
    if (m.version <= *v) continue;
    std::string msg;
    if (!restore) {
      if (auto ec = detail::exec(db.get(), "PRAGMA foreign_keys = OFF", &msg)) {
        reason = fmt::format("cannot prepare {} for migration: {}", opts.path, msg);
        last_error = msg;
        return ec;
      }
      restore.emplace(db.get());
    }
    // BEGIN IMMEDIATE takes the write lock first (and honours busy_timeout), so two processes
    // starting together cannot both apply the same migration: the second re-reads the version.
    if (auto ec = detail::exec(db.get(), "BEGIN IMMEDIATE", &msg)) {
      reason = fmt::format("cannot lock {} to migrate it: {}", opts.path, msg);
      last_error = msg;
      return ec;
    }
    auto now = read_version();
    if (now && *now >= m.version) {
      detail::exec(db.get(), "ROLLBACK");
      *v = *now;
      continue;
    }
    std::string sql(m.sql);
    sql += fmt::format(";\nPRAGMA user_version = {};", m.version);
    if (auto ec = detail::exec(db.get(), sql.c_str(), &msg)) {
      detail::exec(db.get(), "ROLLBACK");
      reason = fmt::format("migration {} failed on {}: {}", m.name, opts.path, msg);
      last_error = msg;
      return make_error_code(store_errc::migration_failed);
    }
    if (auto broken = count_foreign_key_violations(); !broken || *broken != 0) {
      detail::exec(db.get(), "ROLLBACK");
      msg = broken ? fmt::format("{} rows violate a foreign key", *broken) : sqlite3_errmsg(db.get());
      reason = fmt::format("migration {} failed on {}: {}", m.name, opts.path, msg);
      last_error = msg;
      return make_error_code(store_errc::migration_failed);
    }
    if (auto ec = detail::exec(db.get(), "COMMIT", &msg)) {
      detail::exec(db.get(), "ROLLBACK");
      reason = fmt::format("migration {} failed to commit on {}: {}", m.name, opts.path, msg);
      last_error = msg;
      return ec;
    }
    *v = m.version;
  }
  version = *v;
  return {};
}

result<std::unique_ptr<database>> database::open(options o) {
  std::string ignored;
  return open(std::move(o), ignored);
}

result<std::unique_ptr<database>> database::open(options o, std::string& reason) {
  auto p = std::make_unique<impl>();
  const std::string sync = lower(o.synchronous);
  if (sync != "normal" && sync != "full") {
    reason = fmt::format("storage.synchronous must be \"normal\" or \"full\", not \"{}\"", o.synchronous);
    return make_error_code(store_errc::bad_option);
  }
  if (o.path.empty()) {
    reason = "storage.database is empty";
    return make_error_code(store_errc::bad_option);
  }
  const bool memory = is_memory(o.path);
  if (!memory) {
    if (auto ec = check_location(o.path, reason)) return ec;
  }

  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(o.path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  p->db.reset(raw);  // even on failure SQLite may return a handle that must be closed
  p->opts = std::move(o);
  if (rc != SQLITE_OK) {
    reason = fmt::format("cannot open database {}: {}", p->opts.path,
                         raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return make_error_code(store_errc::cannot_open);
  }
  sqlite3* db = p->db.get();
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(std::clamp<std::int64_t>(
                               p->opts.busy_timeout.count(), 0, std::numeric_limits<int>::max())));

  // The first statement reads the header: a file that is not SQLite fails here (SQLITE_NOTADB).
  std::string msg;
  // A new file is created with larger pages: a call_events row is about 2.2 KB and a calls row
  // about 2 KB, so on 4 KB pages each took a page of its own and every insert wrote a whole
  // 4 KB page to the WAL (and again at checkpoint). The pragma only applies to a file with no
  // page yet, so it must come before journal_mode = WAL (which writes page 1); an existing
  // database keeps its page size (changing it would need a VACUUM).
  const std::string page_size = fmt::format("PRAGMA page_size = {}", new_database_page_size);
  if (auto ec = detail::exec(db, page_size.c_str(), &msg)) {
    reason = fmt::format("cannot open database {}: {}", p->opts.path, msg);
    return make_error_code(store_errc::cannot_open);
  }
  {
    statement wal(db, "PRAGMA journal_mode = WAL", &msg);
    if (!wal.valid()) {
      reason = fmt::format("cannot open database {}: {}", p->opts.path, msg);
      return make_error_code(store_errc::cannot_open);
    }
    statement::use u(wal);
    auto row = u.step();
    if (!row || !*row) {
      reason = fmt::format("cannot open database {}: {}", p->opts.path, sqlite3_errmsg(db));
      return make_error_code(store_errc::cannot_open);
    }
    // WAL lets readers (CLI, API) run beside the writer and makes group commit cheap
    // (reference/webhook-delivery.md §5.3); an in-memory database reports "memory" instead.
    const std::string mode = lower(u.text(0));
    if (mode != (memory ? "memory" : "wal")) {
      reason = fmt::format("cannot open database {}: SQLite refused WAL mode (journal_mode={})",
                           p->opts.path, mode);
      return make_error_code(store_errc::cannot_open);
    }
  }
  // NORMAL in WAL mode: no fsync per commit, durable across process crashes, may lose the last
  // commits on power loss; FULL fsyncs the WAL on every commit (sqlite.org/pragma.html#pragma_synchronous).
  std::string pragmas = fmt::format("PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;", sync);
  if (p->opts.cache_kib > 0) pragmas += fmt::format(" PRAGMA cache_size = -{};", p->opts.cache_kib);
  if (auto ec = detail::exec(db, pragmas.c_str(), &msg)) {
    reason = fmt::format("cannot configure database {}: {}", p->opts.path, msg);
    return ec;
  }
  if (auto ec = p->migrate(reason)) return ec;
  if (auto ec = p->prepare_all(reason)) return ec;
  if (p->opts.background_checkpoint_pages > 0 && !memory) {
    auto c = detail::checkpointer::start(p->opts.path, p->opts.background_checkpoint_pages, reason);
    if (!c) return c.error();
    p->checkpointer = std::move(*c);
    p->checkpointer->attach(db);
  }
  return std::unique_ptr<database>(new database(std::move(p)));
}

database::database(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
database::~database() = default;

::sqlite3* database::native_handle() const { return impl_->db.get(); }

int database::schema_version() const { return impl_->version; }

checkpoint_stats database::checkpoints() const {
  if (!impl_->checkpointer) return {};
  const auto s = impl_->checkpointer->snapshot();
  return {s.checkpoints, s.failures, s.last_wal_pages, s.last_copied_pages};
}

bool database::wait_for_checkpoints(std::uint64_t n, std::chrono::milliseconds timeout) const {
  return impl_->checkpointer && impl_->checkpointer->wait_for(n, timeout);
}

int database::latest_schema_version() {
  auto all = detail::embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

const std::string& database::last_error() const { return impl_->last_error; }
const std::string& database::path() const { return impl_->opts.path; }


result<commit_stats> database::commit(const batch& b) { return commit(std::span<const batch>(&b, 1)); }

result<commit_stats> database::commit(std::span<const batch> batches, const commit_step& in_transaction) {
  sqlite3* db = impl_->db.get();
  // IMMEDIATE takes the write lock up front, so busy_timeout applies to waiting for it; a
  // deferred transaction that upgrades later fails with SQLITE_BUSY at once instead.
  if (auto ec = detail::exec(db, "BEGIN IMMEDIATE", &impl_->last_error)) return ec;
  auto r = impl_->commit_in_transaction(batches);
  if (r && in_transaction) in_transaction(batches, *r);
  if (r) {
    if (auto ec = detail::exec(db, "COMMIT", &impl_->last_error)) r = ec;
  }
  // Some errors (SQLITE_FULL, IOERR) roll the transaction back by themselves; roll back only if
  // it is still open.
  if (!r && !sqlite3_get_autocommit(db)) detail::exec(db, "ROLLBACK");
  return r;
}

result<commit_stats> database::impl::commit_in_transaction(std::span<const batch> batches) {
  sqlite3* conn = db.get();
  // A merged transaction often holds many states of one call (one per Kazoo frame); only the last one
  // is written, the earlier ones would be overwritten inside this very transaction anyway.
  // A member, so its bucket array is reused from one transaction to the next.
  auto& newest = newest_call;
  newest.clear();
  for (const batch& b : batches) {
    for (const call_row& c : b.calls) newest[c.call_id] = &c;
  }
  commit_stats stats;
  const std::int64_t now = now_unix_ms();
  // Calls first: an event's row takes its call's number (insert_event), which a new call only has once
  // its row is in.
  for (const batch& b : batches) {
    for (const call_row& c : b.calls) {
      if (newest[c.call_id] != &c) continue;
      statement::use u(upsert_call);
      u.bind_static(1, c.call_id);
      u.bind_static(2, c.account_id);
      u.bind_static(3, c.status);
      u.bind_static(4, c.direction);
      u.bind(5, std::int64_t{c.answered ? 1 : 0});
      u.bind_static_opt(6, c.user_id);
      u.bind(7, c.started_at_ms);
      u.bind(8, c.updated_at_ms);
      u.bind_opt(9, c.ended_at_ms);
      u.bind_static(10, json_or_empty_object(c.snapshot));
      u.bind_static(11, json_or_empty_object(c.state));
      if (auto s = u.step(); !s) return fail(s.error());
      ++stats.calls_upserted;
      statement::use fix(correct_started);
      fix.bind_static(1, c.call_id);
      fix.bind(2, c.started_at_ms);
      if (auto s = fix.step(); !s) return fail(s.error());
    }
  }
  auto& duplicates = duplicate_events;
  for (const batch& b : batches) {
    ++stats.batches;
    duplicates.clear();
    for (const event_row& e : b.events) {
      statement::use u(insert_event);
      u.bind_static(1, e.id);
      u.bind_static(2, e.type);
      u.bind_static(3, e.call_id);
      u.bind_static(4, e.account_id);
      u.bind_static_opt(5, e.user_id);
      u.bind_static(6, e.direction);
      u.bind(7, e.occurred_at_ms);
      u.bind_static(8, e.payload);
      if (auto s = u.step(); !s) return fail(s.error());
      // ON CONFLICT (id) DO NOTHING changes no row for an id already stored: a duplicate.
      if (sqlite3_changes64(conn) > 0) {
        ++stats.events_inserted;
      } else {
        ++stats.events_duplicate;
        duplicates.insert(e.id);
      }
    }
    for (const outbox_row& o : b.outbox) {
      // A re-derived event (restart, reconnect) was queued when it was first stored: queueing it again
      // would deliver it twice once its first row has been pruned, or to hooks made since.
      if (!duplicates.empty() && duplicates.contains(o.event_id)) continue;
      statement::use u(insert_outbox);
      u.bind_static(1, o.event_id);
      u.bind_static(2, o.destination);
      u.bind_static(3, o.call_id);
      u.bind(4, o.next_attempt_at_ms);
      u.bind(5, now);
      if (auto s = u.step(); !s) return fail(s.error());
      if (sqlite3_changes64(conn) > 0) {
        ++stats.outbox_inserted;
        if (stats.first_outbox_id == 0) stats.first_outbox_id = sqlite3_last_insert_rowid(conn);
      }
    }
    for (const party_row& p : b.parties) {
      statement::use u(insert_party);
      u.bind_static(1, p.call_id);
      u.bind_static(2, p.user_id);
      if (auto s = u.step(); !s) return fail(s.error());
    }
    for (const auto& [key, value] : b.meta) {
      statement::use u(upsert_meta);
      u.bind_static(1, key);
      u.bind_static(2, value);
      if (auto s = u.step(); !s) return fail(s.error());
    }
  }
  return stats;
}

result<std::vector<call_row>> database::impl::calls_of(statement& st, std::optional<std::int64_t> limit) {
  std::vector<call_row> out;
  statement::use u(st);
  if (limit) u.bind(1, std::int64_t{*limit});
  while (true) {
    auto row = u.step();
    if (!row) return fail(row.error());
    if (!*row) break;
    out.push_back(read_call(u));
  }
  return out;
}

result<std::vector<call_row>> database::recent_calls(std::size_t limit) {
  return impl_->calls_of(impl_->recent_calls, clamp_limit(limit));
}

result<std::vector<call_row>> database::open_calls() {
  return impl_->calls_of(impl_->open_calls, std::nullopt);
}

result<std::optional<call_row>> database::find_call(const std::string& call_id) {
  statement::use u(impl_->find_call);
  u.bind(1, call_id);
  auto row = u.step();
  if (!row) return impl_->fail(row.error());
  if (!*row) return std::optional<call_row>{};
  return std::optional<call_row>{read_call(u)};
}

result<std::vector<event_row>> database::events(const event_query& q) {
  const unsigned mask = (q.call_id ? 1u : 0u) | (q.type ? 2u : 0u) | (q.account_id ? 4u : 0u);
  statement& st = impl_->events_by_filter[mask];
  if (!st.valid()) {
    std::string where;
    auto add = [&](std::string_view cond) {
      where += where.empty() ? " WHERE " : " AND ";
      where += cond;
    };
    if (q.call_id) add("call_id = ?2");
    if (q.type) add("type = ?3");
    if (q.account_id) add("account_id = ?4");
    const std::string from = q.call_id ? detail::events_of_call(fmt::format("seq, {}", event_columns), where, 2)
                                       : "call_events" + where;
    // The newest `limit` rows, then turned back to oldest first for printing/timelines.
    auto sql = fmt::format(
        "SELECT {0} FROM (SELECT seq, {0} FROM {1} ORDER BY occurred_at_ms DESC, seq DESC "
        "LIMIT ?1) ORDER BY occurred_at_ms, seq",
        event_columns, from);
    st = statement(impl_->db.get(), sql, &impl_->last_error);
    if (!st.valid()) return st.prepare_error();
  }
  std::vector<event_row> out;
  statement::use u(st);
  u.bind(1, clamp_limit(q.limit));
  if (q.call_id) u.bind(2, std::string_view(*q.call_id));
  if (q.type) u.bind(3, std::string_view(*q.type));
  if (q.account_id) u.bind(4, std::string_view(*q.account_id));
  while (true) {
    auto row = u.step();
    if (!row) return impl_->fail(row.error());
    if (!*row) break;
    out.push_back(read_event(u));
  }
  return out;
}

result<std::optional<std::string>> database::meta(const std::string& key) {
  statement::use u(impl_->get_meta);
  u.bind(1, key);
  auto row = u.step();
  if (!row) return impl_->fail(row.error());
  if (!*row) return std::optional<std::string>{};
  return std::optional<std::string>{u.text(0)};
}

namespace {
result<std::int64_t> count_with(statement& st) {
  statement::use u(st);
  auto row = u.step();
  if (!row) return row.error();
  return u.int64(0);
}
}  // namespace

result<std::int64_t> database::count_events() {
  auto r = count_with(impl_->count_events);
  if (!r) return impl_->fail(r.error());
  return r;
}

result<std::int64_t> database::count_outbox() {
  auto r = count_with(impl_->count_outbox);
  if (!r) return impl_->fail(r.error());
  return r;
}

result<std::vector<outbox_entry>> database::due_outbox(std::int64_t now_ms, std::size_t limit) {
  std::vector<outbox_entry> out;
  statement::use u(impl_->due_outbox);
  u.bind(1, now_ms);
  u.bind(2, clamp_limit(limit));
  while (true) {
    auto row = u.step();
    if (!row) return impl_->fail(row.error());
    if (!*row) break;
    out.push_back(read_outbox(u));
  }
  return out;
}

result<std::string> database::impl::pragma_text(statement& st) {
  statement::use u(st);
  auto row = u.step();
  if (!row) return fail(row.error());
  return u.text(0);
}

result<std::string> database::synchronous_mode() {
  auto r = impl_->pragma_text(impl_->synchronous);
  if (!r) return r;
  // PRAGMA synchronous reads back as a number (sqlite.org/pragma.html#pragma_synchronous).
  static constexpr std::array<std::string_view, 4> names{"off", "normal", "full", "extra"};
  const auto* begin = r->c_str();
  char* end = nullptr;
  long n = std::strtol(begin, &end, 10);
  if (end != begin && n >= 0 && n < static_cast<long>(names.size())) {
    return std::string(names[static_cast<std::size_t>(n)]);
  }
  return r;
}

result<std::int64_t> database::cache_size() {
  statement st(impl_->db.get(), "PRAGMA cache_size");
  auto r = impl_->pragma_text(st);
  if (!r) return r.error();
  return std::strtoll(r->c_str(), nullptr, 10);
}

result<std::string> database::journal_mode() {
  auto r = impl_->pragma_text(impl_->journal_mode);
  if (!r) return r;
  return lower(*r);
}

}  // namespace kazoo_bridge::store
