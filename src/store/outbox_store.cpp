// The hook side of the outbox (migrations/0001_initial.sql outbox, 0005_hooks.sql hooks and
// hook_deliveries).
#include <kazoo_bridge/store/outbox_store.hpp>

#include <map>
#include <string_view>
#include <unordered_map>

#include "store/sqlite.hpp"

namespace kazoo_bridge::store {

using detail::statement;

namespace {

// Outbox destinations of hooks are "hook:" + hooks.id (s4 seam, delivery::destination_of()).
constexpr std::string_view hook_prefix = "hook:";

std::string json_string_array(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) < 0x20) continue;  // never in a destination; keep JSON valid
      out += c;
    }
    out += '"';
  }
  return out + "]";
}

// The claim's eligibility rules, shared by claim() and claim_fresh(). The hook join drops disabled (and
// deleted) hooks: their rows wait. NOT EXISTS (on the outbox_lane index) keeps a row back while an
// older row of the same call for the same destination is unfinished: that is the per-call FIFO.
constexpr std::string_view claim_hook_join =
    "JOIN hooks h ON h.id = substr(o.destination, 6) AND h.status = 'active' ";
constexpr std::string_view claim_rules =
    "WHERE o.status = 'pending' AND o.next_attempt_at_ms <= ?1 AND o.destination LIKE 'hook:%' "
    "AND o.destination NOT IN (SELECT value FROM json_each(?3)) "
    "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination "
    "AND p.call_id = o.call_id AND p.id < o.id AND p.status IN ('pending', 'in_flight')) ";

std::string_view outbox_status_of(std::string_view outcome) {
  if (outcome == "delivered") return "delivered";
  if (outcome == "retry") return "pending";
  if (outcome == "gone") return "cancelled";
  return "failed";
}

}  // namespace

struct outbox_store::impl {
  sqlite3* db;
  statement begin, commit, rollback;
  statement resume, claim, claim_fresh, savepoint, release, rollback_to, mark, update_row, hook_exists, log_attempt, hook_success, hook_failure, disable,
      delete_hook, cancel_rows, next_due, counts, prune, prune_outbox;

  explicit impl(sqlite3* d)
      : db(d),
        begin(d, "BEGIN IMMEDIATE"),
        commit(d, "COMMIT"),
        rollback(d, "ROLLBACK"),
        resume(d,
               "UPDATE outbox SET status = 'pending', lease_until_ms = NULL, updated_at_ms = ?1 "
               "WHERE status = 'in_flight' "
               "AND destination LIKE 'hook:%'"),
        // Walks the due index in due order. An event fans out to many hooks, so its rows come together:
        // the payload is copied once per event and shared. (Reading it in a second statement per event
        // instead of this join saved 8% of the claim's instructions with 50 hooks per event but cost 15%
        // more with one.)
        claim(d, std::string("SELECT o.id, o.event_id, o.destination, o.call_id, o.attempts, e.payload, "
                             "e.occurred_at_ms, h.id, h.target_url, h.secret FROM outbox o ") +
                     std::string(claim_hook_join) + "JOIN call_events e ON e.id = o.event_id " +
                     std::string(claim_rules) + "ORDER BY o.next_attempt_at_ms, o.id LIMIT ?2"),
        // The rows of the transaction in progress only: a range of the rowid (ids from ?4 on), in id
        // order. Their events are in the caller's batches: no join with call_events, whose payloads
        // (several KB each) were half of the claim's time per row (sqlite3 shell, 20,000 rows).
        claim_fresh(d, std::string("SELECT o.id, o.event_id, o.destination, o.call_id, o.attempts, NULL, NULL, "
                                   "h.id, h.target_url, h.secret FROM outbox o ") +
                           std::string(claim_hook_join) + std::string(claim_rules) +
                           "AND o.id >= ?4 ORDER BY o.id LIMIT ?2"),
        savepoint(d, "SAVEPOINT claim_fresh"),
        release(d, "RELEASE claim_fresh"),
        rollback_to(d, "ROLLBACK TO claim_fresh"),
        // One statement per row on purpose: one UPDATE ... WHERE id IN (SELECT value FROM json_each(?))
        // for the whole claim needs a statement journal (a multi-row write that may abort), which spills
        // to a temporary file past 64 KB (+435 bytes written per delivery in bench/outbox_cycle). With
        // PRAGMA temp_store = MEMORY it would save a fifth of the claim's instructions, but that pragma is
        // the whole connection's choice (database::open()), not this store's.
        mark(d,
             "UPDATE outbox SET status = 'in_flight', lease_until_ms = ?2, updated_at_ms = ?3 "
             "WHERE id = ?1 AND status = 'pending'"),
        update_row(d,
                   "UPDATE outbox SET status = ?2, attempts = ?3, "
                   "next_attempt_at_ms = coalesce(?4, next_attempt_at_ms), lease_until_ms = NULL, "
                   "last_status = ?5, last_error = ?6, updated_at_ms = ?7 "
                   "WHERE id = ?1 AND status = 'in_flight'"),
        // Logged only for a hook that hook_exists finds (the FK would refuse the row of a hook deleted
        // meanwhile): one lookup per hook per finish() instead of one per attempt. (One statement for all
        // the batch's hooks, id IN json_each(?), cost 9% more instructions per finish: bench/outbox_cycle.)
        hook_exists(d, "SELECT 1 FROM hooks WHERE id = ?1"),
        log_attempt(d,
                    "INSERT INTO hook_deliveries (hook_id, event_id, attempt, attempted_at_ms, duration_ms, "
                    "outcome, status_code, error, response_snippet, next_retry_at_ms) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        // A healthy hook's last success moves on at most once a minute: the hooks table is small and
        // dense, so rewriting each hook's row in every finish() wrote most of its pages to the WAL every
        // time (~3 KB per delivery at 1,000 deliveries/s over 1,000 hooks). last_success_ms is
        // diagnostic; failing_since_ms, which decides disabling, is always kept exact.
        hook_success(d,
                     "UPDATE hooks SET last_success_ms = ?2, failing_since_ms = ?3, updated_at_ms = ?4 "
                     "WHERE id = ?1 AND (?3 IS NOT NULL OR failing_since_ms IS NOT NULL OR last_success_ms IS NULL "
                     "OR last_success_ms <= ?2 - 60000)"),
        hook_failure(d,
                     "UPDATE hooks SET failing_since_ms = ?2, updated_at_ms = ?3 "
                     "WHERE id = ?1 AND failing_since_ms IS NULL"),
        disable(d,
                "UPDATE hooks SET status = 'disabled', disabled_reason = ?2, updated_at_ms = ?3 "
                "WHERE id = ?1 AND status = 'active' AND failing_since_ms IS NOT NULL "
                "AND failing_since_ms <= ?4 RETURNING target_url"),
        delete_hook(d, "DELETE FROM hooks WHERE id = ?1"),
        cancel_rows(d,
                    "UPDATE outbox SET status = 'cancelled', lease_until_ms = NULL, updated_at_ms = ?2 "
                    "WHERE destination = ?1 AND status IN ('pending', 'in_flight')"),
        // The first row in due order after ?1 (ORDER BY + LIMIT walks outbox_due and stops at the first
        // active hook's row; min() with the join read every pending row). Rows due already but not
        // claimed are held back (per-call order, a full lane): a finished attempt notifies the engine.
        next_due(d,
                 "SELECT o.next_attempt_at_ms FROM outbox o "
                 "JOIN hooks h ON h.id = substr(o.destination, 6) AND h.status = 'active' "
                 "WHERE o.status = 'pending' AND o.next_attempt_at_ms > ?1 AND o.destination LIKE 'hook:%' "
                 "ORDER BY o.next_attempt_at_ms LIMIT 1"),
        counts(d,
               "SELECT coalesce(sum(status = 'pending'), 0), coalesce(sum(status = 'pending' AND attempts > 0), 0), "
               "coalesce(sum(status = 'in_flight'), 0) FROM outbox "
               "WHERE status IN ('pending', 'in_flight') AND destination LIKE 'hook:%'"),
        prune(d, "DELETE FROM hook_deliveries WHERE attempted_at_ms < ?1"),
        // Rowid order is creation order, so the old rows are at the front of the table: the scan stops
        // after `limit` finished ones instead of reading the whole outbox (pending and in-flight rows
        // are never touched, however old).
        prune_outbox(d,
                     "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at_ms < ?1 AND "
                     "status IN ('delivered', 'failed', 'cancelled') ORDER BY id LIMIT ?2)") {}

  error_code prepared() const {
    for (const statement* s : {&begin, &commit, &rollback, &resume, &claim, &claim_fresh, &savepoint, &release,
                               &rollback_to, &mark, &update_row, &hook_exists,
                               &log_attempt, &hook_success, &hook_failure, &disable, &delete_hook, &cancel_rows,
                               &next_due, &counts, &prune, &prune_outbox}) {
      if (!s->valid()) return s->prepare_error();
    }
    return {};
  }

  error_code exec(statement& st) {
    statement::use u(st);
    auto r = u.step();
    return r ? error_code{} : r.error();
  }

  void abort() noexcept {
    if (sqlite3_get_autocommit(db) == 0) exec(rollback);
  }

  std::int64_t changes() const { return static_cast<std::int64_t>(sqlite3_changes(db)); }

  /// The events of claim_fresh()'s batches by id, and their payload once a claimed row shares it.
  struct fresh_event {
    const event_row* row;
    std::shared_ptr<const std::string> payload{};
  };
  using event_payloads = std::unordered_map<std::string_view, fresh_event>;
  result<std::vector<claimed_delivery>> select_and_mark(statement& query, std::int64_t now_ms, std::int64_t lease_ms,
                                                        std::size_t limit, const std::vector<std::string>& skip,
                                                        std::int64_t first_id, event_payloads* events);
};

outbox_store::outbox_store(database& db) : impl_(std::make_unique<impl>(db.native_handle())) {}
outbox_store::~outbox_store() = default;

result<std::int64_t> outbox_store::resume_in_flight(std::int64_t now_ms) {
  if (auto ec = impl_->prepared()) return ec;
  statement::use u(impl_->resume);
  u.bind(1, now_ms);
  auto r = u.step();
  if (!r) return r.error();
  return impl_->changes();
}

// The rows `query` selects (claim's or claim_fresh's), marked in_flight, inside the caller's transaction.
// With `events`, payloads come from there (claim_fresh), and a row of an event not there is left alone.
result<std::vector<claimed_delivery>> outbox_store::impl::select_and_mark(statement& query, std::int64_t now_ms,
                                                                          std::int64_t lease_ms, std::size_t limit,
                                                                          const std::vector<std::string>& skip,
                                                                          std::int64_t first_id, event_payloads* events) {
  std::vector<claimed_delivery> out;
  out.reserve(std::min<std::size_t>(limit, 4096));
  {
    // The claimed rows of one event are usually adjacent (same due time, consecutive ids), but a retry
    // can interleave them with others: a map, not just the last event.
    std::unordered_map<std::string, std::shared_ptr<const std::string>> payloads;
    statement::use u(query);
    u.bind(1, now_ms);
    u.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, 1'000'000)));
    u.bind(3, json_string_array(skip));
    if (first_id > 0) u.bind(4, first_id);
    for (;;) {
      auto row = u.step();
      if (!row) return row.error();
      if (!*row) break;
      claimed_delivery c;
      c.outbox_id = u.int64(0);
      c.event_id = u.text(1);
      if (events) {
        auto e = events->find(c.event_id);
        if (e == events->end()) continue;  // an event stored earlier: claim() reads it
        if (!e->second.payload) e->second.payload = std::make_shared<const std::string>(e->second.row->payload);
        c.payload = e->second.payload;
        c.occurred_at_ms = e->second.row->occurred_at_ms;
      } else {
        auto& payload = payloads[c.event_id];
        if (!payload) payload = std::make_shared<const std::string>(u.text(5));
        c.payload = payload;
        c.occurred_at_ms = u.int64(6);
      }
      c.destination = u.text(2);
      c.call_id = u.text(3);
      c.attempts = u.int64(4);
      c.hook_id = u.text(7);
      c.target_url = u.text(8);
      c.secret = u.text(9);
      out.push_back(std::move(c));
    }
  }
  for (const auto& c : out) {
    statement::use u(mark);
    u.bind(1, c.outbox_id);
    u.bind(2, now_ms + lease_ms);
    u.bind(3, now_ms);
    if (auto r = u.step(); !r) return r.error();
  }
  return out;
}

result<std::vector<claimed_delivery>> outbox_store::claim(std::int64_t now_ms, std::int64_t lease_ms,
                                                          std::size_t limit, const std::vector<std::string>& skip) {
  if (auto ec = impl_->prepared()) return ec;
  if (auto ec = impl_->exec(impl_->begin)) return ec;
  auto out = impl_->select_and_mark(impl_->claim, now_ms, lease_ms, limit, skip, 0, nullptr);
  if (!out) {
    impl_->abort();
    return out.error();
  }
  if (auto ec = impl_->exec(impl_->commit)) {
    impl_->abort();
    return ec;
  }
  return out;
}

result<std::vector<claimed_delivery>> outbox_store::claim_fresh(std::span<const batch> batches, std::int64_t first_id,
                                                                std::int64_t now_ms, std::int64_t lease_ms,
                                                                std::size_t limit,
                                                                const std::vector<std::string>& skip) {
  if (auto ec = impl_->prepared()) return ec;
  if (first_id <= 0 || limit == 0) return std::vector<claimed_delivery>{};
  impl::event_payloads events;
  for (const auto& b : batches) {
    // The first of two rows with one id is the one stored (ON CONFLICT DO NOTHING).
    for (const auto& e : b.events) events.try_emplace(e.id, impl::fresh_event{&e});
  }
  // A savepoint: if this fails half way, the marks it made are undone and the caller's transaction
  // (the events and their outbox rows) goes on; the rows stay pending for claim().
  if (auto ec = impl_->exec(impl_->savepoint)) return ec;
  auto out = impl_->select_and_mark(impl_->claim_fresh, now_ms, lease_ms, limit, skip, first_id, &events);
  if (const error_code ec = out ? impl_->exec(impl_->release) : out.error()) {
    impl_->exec(impl_->rollback_to);
    impl_->exec(impl_->release);
    return ec;
  }
  return out;
}

result<finish_stats> outbox_store::finish(std::span<const delivery_result> results, std::int64_t now_ms,
                                          std::int64_t disable_after_ms) {
  return finish(results, results, now_ms, disable_after_ms);
}

result<finish_stats> outbox_store::finish(std::span<const delivery_result> results,
                                          std::span<const delivery_result> log, std::int64_t now_ms,
                                          std::int64_t disable_after_ms) {
  if (auto ec = impl_->prepared()) return ec;
  finish_stats stats;
  if (results.empty() && log.empty()) return stats;
  if (auto ec = impl_->exec(impl_->begin)) return ec;
  auto fail = [&](error_code ec) -> result<finish_stats> {
    impl_->abort();
    return ec;
  };
  // Per hook, in result order: the last success, and the first failure after it. Applied once
  // per hook below, so 1,000 results for one hook are one hooks UPDATE, not 1,000.
  struct health {
    std::optional<std::int64_t> last_success, failing_since;
    bool gone = false;
  };
  std::map<std::string, health> hooks;
  for (const auto& r : results) {
    {
      statement::use u(impl_->update_row);
      u.bind(1, r.outbox_id);
      u.bind(2, outbox_status_of(r.outcome));
      u.bind(3, r.attempt);
      u.bind_opt(4, r.outcome == "retry" ? r.next_attempt_at_ms : std::nullopt);
      u.bind_opt(5, r.status_code);
      u.bind_static_opt(6, r.error);
      u.bind(7, now_ms);
      if (auto s = u.step(); !s) return fail(s.error());
      stats.finished += static_cast<std::size_t>(impl_->changes());
    }
    auto& h = hooks[r.hook_id];
    if (r.outcome == "delivered") {
      h.last_success = r.attempted_at_ms;
      h.failing_since.reset();
    } else if (r.outcome == "gone") {
      h.gone = true;
    } else if (!h.failing_since) {
      h.failing_since = r.attempted_at_ms;
    }
  }
  // Logged only for a hook that still exists (the FK would refuse the row of a hook deleted
  // meanwhile): one lookup per hook, not per attempt. Hooks are deleted only after this loop.
  std::unordered_map<std::string_view, bool> exists;
  for (const auto& r : log) {
    auto [it, first_of_hook] = exists.try_emplace(r.hook_id, false);
    if (first_of_hook) {
      statement::use u(impl_->hook_exists);
      u.bind_static(1, r.hook_id);
      auto found = u.step();
      if (!found) return fail(found.error());
      it->second = *found;
    }
    if (!it->second) continue;
    // bind_static: `log` outlives the statement's use (no copy of each string).
    statement::use u(impl_->log_attempt);
    u.bind_static(1, r.hook_id);
    u.bind_static(2, r.event_id);
    u.bind(3, r.attempt);
    u.bind(4, r.attempted_at_ms);
    u.bind(5, r.duration_ms);
    u.bind_static(6, r.outcome);
    u.bind_opt(7, r.status_code);
    u.bind_static_opt(8, r.error);
    u.bind_static_opt(9, r.response_snippet);
    u.bind_opt(10, r.outcome == "retry" ? r.next_attempt_at_ms : std::nullopt);
    if (auto s = u.step(); !s) return fail(s.error());
  }
  for (const auto& [hook_id, h] : hooks) {
    if (h.gone) {
      {
        statement::use u(impl_->delete_hook);
        u.bind(1, hook_id);
        if (auto s = u.step(); !s) return fail(s.error());
        if (impl_->changes() > 0) stats.deleted_hooks.push_back(hook_id);
      }
      statement::use u(impl_->cancel_rows);
      u.bind(1, std::string(hook_prefix) + hook_id);
      u.bind(2, now_ms);
      if (auto s = u.step(); !s) return fail(s.error());
      continue;
    }
    if (h.last_success) {
      statement::use u(impl_->hook_success);
      u.bind(1, hook_id);
      u.bind(2, *h.last_success);
      u.bind_opt(3, h.failing_since);
      u.bind(4, now_ms);
      if (auto s = u.step(); !s) return fail(s.error());
    } else if (h.failing_since) {
      statement::use u(impl_->hook_failure);
      u.bind(1, hook_id);
      u.bind(2, *h.failing_since);
      u.bind(3, now_ms);
      if (auto s = u.step(); !s) return fail(s.error());
    }
    if (h.failing_since) {
      statement::use u(impl_->disable);
      u.bind(1, hook_id);
      u.bind(2, std::string_view("failing for longer than [hooks] disable_after_s without a successful delivery"));
      u.bind(3, now_ms);
      u.bind(4, now_ms - disable_after_ms);
      auto row = u.step();
      if (!row) return fail(row.error());
      if (*row) stats.disabled_hooks.push_back({hook_id, u.text(0)});
    }
  }
  if (auto ec = impl_->exec(impl_->commit)) return fail(ec);
  return stats;
}

result<std::optional<std::int64_t>> outbox_store::next_due_ms(std::int64_t after_ms) {
  if (auto ec = impl_->prepared()) return ec;
  statement::use u(impl_->next_due);
  u.bind(1, after_ms);
  auto r = u.step();
  if (!r) return r.error();
  if (!*r) return std::optional<std::int64_t>{};
  return u.optional_int64(0);
}

result<outbox_counts> outbox_store::counts() {
  if (auto ec = impl_->prepared()) return ec;
  statement::use u(impl_->counts);
  auto r = u.step();
  if (!r) return r.error();
  outbox_counts c;
  if (*r) {
    c.pending = u.int64(0);
    c.retrying = u.int64(1);
    c.in_flight = u.int64(2);
  }
  return c;
}

result<std::int64_t> outbox_store::prune_deliveries(std::int64_t before_ms) {
  if (auto ec = impl_->prepared()) return ec;
  statement::use u(impl_->prune);
  u.bind(1, before_ms);
  auto r = u.step();
  if (!r) return r.error();
  return impl_->changes();
}

result<std::int64_t> outbox_store::prune_finished(std::int64_t before_ms, std::size_t limit) {
  if (auto ec = impl_->prepared()) return ec;
  statement::use u(impl_->prune_outbox);
  u.bind(1, before_ms);
  u.bind(2, static_cast<std::int64_t>(limit));
  auto r = u.step();
  if (!r) return r.error();
  return impl_->changes();
}

}  // namespace kazoo_bridge::store
