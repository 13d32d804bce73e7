// sqlite_ceiling: how fast can SQLite alone write the rows the daemon wrote in a benchmark run?
//
// It reads the lifecycle events (and the final call rows) a daemon run stored, builds the same
// write mix in memory, and inserts it into a fresh database created from the project's own
// migration (migrations/0001_initial.sql), WAL + the given synchronous mode, in transactions of
// the daemon's mean size. Nothing but SQLite runs in the timed loop, so rows/s here is the
// ceiling the daemon's store throughput is compared with (bench/README.md).
//
// Modes (all use the daemon's exact SQL, store/database.cpp prepare_all()):
//   events     INSERT INTO call_events only: the bare lifecycle-event ceiling.
//   mix        what the daemon writes per channel event: one calls upsert for every channel event
//              (calls/engine.cpp on_channel() touches the call on each event, so finish() emits a
//              call record), the lifecycle events in between, one meta upsert per transaction.
//   store-mix  the same rows through store::database::commit() (the daemon's store code: batch
//              structs, binding with SQLITE_TRANSIENT, statement guards), one batch per channel
//              event as pipeline::emit() builds them, merged into transactions like the committer.
//
// Output: one JSON object on stdout.

#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/rows.hpp>

namespace {

namespace store = kazoo_bridge::store;

struct options {
  std::string source, schema, out;
  std::string mode = "mix";
  std::string synchronous = "normal";
  std::size_t batch = 100;           // lifecycle events per transaction
  double channel_per_event = 1.8;    // channel events (= calls upserts) per lifecycle event
  std::size_t min_events = 100000;   // repeat the source rows until at least this many
  // One calls upsert per `upsert_every` channel events: the daemon now writes one row per call per
  // pipeline batch, not one per channel event (1 = the old write mix). The meta upsert goes with it.
  std::size_t upsert_every = 1;
  std::vector<std::string> schema_files;  // --schema, repeatable: applied in order (raw modes)
  int page_size = 0;                      // raw modes: PRAGMA page_size before the schema (0 = default)
  int wal_autocheckpoint = -1;            // PRAGMA wal_autocheckpoint (-1 = SQLite's default, 1000)
  bool narrow_upsert = false;             // raw modes: the upsert SETs only the columns that change
};

[[noreturn]] void die(const std::string& why) {
  std::cerr << "sqlite_ceiling: " << why << '\n';
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + std::string(a));
      return argv[++i];
    };
    if (a == "--source") o.source = value();
    else if (a == "--schema") o.schema_files.push_back(o.schema = value());
    else if (a == "--out") o.out = value();
    else if (a == "--mode") o.mode = value();
    else if (a == "--synchronous") o.synchronous = value();
    else if (a == "--batch") o.batch = std::stoul(value());
    else if (a == "--channel-per-event") o.channel_per_event = std::stod(value());
    else if (a == "--min-events") o.min_events = std::stoul(value());
    else if (a == "--upsert-every") o.upsert_every = std::stoul(value());
    else if (a == "--page-size") o.page_size = std::stoi(value());
    else if (a == "--wal-autocheckpoint") o.wal_autocheckpoint = std::stoi(value());
    else if (a == "--narrow-upsert") o.narrow_upsert = true;
    else if (a == "--help") {
      std::cout << "sqlite_ceiling --source RUN.db --schema 0001_initial.sql --out NEW.db "
                   "[--mode events|mix|store-mix] [--batch N] [--channel-per-event R] "
                   "[--min-events N] [--synchronous normal|full] [--upsert-every N] [--page-size N] "
                   "[--wal-autocheckpoint N] [--narrow-upsert]\n"
                   "  --schema may be repeated (migrations applied in order); --upsert-every 4 models one "
                   "calls upsert per 4 channel events\n";
      std::exit(0);
    } else {
      die("unknown argument " + std::string(a));
    }
  }
  if (o.source.empty() || o.schema.empty() || o.out.empty()) die("--source, --schema and --out are required");
  if (o.mode != "events" && o.mode != "mix" && o.mode != "store-mix") die("unknown --mode " + o.mode);
  if (o.batch == 0) o.batch = 1;
  if (o.upsert_every == 0) o.upsert_every = 1;
  return o;
}

struct db_closer {
  void operator()(sqlite3* d) const noexcept { sqlite3_close_v2(d); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
struct stmt_closer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_closer>;

db_ptr open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ptr d(raw);
  if (rc != SQLITE_OK) die("cannot open " + path + ": " + sqlite3_errstr(rc));
  return d;
}

void exec(sqlite3* d, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(d, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    die("SQL failed: " + msg + " in: " + sql.substr(0, 80));
  }
}

stmt_ptr prepare(sqlite3* d, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(d, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                         nullptr) != SQLITE_OK) {
    die(std::string("prepare failed: ") + sqlite3_errmsg(d));
  }
  return stmt_ptr(raw);
}

std::string col_text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  if (!p) return {};
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i))};
}

std::optional<std::string> col_opt(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return col_text(s, i);
}

// The rows of the benchmark run, in commit order.
struct source_rows {
  std::vector<store::event_row> events;
  std::map<std::string, store::call_row> calls;
};

source_rows read_source(const std::string& path) {
  auto d = open_db(path, SQLITE_OPEN_READONLY);
  source_rows r;
  auto ev = prepare(d.get(),
                    "SELECT id, type, call_id, account_id, user_id, direction, occurred_at_ms, payload "
                    "FROM call_events ORDER BY seq");
  while (sqlite3_step(ev.get()) == SQLITE_ROW) {
    store::event_row e;
    e.id = col_text(ev.get(), 0);
    e.type = col_text(ev.get(), 1);
    e.call_id = col_text(ev.get(), 2);
    e.account_id = col_text(ev.get(), 3);
    e.user_id = col_opt(ev.get(), 4);
    e.direction = col_text(ev.get(), 5);
    e.occurred_at_ms = sqlite3_column_int64(ev.get(), 6);
    e.payload = col_text(ev.get(), 7);
    r.events.push_back(std::move(e));
  }
  auto ca = prepare(d.get(),
                    "SELECT call_id, account_id, status, direction, answered, user_id, started_at_ms, "
                    "updated_at_ms, ended_at_ms, snapshot, state FROM calls");
  while (sqlite3_step(ca.get()) == SQLITE_ROW) {
    store::call_row c;
    c.call_id = col_text(ca.get(), 0);
    c.account_id = col_text(ca.get(), 1);
    c.status = col_text(ca.get(), 2);
    c.direction = col_text(ca.get(), 3);
    c.answered = sqlite3_column_int64(ca.get(), 4) != 0;
    c.user_id = col_opt(ca.get(), 5);
    c.started_at_ms = sqlite3_column_int64(ca.get(), 6);
    c.updated_at_ms = sqlite3_column_int64(ca.get(), 7);
    if (sqlite3_column_type(ca.get(), 8) != SQLITE_NULL) c.ended_at_ms = sqlite3_column_int64(ca.get(), 8);
    c.snapshot = col_text(ca.get(), 9);
    c.state = col_text(ca.get(), 10);
    r.calls.emplace(c.call_id, std::move(c));
  }
  if (r.events.empty()) die("no call_events in " + path);
  return r;
}

// One unit of daemon work: a channel event, i.e. one call upsert and the lifecycle events it
// produced (zero or more). Built before the clock starts.
struct unit {
  std::vector<store::event_row> events;
  std::optional<store::call_row> call;
  bool meta = true;  // store-mix: this batch also upserts the meta row (one per pipeline batch)
};

std::vector<unit> build_units(const source_rows& src, const options& o, std::size_t& events_total) {
  std::vector<unit> units;
  events_total = 0;
  double acc = 0;
  std::size_t channel = 0;  // channel events that would upsert their call (for --upsert-every)
  const bool with_calls = o.mode != "events";
  // With --upsert-every N only every Nth channel event carries the upsert (and the batch's meta).
  auto attach = [&](unit& u, const store::call_row* call, const std::string& suffix) {
    if (channel++ % o.upsert_every != 0) {
      u.meta = o.upsert_every == 1;
      return;
    }
    u.call = *call;
    u.call->call_id += suffix;
  };
  for (std::size_t rep = 0; events_total < o.min_events; ++rep) {
    // Appended, not `"~" + to_string()`: GCC 12 -O2 reports a false -Wrestrict on that operator+.
    std::string suffix;
    if (rep > 0) suffix.append("~").append(std::to_string(rep));
    for (const auto& e : src.events) {
      store::event_row copy = e;
      copy.id += suffix;
      copy.call_id += suffix;
      const store::call_row* call = nullptr;
      if (auto it = src.calls.find(e.call_id); it != src.calls.end()) call = &it->second;
      // Channel events that produced no lifecycle event still upsert their call: spread
      // channel_per_event upserts over the lifecycle events of the run.
      acc += with_calls ? o.channel_per_event : 0.0;
      while (acc >= 2.0) {
        unit extra;
        if (call) attach(extra, call, suffix);
        units.push_back(std::move(extra));
        acc -= 1.0;
      }
      unit u;
      u.events.push_back(std::move(copy));
      if (with_calls && acc >= 1.0 && call) {
        attach(u, call, suffix);
        acc -= 1.0;
      }
      units.push_back(std::move(u));
      ++events_total;
    }
  }
  return units;
}

double tv_seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return tv_seconds(ru.ru_utime) + tv_seconds(ru.ru_stime);
}

// The kernel's share (write(), fsync, page cache): the part an instruction count does not see.
double sys_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return tv_seconds(ru.ru_stime);
}

// Bytes this process handed to write()/pwrite() (/proc/self/io wchar): the DB and WAL writes.
std::int64_t written_bytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  std::int64_t value = 0;
  while (in >> key >> value) {
    if (key == "wchar:") return value;
  }
  return 0;
}

std::int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

std::int64_t pragma_int(sqlite3* d, const char* sql) {
  auto st = prepare(d, sql);
  return sqlite3_step(st.get()) == SQLITE_ROW ? sqlite3_column_int64(st.get(), 0) : 0;
}

void remove_db(const std::string& path) {
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text64(s, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void bind_text_or_null(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
  if (v) bind_text(s, i, *v);
  else sqlite3_bind_null(s, i);
}

void step_done(sqlite3* d, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) die(std::string("step failed: ") + sqlite3_errmsg(d));
  sqlite3_reset(s);
}

// The raw loop: the daemon's statements, nothing else.
void run_raw(sqlite3* d, const std::vector<unit>& units, const options& o, std::size_t& commits) {
  auto ins_event = prepare(d,
                           "INSERT INTO call_events (id, type, call_id, account_id, user_id, direction, "
                           "occurred_at_ms, payload, call_num) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                           "coalesce((SELECT num FROM calls WHERE call_id = ?3), 0)) "
                           "ON CONFLICT (id) DO NOTHING");
  auto ups_call = prepare(
      d,
      std::string("INSERT INTO calls (call_id, account_id, status, direction, answered, user_id, started_at_ms, "
      "updated_at_ms, ended_at_ms, snapshot, state, num) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
      "(SELECT coalesce(max(num), 0) + 1 FROM calls WHERE num IS NOT NULL)) ") +
      (o.narrow_upsert
          // store/database.cpp since store-speed: only the columns a later state can change.
          ? "ON CONFLICT (call_id) DO UPDATE SET status = excluded.status, "
            "direction = excluded.direction, answered = excluded.answered, user_id = excluded.user_id, "
            "started_at_ms = excluded.started_at_ms, updated_at_ms = excluded.updated_at_ms, "
            "ended_at_ms = excluded.ended_at_ms, snapshot = excluded.snapshot, state = excluded.state"
          : "ON CONFLICT (call_id) DO UPDATE SET account_id = excluded.account_id, status = excluded.status, "
            "direction = excluded.direction, answered = excluded.answered, user_id = excluded.user_id, "
            "started_at_ms = excluded.started_at_ms, updated_at_ms = excluded.updated_at_ms, "
            "ended_at_ms = excluded.ended_at_ms, snapshot = excluded.snapshot, state = excluded.state"));
  auto ups_meta = prepare(d,
                          "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  auto begin = prepare(d, "BEGIN IMMEDIATE");
  auto commit = prepare(d, "COMMIT");
  std::size_t in_txn = 0;
  bool open = false;
  std::int64_t meta_value = 0;
  for (const auto& u : units) {
    if (!open) {
      step_done(d, begin.get());
      open = true;
    }
    // The call first, as the store writes it: its events take its number (migrations/0007).
    if (u.call) {
      const auto& c = *u.call;
      sqlite3_stmt* s = ups_call.get();
      bind_text(s, 1, c.call_id);
      bind_text(s, 2, c.account_id);
      bind_text(s, 3, c.status);
      bind_text(s, 4, c.direction);
      sqlite3_bind_int64(s, 5, c.answered ? 1 : 0);
      bind_text_or_null(s, 6, c.user_id);
      sqlite3_bind_int64(s, 7, c.started_at_ms);
      sqlite3_bind_int64(s, 8, c.updated_at_ms);
      if (c.ended_at_ms) sqlite3_bind_int64(s, 9, *c.ended_at_ms);
      else sqlite3_bind_null(s, 9);
      bind_text(s, 10, c.snapshot);
      bind_text(s, 11, c.state);
      step_done(d, s);
    }
    for (const auto& e : u.events) {
      sqlite3_stmt* s = ins_event.get();
      bind_text(s, 1, e.id);
      bind_text(s, 2, e.type);
      bind_text(s, 3, e.call_id);
      bind_text(s, 4, e.account_id);
      bind_text_or_null(s, 5, e.user_id);
      bind_text(s, 6, e.direction);
      sqlite3_bind_int64(s, 7, e.occurred_at_ms);
      bind_text(s, 8, e.payload);
      step_done(d, s);
      ++in_txn;
    }
    if (in_txn >= o.batch) {
      if (o.mode != "events") {
        const std::string v = std::to_string(++meta_value);
        bind_text(ups_meta.get(), 1, "kazoo.last_event_at_ms");
        bind_text(ups_meta.get(), 2, v);
        step_done(d, ups_meta.get());
      }
      step_done(d, commit.get());
      open = false;
      in_txn = 0;
      ++commits;
    }
  }
  if (open) {
    step_done(d, commit.get());
    ++commits;
  }
}

// The same rows through the daemon's store code: one batch per channel event (pipeline::emit),
// whole batches merged into transactions of about `batch` events (committer::group_size).
void run_store(store::database& db, std::vector<unit>& units, const options& o, std::size_t& commits) {
  std::vector<store::batch> batches;
  batches.reserve(units.size());
  std::int64_t meta_value = 0;
  for (auto& u : units) {
    store::batch b;
    b.events = std::move(u.events);
    if (u.call) b.calls.push_back(std::move(*u.call));
    if (u.meta) b.meta.emplace_back("kazoo.last_event_at_ms", std::to_string(++meta_value));
    batches.push_back(std::move(b));
  }
  std::size_t first = 0;
  while (first < batches.size()) {
    std::size_t n = 0, events = 0;
    while (first + n < batches.size() && events < o.batch) {
      events += batches[first + n].events.size();
      ++n;
    }
    auto r = db.commit(std::span<const store::batch>(batches.data() + first, n));
    if (!r) die("store commit failed: " + db.last_error());
    first += n;
    ++commits;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  const source_rows src = read_source(o.source);
  std::size_t events_total = 0;
  std::vector<unit> units = build_units(src, o, events_total);
  std::size_t calls_total = 0, payload_bytes = 0;
  for (const auto& u : units) {
    if (u.call) ++calls_total;
    for (const auto& e : u.events) payload_bytes += e.payload.size();
  }

  remove_db(o.out);
  std::size_t commits = 0;
  std::int64_t page_size = 0, db_bytes = 0, wal_bytes = 0;
  const std::int64_t wchar0 = written_bytes();
  double seconds = 0, cpu = 0, sys = 0;
  if (o.mode == "store-mix") {
    auto opened = store::database::open({.path = o.out, .synchronous = o.synchronous});
    if (!opened) die("store::database::open failed: " + opened.error().message());
    auto& db = **opened;
    {
      // A second connection only reads the page size; wal_autocheckpoint is per connection and
      // cannot be set on the store's own one from here.
      auto peek = open_db(o.out, SQLITE_OPEN_READONLY);
      page_size = pragma_int(peek.get(), "PRAGMA page_size");
    }
    const double c0 = cpu_seconds(), s0 = sys_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    run_store(db, units, o, commits);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu = cpu_seconds() - c0;
    sys = sys_seconds() - s0;
    db_bytes = file_size(o.out);
    wal_bytes = file_size(o.out + "-wal");
  } else {
    auto d = open_db(o.out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    // The daemon's connection settings (store/database.cpp open()).
    // page_size only takes effect on a file with no page yet: before journal_mode = WAL writes
    // page 1 (as store/database.cpp open() does).
    if (o.page_size > 0) exec(d.get(), "PRAGMA page_size = " + std::to_string(o.page_size));
    exec(d.get(), "PRAGMA journal_mode = WAL");
    exec(d.get(), "PRAGMA synchronous = " + o.synchronous + "; PRAGMA foreign_keys = ON;");
    if (o.wal_autocheckpoint >= 0) {
      exec(d.get(), "PRAGMA wal_autocheckpoint = " + std::to_string(o.wal_autocheckpoint));
    }
    int version = 0;
    for (const auto& f : o.schema_files) {
      exec(d.get(), "BEGIN IMMEDIATE; " + read_file(f) + "; PRAGMA user_version = " +
                        std::to_string(++version) + "; COMMIT;");
    }
    page_size = pragma_int(d.get(), "PRAGMA page_size");
    const double c0 = cpu_seconds(), s0 = sys_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    run_raw(d.get(), units, o, commits);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu = cpu_seconds() - c0;
    sys = sys_seconds() - s0;
    db_bytes = file_size(o.out);
    wal_bytes = file_size(o.out + "-wal");
  }
  const std::int64_t wchar = written_bytes() - wchar0;
  remove_db(o.out);

  const double ev = static_cast<double>(events_total);
  std::printf(
      "{\"mode\":\"%s\",\"synchronous\":\"%s\",\"batch_events\":%zu,\"events\":%zu,\"calls_upserts\":%zu,"
      "\"commits\":%zu,\"seconds\":%.4f,\"cpu_seconds\":%.4f,\"events_per_s\":%.1f,"
      "\"channel_events_per_s\":%.1f,\"mean_payload_bytes\":%.1f,\"source_events\":%zu,"
      "\"cpu_us_per_event\":%.1f,\"sys_us_per_event\":%.1f,\"page_size\":%lld,\"upsert_every\":%zu,\"written_bytes\":%lld,"
      "\"written_bytes_per_event\":%.0f,\"db_bytes\":%lld,\"wal_bytes\":%lld}\n",
      o.mode.c_str(), o.synchronous.c_str(), o.batch, events_total, calls_total, commits, seconds, cpu,
      ev / seconds, o.mode == "events" ? 0.0 : static_cast<double>(units.size()) / seconds,
      static_cast<double>(payload_bytes) / ev, src.events.size(), cpu * 1e6 / ev, sys * 1e6 / ev,
      static_cast<long long>(page_size), o.upsert_every, static_cast<long long>(wchar),
      static_cast<double>(wchar) / ev, static_cast<long long>(db_bytes), static_cast<long long>(wal_bytes));
  return 0;
}
