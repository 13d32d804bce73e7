#pragma once
// A real SQLite file with the daemon's schema, and direct SQL to put hooks, events and outbox rows
// in it the way the hooks helper's API and pipeline will (those land in parallel), plus reads.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include <kazoo_bridge/store/database.hpp>

#include "support/temp_dir.hpp"

namespace kazoo_bridge::test {

class hook_db {
 public:
  hook_db() { reopen(); }
  ~hook_db() { sqlite3_close_v2(raw_); }
  hook_db(const hook_db&) = delete;
  hook_db& operator=(const hook_db&) = delete;

  /// Closes and opens the database again (a daemon restart after a crash: committed state only).
  void reopen() {
    db_.reset();
    if (raw_) sqlite3_close_v2(raw_);
    raw_ = nullptr;
    store::options o;
    o.path = dir_.file("bridge.db");
    auto d = store::database::open(o);
    if (!d) throw std::runtime_error("open failed");
    db_ = std::move(*d);
    if (sqlite3_open_v2(o.path.c_str(), &raw_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      throw std::runtime_error("raw open failed");
    }
    sqlite3_busy_timeout(raw_, 5000);
    exec("PRAGMA foreign_keys = ON");
  }

  store::database& db() { return *db_; }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(raw_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("sql failed: " + msg + " in " + sql);
    }
  }

  std::optional<std::string> text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(raw_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("prepare failed: ") + sqlite3_errmsg(raw_));
    }
    std::optional<std::string> v;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
      v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return v;
  }

  std::int64_t scalar(const std::string& sql) {
    auto t = text(sql);
    return t ? std::stoll(*t) : -1;
  }

  /// A hook row (status active) with a Standard Webhooks secret.
  void add_hook(const std::string& id, const std::string& url,
                const std::string& secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
    exec(fmt::format("INSERT INTO hooks (id, account_id, user_id, target_url, event, scope, secret, "
                     "created_at_ms, updated_at_ms) VALUES ('{}', 'acc', 'usr', '{}', '*', 'user', '{}', 1, 1)",
                     id, url, secret));
  }

  /// A lifecycle event and its outbox row for hook `hook_id`, due at `due_ms`.
  void add_event(const std::string& event_id, const std::string& call_id, const std::string& hook_id,
                 std::int64_t due_ms = 0, std::int64_t occurred_ms = 1'000) {
    const auto payload =
        fmt::format(R"({{"id":"{}","type":"call.ringing","call_id":"{}","occurred_at":"x"}})", event_id, call_id);
    exec(fmt::format("INSERT OR IGNORE INTO call_events (id, type, call_id, account_id, direction, occurred_at_ms, "
                     "payload) VALUES ('{}', 'call.ringing', '{}', 'acc', 'inbound', {}, '{}')",
                     event_id, call_id, occurred_ms, payload));
    exec(fmt::format("INSERT INTO outbox (event_id, destination, call_id, next_attempt_at_ms, created_at_ms, "
                     "updated_at_ms) VALUES ('{}', 'hook:{}', '{}', {}, 1, 1)",
                     event_id, hook_id, call_id, due_ms));
  }

  std::string payload_of(const std::string& event_id) {
    return text(fmt::format("SELECT payload FROM call_events WHERE id = '{}'", event_id)).value_or("");
  }
  std::string outbox_status(const std::string& event_id, const std::string& hook_id) {
    return text(fmt::format("SELECT status FROM outbox WHERE event_id = '{}' AND destination = 'hook:{}'",
                            event_id, hook_id))
        .value_or("<none>");
  }

 private:
  temp_dir dir_;
  std::unique_ptr<store::database> db_;
  sqlite3* raw_ = nullptr;
};

}  // namespace kazoo_bridge::test
