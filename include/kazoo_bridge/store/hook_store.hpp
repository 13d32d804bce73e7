#pragma once
/// The SQL of REST hook subscriptions (migration 0005, issue #4): the `hooks` rows the API creates,
/// lists, deletes and re-enables, the attempt log it reads (hook_deliveries, written by delivery),
/// replay into the outbox, and the event reads of GET /api/v1/events.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/rows.hpp>

namespace kazoo_bridge::store {

/// One subscription (table hooks). `filters` is JSON object text, not parsed by the store.
struct hook_row {
  std::string id{}, account_id{}, user_id{};
  std::optional<std::string> client_id{}, grant_id{};
  std::string target_url{}, event{}, scope{}, filters{"{}"}, secret{};
  std::string status{"active"};  ///< active | disabled
  std::optional<std::string> disabled_reason{};
  std::optional<std::int64_t> failing_since_ms{}, last_success_ms{};
  std::int64_t created_at_ms = 0, updated_at_ms = 0;
};

/// One delivery attempt (table hook_deliveries).
struct hook_delivery_row {
  std::int64_t id = 0;
  std::string hook_id{}, event_id{};
  std::int64_t attempt = 0, attempted_at_ms = 0, duration_ms = 0;
  std::string outcome{};  ///< delivered | retry | failed | gone
  std::optional<std::int64_t> status_code{};
  std::optional<std::string> error{}, response_snippet{};
  std::optional<std::int64_t> next_retry_at_ms{};
};

/// An event to queue again for a hook (replay).
struct replay_item {
  std::string event_id{}, call_id{};
};

/// Which stored events replay_candidates() reads: one account, then either one event id or a time
/// range [since_ms, until_ms) of occurred_at.
struct replay_query {
  std::string account_id{};
  std::optional<std::string> event_id{};
  std::int64_t since_ms = 0, until_ms = 0;
  std::size_t limit = 1000;
};

/// Statements over hooks / hook_deliveries / outbox (replay) / call_events (samples) on a
/// database's connection.
///
/// Thread: the database's thread (the DB thread in the daemon, reached with offload()); no lock.
/// Lifetime: must not outlive the database. Errors: sqlite_category() codes (BUSY, CONSTRAINT...).
/// Transactions: remove(), remove_by_grant() and replay() each run in one transaction of their own
/// (BEGIN IMMEDIATE ... COMMIT, rolled back on error); call them outside another transaction.
class hook_store {
 public:
  explicit hook_store(database& db);
  ~hook_store();
  hook_store(const hook_store&) = delete;
  hook_store& operator=(const hook_store&) = delete;

  error_code create(const hook_row& h);
  result<std::optional<hook_row>> get(const std::string& id);
  /// The hooks of one user of an account, oldest first.
  result<std::vector<hook_row>> list_by_owner(const std::string& account_id, const std::string& user_id);
  /// Every hook of an account (any user), oldest first.
  result<std::vector<hook_row>> list_by_account(const std::string& account_id);
  result<std::int64_t> count_by_owner(const std::string& account_id, const std::string& user_id);
  /// Every active hook (start-up load of the subscription index).
  result<std::vector<hook_row>> list_active();
  /// Deletes the hook (its attempt log cascades) and cancels its pending outbox rows (status
  /// 'cancelled'; in_flight rows are left to the delivery engine, which drops them when it finds
  /// the hook gone). false: no such hook.
  result<bool> remove(const std::string& id, std::int64_t now_ms);
  /// remove() for every hook created through this grant (OAuth token family); the ids removed.
  result<std::vector<std::string>> remove_by_grant(const std::string& grant_id, std::int64_t now_ms);
  /// Sets status; "active" also clears disabled_reason and failing_since_ms. false: no such hook.
  result<bool> set_status(const std::string& id, const std::string& status, std::int64_t now_ms);

  /// The newest `limit` attempts of a hook, newest first.
  result<std::vector<hook_delivery_row>> deliveries(const std::string& hook_id, std::size_t limit);

  /// Stored events of the account: the one with q.event_id, or those with since_ms <= occurred_at
  /// < until_ms, oldest first, at most q.limit. The caller keeps those the hook would match.
  result<std::vector<event_row>> replay_candidates(const replay_query& q);
  /// Queues `items` for the hook (destination "hook:" + id), due at now_ms, in the given order.
  /// An (event, hook) pair still pending or in flight is left alone (not queued twice); one that
  /// was already delivered, failed or cancelled is queued again as a NEW outbox row (the finished
  /// row is deleted first, UNIQUE(event_id, destination)): its new id puts it behind what is
  /// already queued for the call, attempts start from 0. Returns how many were queued.
  result<std::int64_t> replay(const std::string& hook_id, std::span<const replay_item> items, std::int64_t now_ms);

  /// The latest `limit` events of an account, newest first (occurred_at, then insertion order),
  /// of one type when set, and (visible_to set) only of calls in which that user is a party
  /// (call_parties, as GET /api/v1/calls shows a `calls`-scope user).
  result<std::vector<event_row>> latest_events(const std::string& account_id, const std::optional<std::string>& type,
                                               const std::optional<std::string>& visible_to, std::size_t limit);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kazoo_bridge::store
