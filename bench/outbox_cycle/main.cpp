// outbox_cycle [events] [hooks] [batch] [fanout] [events_per_commit] [steady|preload]
//
// The DB thread's work per REST hook delivery (store::outbox_store + database::commit()), phase by phase:
//   insert: `events` lifecycle events (a ~2.3 KB JSON payload each, like the real ones) committed
//           `events_per_commit` at a time with their outbox rows, each event queued for `fanout` of
//           the `hooks` hooks (a lifecycle event matches many subscriptions; issue #4's load has ~1,000
//           hooks with each event matching 50-100 of them);
//   claim:  outbox_store::claim() of `batch` rows at a time, as the delivery engine does;
//   finish: outbox_store::finish() of the same rows, all delivered (an attempt log row each).
// It prints µs of DB thread per delivery for each phase and deliveries/s of the whole. Wall time is noisy on
// a shared machine: for stable figures run it under `valgrind --tool=callgrind` and read the inclusive
// instruction counts of database::commit, outbox_store::claim and outbox_store::finish (README.md).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sqlite3.h>
#include <unistd.h>

#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/outbox_store.hpp>

namespace kb = kazoo_bridge::store;
using clock_type = std::chrono::steady_clock;

namespace {

std::size_t arg(int argc, char** argv, int i, std::size_t fallback) {
  return argc > i ? std::strtoul(argv[i], nullptr, 10) : fallback;
}

// Fixed-width pseudo-random hex, so ids spread over the indexes as the real (hashed or random) ones do.
std::string hex_id(std::uint64_t n, std::size_t width) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(width, '0');
  std::uint64_t x = n * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
  for (std::size_t i = 0; i < width; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    out[i] = digits[x >> 60];
  }
  return out;
}

// The shape of a real call.answered payload (docs/events.md): about 2.3 KB of JSON.
std::string payload_of(const std::string& id, const std::string& call_id) {
  std::string p = "{\"id\":\"" + id + "\",\"type\":\"call.answered\",\"call_id\":\"" + call_id +
                  "\",\"account_id\":\"a1b2c3d4e5f60718293a4b5c6d7e8f90\",\"direction\":\"inbound\","
                  "\"from\":\"+14155550123\",\"from_name\":\"Jane Example\",\"to\":\"+14155550199\","
                  "\"to_name\":\"Sales\",\"user_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
                  "\"occurred_at\":\"2026-11-22T09:27:49.123Z\",\"answered\":true,\"internal\":false,\"raw\":{";
  for (int i = 0; p.size() < 2250; ++i) {
    p += (i ? ",\"" : "\"") + std::string("custom_channel_var_") + std::to_string(i) + "\":\"" +
         hex_id(static_cast<std::uint64_t>(i) + 7, 40) + "\"";
  }
  return p + "}}";
}

// Bytes the DB thread (this one) has written and read through syscalls (/proc/thread-self/io wchar, rchar): the WAL
// pages a transaction writes and the pages SQLite reads back when they are not in its cache. Unlike wall
// time, stable from run to run.
struct io_bytes {
  double written = 0, read = 0;
};

io_bytes io_now() {
  io_bytes b;
  std::FILE* f = std::fopen("/proc/thread-self/io", "r");
  if (!f) return b;
  char key[64];
  unsigned long long v = 0;
  while (std::fscanf(f, "%63s %llu", key, &v) == 2) {
    if (std::string(key) == "wchar:") b.written = static_cast<double>(v);
    if (std::string(key) == "rchar:") b.read = static_cast<double>(v);
  }
  std::fclose(f);
  return b;
}

struct phase {
  double secs = 0;
  io_bytes io;
  template <class F>
  auto time(F f) {
    const auto io0 = io_now();
    const auto t0 = clock_type::now();
    auto r = f();
    secs += std::chrono::duration<double>(clock_type::now() - t0).count();
    const auto io1 = io_now();
    io.written += io1.written - io0.written;
    io.read += io1.read - io0.read;
    return r;
  }
};

double us_per(double secs, std::size_t n) { return n ? secs * 1e6 / static_cast<double>(n) : 0.0; }

}  // namespace

int main(int argc, char** argv) {
  const std::size_t events = arg(argc, argv, 1, 100000);
  const std::size_t hooks = arg(argc, argv, 2, 1000);
  const std::size_t batch = arg(argc, argv, 3, 512);
  const std::size_t fanout = std::min(arg(argc, argv, 4, 1), hooks);
  const std::size_t per_commit = std::max<std::size_t>(1, arg(argc, argv, 5, 2000));
  const bool preload = argc > 6 && std::string(argv[6]) == "preload";
  const auto dir = std::filesystem::temp_directory_path() / ("outbox_cycle." + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  kb::options o;
  o.path = (dir / "bench.db").string();
  o.background_checkpoint_pages = 1000;  // as the daemon (app/application.cpp): checkpoints off the DB thread
  auto db = kb::database::open(o);
  if (!db) return 1;
  std::vector<std::string> hook_ids;
  {
    sqlite3* raw = nullptr;
    sqlite3_open(o.path.c_str(), &raw);
    sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr);
    for (std::size_t h = 0; h < hooks; ++h) {
      hook_ids.push_back("hook_" + hex_id(h, 32));
      auto sql = "INSERT INTO hooks (id, account_id, user_id, target_url, event, scope, secret, created_at_ms, "
                 "updated_at_ms) VALUES ('" + hook_ids.back() +
                 "', 'a', 'u', 'https://example.com/h', '*', 'user', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 1, 1)";
      sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr);
    }
    sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }

  kb::outbox_store s(**db);
  phase insert, claim, finish;
  std::size_t done = 0;
  std::vector<kb::delivery_result> r;
  // Claims and finishes whatever is due, `batch` rows at a time.
  auto drain = [&]() -> int {
    for (;;) {
      auto c = claim.time([&] { return s.claim(1000, 60000, batch); });
      if (!c) return 3;
      if (c->empty()) return 0;
      r.clear();
      for (const auto& d : *c) {
        kb::delivery_result x;
        x.outbox_id = d.outbox_id;
        x.hook_id = d.hook_id;
        x.event_id = d.event_id;
        x.attempt = 1;
        x.attempted_at_ms = 1000;
        x.duration_ms = 20;
        x.outcome = "delivered";
        x.status_code = 200;
        x.response_snippet = "{\"status\":\"success\"}";
        r.push_back(std::move(x));
      }
      if (!finish.time([&] { return s.finish(r, 1000, 259200000); })) return 3;
      done += c->size();
    }
  };
  // Insert: the committer's transactions, timed around commit() only. "steady" drains the outbox after
  // each commit (the daemon keeping up: a small backlog, finished rows piling up behind it); "preload"
  // queues everything first (a backlog of every row, e.g. after sinks were down).
  for (std::size_t i = 0; i < events; i += per_commit) {
    kb::batch b;
    for (std::size_t j = i; j < std::min(events, i + per_commit); ++j) {
      kb::event_row e;
      e.id = "evt_" + hex_id(j, 26);
      e.type = "call.answered";
      e.call_id = hex_id(j + (1ULL << 40), 32) + "@10.1.2.3";
      e.account_id = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
      e.direction = "inbound";
      e.occurred_at_ms = 1;
      e.payload = payload_of(e.id, e.call_id);
      for (std::size_t k = 0; k < fanout; ++k) {
        b.outbox.push_back({e.id, "hook:" + hook_ids[(j * fanout + k) % hooks], e.call_id, 0});
      }
      b.events.push_back(std::move(e));
    }
    if (!insert.time([&] { return (*db)->commit(b); })) return 2;
    if (!preload) {
      if (int rc = drain()) return rc;
    }
  }
  if (int rc = drain()) return rc;
  const double total = insert.secs + claim.secs + finish.secs;
  const double n = static_cast<double>(done);
  std::printf("outbox_cycle: %zu events x fan-out %zu = %zu deliveries, %zu hooks, claim batch %zu, "
              "%zu events per commit, %s\n",
              events, fanout, done, hooks, batch, per_commit, preload ? "preload" : "steady");
  std::printf("  us/delivery:          insert %7.2f  claim %7.2f  finish %7.2f  total %7.2f\n",
              us_per(insert.secs, done), us_per(claim.secs, done), us_per(finish.secs, done), us_per(total, done));
  std::printf("  bytes written/deliv.: insert %7.0f  claim %7.0f  finish %7.0f\n", insert.io.written / n,
              claim.io.written / n, finish.io.written / n);
  std::printf("  bytes read/delivery:  insert %7.0f  claim %7.0f  finish %7.0f\n", insert.io.read / n,
              claim.io.read / n, finish.io.read / n);
  std::printf("  deliveries/s: %.0f (claim + finish only: %.0f)\n", n / total, n / (claim.secs + finish.secs));
  std::filesystem::remove_all(dir);
  return done == events * fanout ? 0 : 4;
}
