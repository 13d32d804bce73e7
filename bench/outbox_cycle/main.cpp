// outbox_cycle [events] [hooks] [batch]: fills a fresh database with `events` lifecycle events, each
// queued for one of `hooks` hooks (round robin, one call per event), then claims and finishes them
// `batch` at a time, as the delivery engine does, and prints rows/s of the claim + finish cycle.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/outbox_store.hpp>

namespace kb = kazoo_bridge::store;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const std::size_t events = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  const std::size_t hooks = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
  const std::size_t batch = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 512;
  const auto dir = std::filesystem::temp_directory_path() / "outbox_cycle";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  kb::options o;
  o.path = (dir / "bench.db").string();
  auto db = kb::database::open(o);
  if (!db) return 1;
  {
    sqlite3* raw = nullptr;
    sqlite3_open(o.path.c_str(), &raw);
    sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr);
    for (std::size_t h = 0; h < hooks; ++h) {
      auto sql = "INSERT INTO hooks (id, account_id, user_id, target_url, event, scope, secret, created_at_ms, "
                 "updated_at_ms) VALUES ('hook_" + std::to_string(h) +
                 "', 'a', 'u', 'https://example.com/h', '*', 'user', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 1, 1)";
      sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr);
    }
    sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  const std::string payload(2000, 'x');
  for (std::size_t i = 0; i < events; i += 2000) {
    kb::batch b;
    for (std::size_t j = i; j < std::min(events, i + 2000); ++j) {
      kb::event_row e;
      e.id = "ev_" + std::to_string(j);
      e.type = "call.ringing";
      e.call_id = "call_" + std::to_string(j);
      e.account_id = "a";
      e.direction = "inbound";
      e.occurred_at_ms = 1;
      e.payload = "{\"p\":\"" + payload + "\"}";
      b.events.push_back(e);
      b.outbox.push_back({e.id, "hook:hook_" + std::to_string(j % hooks), e.call_id, 0});
    }
    if (!(*db)->commit(b)) return 2;
  }
  kb::outbox_store s(**db);
  std::size_t done = 0;
  const auto start = clock_type::now();
  for (;;) {
    auto c = s.claim(1000, 60000, batch);
    if (!c || c->empty()) break;
    std::vector<kb::delivery_result> r;
    r.reserve(c->size());
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
    if (!s.finish(r, 1000, 259200000)) return 3;
    done += c->size();
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("outbox_cycle: %zu deliveries, %zu hooks, batch %zu: %.2f s, %.0f deliveries/s\n", done, hooks,
              batch, secs, static_cast<double>(done) / secs);
  std::filesystem::remove_all(dir);
  return done == events ? 0 : 4;
}
