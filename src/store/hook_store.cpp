// The hooks and hook_deliveries tables (migrations/0005_hooks.sql), replay into the outbox (0001).
#include <kazoo_bridge/store/hook_store.hpp>

#include "store/sqlite.hpp"

namespace kazoo_bridge::store {

using detail::statement;

namespace {

constexpr const char* hook_columns =
    "id, account_id, user_id, client_id, grant_id, target_url, event, scope, filters, secret, status, "
    "disabled_reason, failing_since_ms, last_success_ms, created_at_ms, updated_at_ms";

std::string select_hooks(const char* where) {
  return std::string("SELECT ") + hook_columns + " FROM hooks " + where;
}

constexpr const char* event_columns = "id, type, call_id, account_id, occurred_at_ms, payload, user_id, direction";

hook_row hook_from(statement::use& u) {
  hook_row h;
  h.id = u.text(0);
  h.account_id = u.text(1);
  h.user_id = u.text(2);
  h.client_id = u.optional_text(3);
  h.grant_id = u.optional_text(4);
  h.target_url = u.text(5);
  h.event = u.text(6);
  h.scope = u.text(7);
  h.filters = u.text(8);
  h.secret = u.text(9);
  h.status = u.text(10);
  h.disabled_reason = u.optional_text(11);
  h.failing_since_ms = u.optional_int64(12);
  h.last_success_ms = u.optional_int64(13);
  h.created_at_ms = u.int64(14);
  h.updated_at_ms = u.int64(15);
  return h;
}

event_row event_from(statement::use& u) {
  event_row e;
  e.id = u.text(0);
  e.type = u.text(1);
  e.call_id = u.text(2);
  e.account_id = u.text(3);
  e.occurred_at_ms = u.int64(4);
  e.payload = u.text(5);
  e.user_id = u.optional_text(6);
  e.direction = u.text(7);
  return e;
}

error_code check(const statement& s) { return s.valid() ? error_code{} : s.prepare_error(); }

}  // namespace

struct hook_store::impl {
  sqlite3* db;
  statement begin, commit, rollback;
  statement create, get, by_owner, by_account, count_owner, active, cancel_outbox, remove, by_grant, set_status;
  statement deliveries, candidate_one, candidate_range, drop_finished, queue, latest;

  explicit impl(sqlite3* d)
      : db(d),
        begin(d, "BEGIN IMMEDIATE"),
        commit(d, "COMMIT"),
        rollback(d, "ROLLBACK"),
        create(d,
               "INSERT INTO hooks (id, account_id, user_id, client_id, grant_id, target_url, event, scope, filters, "
               "secret, status, disabled_reason, failing_since_ms, last_success_ms, created_at_ms, updated_at_ms) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"),
        get(d, select_hooks("WHERE id = ?1")),
        by_owner(d, select_hooks("WHERE account_id = ?1 AND user_id = ?2 ORDER BY created_at_ms, id")),
        by_account(d, select_hooks("WHERE account_id = ?1 ORDER BY created_at_ms, id")),
        count_owner(d, "SELECT count(*) FROM hooks WHERE account_id = ?1 AND user_id = ?2"),
        active(d, select_hooks("WHERE status = 'active' ORDER BY created_at_ms, id")),
        // Reads the unfinished rows (outbox_lane leads with the call since migration 6): a rare call.
        cancel_outbox(d,
                      "UPDATE outbox SET status = 'cancelled', updated_at_ms = ?2 "
                      "WHERE destination = ?1 AND status = 'pending'"),
        remove(d, "DELETE FROM hooks WHERE id = ?1"),
        by_grant(d, "SELECT id FROM hooks WHERE grant_id = ?1 ORDER BY id"),
        set_status(d,
                   "UPDATE hooks SET status = ?2, updated_at_ms = ?3, "
                   "disabled_reason = CASE WHEN ?2 = 'active' THEN NULL ELSE disabled_reason END, "
                   "failing_since_ms = CASE WHEN ?2 = 'active' THEN NULL ELSE failing_since_ms END "
                   "WHERE id = ?1"),
        deliveries(d,
                   "SELECT id, hook_id, event_id, attempt, attempted_at_ms, duration_ms, outcome, status_code, error, "
                   "response_snippet, next_retry_at_ms FROM hook_deliveries WHERE hook_id = ?1 "
                   "ORDER BY id DESC LIMIT ?2"),
        candidate_one(d, std::string("SELECT ") + event_columns +
                             " FROM call_events WHERE id = ?1 AND account_id = ?2"),
        candidate_range(d, std::string("SELECT ") + event_columns +
                               " FROM call_events WHERE account_id = ?1 AND occurred_at_ms >= ?2 "
                               "AND occurred_at_ms < ?3 ORDER BY occurred_at_ms, seq LIMIT ?4"),
        drop_finished(d,
                      "DELETE FROM outbox WHERE event_id = ?1 AND destination = ?2 "
                      "AND status NOT IN ('pending', 'in_flight')"),
        queue(d,
              "INSERT INTO outbox (event_id, destination, call_id, status, attempts, next_attempt_at_ms, "
              "created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4) "
              "ON CONFLICT (event_id, destination) DO NOTHING"),
        // call_events_account (account_id, occurred_at_ms, seq) read backwards; the party check is a
        // primary-key probe of call_parties, as in call_history.
        latest(d, std::string("SELECT ") + event_columns +
                      " FROM call_events e WHERE account_id = ?1 AND (?2 IS NULL OR type = ?2) "
                      "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM call_parties p "
                      "WHERE p.call_id = e.call_id AND p.user_id = ?3)) "
                      "ORDER BY occurred_at_ms DESC, seq DESC LIMIT ?4") {}

  result<std::int64_t> run(statement::use& u) {
    auto r = u.step();
    if (!r) return r.error();
    return static_cast<std::int64_t>(sqlite3_changes(db));
  }

  error_code step_once(statement& s) {
    if (auto ec = check(s)) return ec;
    statement::use u(s);
    auto r = u.step();
    return r ? error_code{} : r.error();
  }

  void roll_back() noexcept {
    if (!rollback.valid() || sqlite3_get_autocommit(db) != 0) return;
    statement::use u(rollback);
    (void)u.step();
  }

  template <class Row, class From>
  result<std::vector<Row>> rows(statement::use& u, From from) {
    std::vector<Row> out;
    for (;;) {
      auto r = u.step();
      if (!r) return r.error();
      if (!*r) break;
      out.push_back(from(u));
    }
    return out;
  }

  // Inside a transaction: cancel the pending rows, delete the hook.
  result<bool> remove_one(const std::string& id, std::int64_t now_ms) {
    if (auto ec = check(cancel_outbox)) return {boost::system::in_place_error, ec};
    if (auto ec = check(remove)) return {boost::system::in_place_error, ec};
    {
      statement::use u(cancel_outbox);
      u.bind(1, "hook:" + id);
      u.bind(2, now_ms);
      if (auto n = run(u); !n) return {boost::system::in_place_error, n.error()};
    }
    statement::use u(remove);
    u.bind(1, id);
    auto n = run(u);
    if (!n) return {boost::system::in_place_error, n.error()};
    return *n > 0;
  }

  // Runs `body` between BEGIN IMMEDIATE and COMMIT; rolls back when it (or COMMIT) fails.
  template <class T, class Body>
  result<T> in_transaction(Body body) {
    if (auto ec = step_once(begin)) return {boost::system::in_place_error, ec};
    result<T> r = body();
    if (!r) {
      roll_back();
      return r;
    }
    if (auto ec = step_once(commit)) {
      roll_back();
      return {boost::system::in_place_error, ec};
    }
    return r;
  }
};

hook_store::hook_store(database& db) : impl_(std::make_unique<impl>(db.native_handle())) {}
hook_store::~hook_store() = default;

error_code hook_store::create(const hook_row& h) {
  if (auto ec = check(impl_->create)) return ec;
  statement::use u(impl_->create);
  u.bind(1, h.id);
  u.bind(2, h.account_id);
  u.bind(3, h.user_id);
  u.bind_opt(4, h.client_id);
  u.bind_opt(5, h.grant_id);
  u.bind(6, h.target_url);
  u.bind(7, h.event);
  u.bind(8, h.scope);
  u.bind(9, h.filters);
  u.bind(10, h.secret);
  u.bind(11, h.status);
  u.bind_opt(12, h.disabled_reason);
  u.bind_opt(13, h.failing_since_ms);
  u.bind_opt(14, h.last_success_ms);
  u.bind(15, h.created_at_ms);
  u.bind(16, h.updated_at_ms);
  auto r = u.step();
  return r ? error_code{} : r.error();
}

result<std::optional<hook_row>> hook_store::get(const std::string& id) {
  if (auto ec = check(impl_->get)) return ec;
  statement::use u(impl_->get);
  u.bind(1, id);
  auto r = u.step();
  if (!r) return r.error();
  if (!*r) return std::optional<hook_row>{};
  return std::optional<hook_row>(hook_from(u));
}

result<std::vector<hook_row>> hook_store::list_by_owner(const std::string& account_id, const std::string& user_id) {
  if (auto ec = check(impl_->by_owner)) return ec;
  statement::use u(impl_->by_owner);
  u.bind(1, account_id);
  u.bind(2, user_id);
  return impl_->rows<hook_row>(u, hook_from);
}

result<std::vector<hook_row>> hook_store::list_by_account(const std::string& account_id) {
  if (auto ec = check(impl_->by_account)) return ec;
  statement::use u(impl_->by_account);
  u.bind(1, account_id);
  return impl_->rows<hook_row>(u, hook_from);
}

result<std::int64_t> hook_store::count_by_owner(const std::string& account_id, const std::string& user_id) {
  if (auto ec = check(impl_->count_owner)) return ec;
  statement::use u(impl_->count_owner);
  u.bind(1, account_id);
  u.bind(2, user_id);
  auto r = u.step();
  if (!r) return r.error();
  return u.int64(0);
}

result<std::vector<hook_row>> hook_store::list_active() {
  if (auto ec = check(impl_->active)) return ec;
  statement::use u(impl_->active);
  return impl_->rows<hook_row>(u, hook_from);
}

result<bool> hook_store::remove(const std::string& id, std::int64_t now_ms) {
  return impl_->in_transaction<bool>([&] { return impl_->remove_one(id, now_ms); });
}

result<std::vector<std::string>> hook_store::remove_by_grant(const std::string& grant_id, std::int64_t now_ms) {
  if (auto ec = check(impl_->by_grant)) return ec;
  return impl_->in_transaction<std::vector<std::string>>([&]() -> result<std::vector<std::string>> {
    std::vector<std::string> ids;
    {
      statement::use u(impl_->by_grant);
      u.bind(1, grant_id);
      auto found = impl_->rows<std::string>(u, [](statement::use& s) { return s.text(0); });
      if (!found) return found.error();
      ids = std::move(*found);
    }
    for (const auto& id : ids) {
      if (auto r = impl_->remove_one(id, now_ms); !r) return r.error();
    }
    return ids;
  });
}

result<bool> hook_store::set_status(const std::string& id, const std::string& status, std::int64_t now_ms) {
  if (auto ec = check(impl_->set_status)) return {boost::system::in_place_error, ec};
  statement::use u(impl_->set_status);
  u.bind(1, id);
  u.bind(2, status);
  u.bind(3, now_ms);
  auto n = impl_->run(u);
  if (!n) return {boost::system::in_place_error, n.error()};
  return *n > 0;
}

result<std::vector<hook_delivery_row>> hook_store::deliveries(const std::string& hook_id, std::size_t limit) {
  if (auto ec = check(impl_->deliveries)) return ec;
  statement::use u(impl_->deliveries);
  u.bind(1, hook_id);
  u.bind(2, static_cast<std::int64_t>(limit));
  return impl_->rows<hook_delivery_row>(u, [](statement::use& s) {
    hook_delivery_row d;
    d.id = s.int64(0);
    d.hook_id = s.text(1);
    d.event_id = s.text(2);
    d.attempt = s.int64(3);
    d.attempted_at_ms = s.int64(4);
    d.duration_ms = s.int64(5);
    d.outcome = s.text(6);
    d.status_code = s.optional_int64(7);
    d.error = s.optional_text(8);
    d.response_snippet = s.optional_text(9);
    d.next_retry_at_ms = s.optional_int64(10);
    return d;
  });
}

result<std::vector<event_row>> hook_store::replay_candidates(const replay_query& q) {
  if (q.event_id) {
    if (auto ec = check(impl_->candidate_one)) return ec;
    statement::use u(impl_->candidate_one);
    u.bind(1, *q.event_id);
    u.bind(2, q.account_id);
    return impl_->rows<event_row>(u, event_from);
  }
  if (auto ec = check(impl_->candidate_range)) return ec;
  statement::use u(impl_->candidate_range);
  u.bind(1, q.account_id);
  u.bind(2, q.since_ms);
  u.bind(3, q.until_ms);
  u.bind(4, static_cast<std::int64_t>(q.limit));
  return impl_->rows<event_row>(u, event_from);
}

result<std::int64_t> hook_store::replay(const std::string& hook_id, std::span<const replay_item> items,
                                        std::int64_t now_ms) {
  if (auto ec = check(impl_->drop_finished)) return ec;
  if (auto ec = check(impl_->queue)) return ec;
  const std::string destination = "hook:" + hook_id;
  return impl_->in_transaction<std::int64_t>([&]() -> result<std::int64_t> {
    std::int64_t queued = 0;
    for (const auto& item : items) {
      {
        statement::use u(impl_->drop_finished);
        u.bind(1, item.event_id);
        u.bind(2, destination);
        if (auto n = impl_->run(u); !n) return n.error();
      }
      statement::use u(impl_->queue);
      u.bind(1, item.event_id);
      u.bind(2, destination);
      u.bind(3, item.call_id);
      u.bind(4, now_ms);
      auto n = impl_->run(u);
      if (!n) return n.error();
      queued += *n;
    }
    return queued;
  });
}

result<std::vector<event_row>> hook_store::latest_events(const std::string& account_id,
                                                         const std::optional<std::string>& type,
                                                         const std::optional<std::string>& visible_to,
                                                         std::size_t limit) {
  if (auto ec = check(impl_->latest)) return ec;
  statement::use u(impl_->latest);
  u.bind(1, account_id);
  u.bind_opt(2, type);
  u.bind_opt(3, visible_to);
  u.bind(4, static_cast<std::int64_t>(limit));
  return impl_->rows<event_row>(u, event_from);
}

}  // namespace kazoo_bridge::store
