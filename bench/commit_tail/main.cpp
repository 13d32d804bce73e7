// commit_tail: send -> visible latency of the daemon's lifecycle events, read from outside.
//
// kazoo-sim in load mode stamps every CHANNEL_* event's msg_id with its real send time in Unix µs
// (tools/kazoo-sim/README.md, "Load mode"); the daemon copies that Kazoo object into the payload's
// `raw` of each lifecycle event it derives from it (design.md, "Lifecycle events"). This program
// opens the daemon's database read-only (WAL: readers never block the writer), polls call_events
// every --interval-us for rows with seq above the last one seen, and for each new row records
//   latency = (time the poll's read transaction started) - raw.msg_id.
// A row in the poll's snapshot was committed before the poll started, so this is an upper bound
// of send -> commit, too high by at most one interval plus the query time; the lower bound (the
// previous poll's start) is reported too. Rows without a msg_id (reconciliation, PARK_* events,
// tick-ended calls) are counted and skipped.
//
// Output: one JSON object on stdout (percentiles in ms); --samples FILE also writes
// "seq,msg_id_us,visible_us,prev_poll_us" lines.

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct options {
  std::string db, samples;
  double duration_s = 30;
  double skip_s = 0;  // ignore rows whose msg_id is earlier than start + skip_s (warm-up)
  long interval_us = 1000;
};

[[noreturn]] void die(const std::string& why) {
  std::cerr << "commit_tail: " << why << '\n';
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
    if (a == "--db") o.db = value();
    else if (a == "--duration") o.duration_s = std::stod(value());
    else if (a == "--skip") o.skip_s = std::stod(value());
    else if (a == "--interval-us") o.interval_us = std::stol(value());
    else if (a == "--samples") o.samples = value();
    else if (a == "--help") {
      std::cout << "commit_tail --db DAEMON.db [--duration S] [--skip S] [--interval-us US] [--samples FILE]\n";
      std::exit(0);
    } else {
      die("unknown argument " + std::string(a));
    }
  }
  if (o.db.empty()) die("--db is required");
  return o;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) ;
  i = std::clamp<std::size_t>(i, 1, sorted.size()) - 1;
  return static_cast<double>(sorted[i]) / 1000.0;  // µs -> ms
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  const std::int64_t start = now_us();
  const std::int64_t end = start + static_cast<std::int64_t>(o.duration_s * 1e6);
  const std::int64_t counted_from = start + static_cast<std::int64_t>(o.skip_s * 1e6);

  // The daemon creates the file and its tables at start-up: wait for them.
  sqlite3* db = nullptr;
  sqlite3_stmt* st = nullptr;
  while (now_us() < end) {
    if (db == nullptr && sqlite3_open_v2(o.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close_v2(db);
      db = nullptr;
    }
    if (db != nullptr &&
        sqlite3_prepare_v2(db,
                           "SELECT seq, CAST(json_extract(payload, '$.raw.msg_id') AS INTEGER) "
                           "FROM call_events WHERE seq > ?1 ORDER BY seq",
                           -1, &st, nullptr) == SQLITE_OK) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (st == nullptr) die("call_events never appeared in " + o.db);
  sqlite3_busy_timeout(db, 100);

  std::ofstream samples;
  if (!o.samples.empty()) samples.open(o.samples);
  std::vector<std::int64_t> upper, lower;
  std::int64_t last_seq = 0, prev_poll = now_us();
  std::size_t rows = 0, without_msg_id = 0, warmup = 0, polls = 0, negative = 0;
  const double cpu0 = cpu_seconds();
  while (true) {
    const std::int64_t poll = now_us();
    if (poll >= end) break;
    ++polls;
    sqlite3_bind_int64(st, 1, last_seq);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      ++rows;
      last_seq = sqlite3_column_int64(st, 0);
      if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
        ++without_msg_id;
        continue;
      }
      const std::int64_t sent = sqlite3_column_int64(st, 1);
      if (sent < counted_from) {
        ++warmup;
        continue;
      }
      // The clocks are the same (one machine): a negative value would be a bug in the stamping.
      if (poll - sent < 0) ++negative;
      upper.push_back(poll - sent);
      lower.push_back(std::max<std::int64_t>(0, prev_poll - sent));
      if (samples) samples << last_seq << ',' << sent << ',' << poll << ',' << prev_poll << '\n';
    }
    sqlite3_reset(st);  // ends the read transaction: never hold back the daemon's checkpoints
    if (rc != SQLITE_DONE && rc != SQLITE_BUSY) die(std::string("query failed: ") + sqlite3_errmsg(db));
    prev_poll = poll;
    const std::int64_t next = poll + o.interval_us;
    const std::int64_t wait = next - now_us();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::microseconds(wait));
  }
  const double cpu = cpu_seconds() - cpu0;
  sqlite3_finalize(st);
  sqlite3_close_v2(db);

  std::sort(upper.begin(), upper.end());
  std::sort(lower.begin(), lower.end());
  const double secs = static_cast<double>(now_us() - counted_from) / 1e6;
  std::printf(
      "{\"rows\":%zu,\"measured\":%zu,\"without_msg_id\":%zu,\"warmup_rows\":%zu,\"negative\":%zu,"
      "\"polls\":%zu,\"interval_us\":%ld,\"window_s\":%.3f,\"cpu_seconds\":%.3f,"
      "\"upper_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},"
      "\"lower_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}}\n",
      rows, upper.size(), without_msg_id, warmup, negative, polls, o.interval_us, secs, cpu,
      percentile(upper, 0.5), percentile(upper, 0.9), percentile(upper, 0.99), percentile(upper, 0.999),
      percentile(upper, 1.0), percentile(lower, 0.5), percentile(lower, 0.9), percentile(lower, 0.99),
      percentile(lower, 0.999), percentile(lower, 1.0));
  return 0;
}
