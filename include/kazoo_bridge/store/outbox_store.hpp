#pragma once
/// The delivery side of the outbox (migrations 0001 + 0005): claim due hook deliveries, record
/// their outcome, keep the hooks' health columns and the attempt log (hook_deliveries).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/store/database.hpp>

namespace kazoo_bridge::store {

/// A claimed delivery: an outbox row of a "hook:<id>" destination with its event and its hook.
struct claimed_delivery {
  std::int64_t outbox_id = 0;
  std::string event_id{}, destination{}, call_id{};
  std::int64_t attempts = 0;        ///< attempts already made; this one is attempts + 1
  /// call_events.payload, sent byte for byte. Shared by the claimed rows of one event (an event fans out
  /// to many hooks): read and copied once per event per claim, not once per hook. Never null.
  std::shared_ptr<const std::string> payload{};
  std::int64_t occurred_at_ms = 0;  ///< the lifecycle event's time (latency metric)
  std::string hook_id{}, target_url{}, secret{};
};

/// The end of one attempt, for finish(). `outcome` uses hook_deliveries' words.
struct delivery_result {
  std::int64_t outbox_id = 0;
  std::string hook_id{}, event_id{};
  std::int64_t attempt = 0;  ///< 1-based
  std::int64_t attempted_at_ms = 0, duration_ms = 0;
  std::string outcome{};     ///< delivered | retry | failed | gone
  std::optional<std::int64_t> status_code{};
  std::optional<std::string> error{}, response_snippet{};
  std::optional<std::int64_t> next_attempt_at_ms{};  ///< required for "retry"
};

/// A hook finish() disabled, with its URL for the error log line (read by the UPDATE that disabled it,
/// so the engine keeps no map of every hook's URL).
struct disabled_hook {
  std::string id{}, target_url{};
  bool operator==(const disabled_hook&) const = default;
};

/// What finish() did to hooks, for the engine's callbacks.
struct finish_stats {
  std::vector<std::string> deleted_hooks{};     ///< 410: hook deleted, its rows cancelled
  std::vector<disabled_hook> disabled_hooks{};  ///< failing for disable_after: status disabled
  std::size_t finished = 0;                     ///< outbox rows updated (still in_flight before)
};

/// Gauges of the hook outbox.
struct outbox_counts {
  std::int64_t pending = 0;    ///< waiting (first attempt or retry)
  std::int64_t retrying = 0;   ///< pending after at least one failed attempt
  std::int64_t in_flight = 0;  ///< claimed
};

/// Thread: the database's thread (the DB thread, reached with offload()); no lock of its own.
/// Lifetime: must not outlive the database. Errors: sqlite_category() codes.
/// Batching: claim() and finish() each run ONE transaction for many rows (the 10,000
/// deliveries/s target needs it: a transaction per delivery tops out far below that).
class outbox_store {
 public:
  explicit outbox_store(database& db);
  ~outbox_store();
  outbox_store(const outbox_store&) = delete;
  outbox_store& operator=(const outbox_store&) = delete;

  /// Start-up crash recovery: every in_flight row goes back to pending, due at once (keeping a
  /// later next_attempt_at_ms). Its attempt was cut off, so it is attempted again with the same
  /// webhook-id (the event id): a subscriber that dedupes on it sees no duplicate. Rows changed.
  result<std::int64_t> resume_in_flight(std::int64_t now_ms);

  /// Claims up to `limit` due deliveries of ACTIVE hooks, earliest due first, and marks them
  /// in_flight with lease_until_ms = now + lease_ms. Only the oldest unfinished row of each
  /// (destination, call) is eligible, so one call's events reach a destination in order.
  /// Destinations in `skip` (saturated lanes) are not claimed. One transaction.
  result<std::vector<claimed_delivery>> claim(std::int64_t now_ms, std::int64_t lease_ms, std::size_t limit,
                                              const std::vector<std::string>& skip = {});

  /// claim(), but inside the caller's open transaction and only for outbox ids from `first_id` on:
  /// the rows the transaction in progress has just queued from `batches` (commit_stats::first_outbox_id),
  /// claimed in id order before they are ever committed as pending. The payloads come from the
  /// batches' events (a row of an event stored earlier is left to claim()). The same rules as claim():
  /// active hooks, per-call order (a row waits behind an unfinished older row of its call and
  /// destination, committed earlier or in this transaction), `skip`, `limit`. In a savepoint: on an
  /// error nothing is marked, the caller's transaction goes on, and the rows are left pending for claim().
  result<std::vector<claimed_delivery>> claim_fresh(std::span<const batch> batches, std::int64_t first_id,
                                                    std::int64_t now_ms, std::int64_t lease_ms, std::size_t limit,
                                                    const std::vector<std::string>& skip = {});

  /// Records attempts in ONE transaction: the outbox row (delivered | failed | pending again with
  /// next_attempt_at_ms | cancelled for gone), one hook_deliveries row each (in this form), the hook's
  /// last_success_ms / failing_since_ms; a "gone" hook is deleted (attempt log cascades) and its
  /// unfinished rows cancelled; a hook failing without success for `disable_after_ms` (the rule
  /// of delivery::should_disable, on the stored failing_since_ms) is set disabled with a reason.
  /// A row no longer in_flight (the hook was deleted meanwhile) is left as it is.
  result<finish_stats> finish(std::span<const delivery_result> results, std::int64_t now_ms,
                              std::int64_t disable_after_ms);
  /// The same, but the attempt log gets `log` (in that order, before any hook is deleted) instead of
  /// `results`: the engine logs its successful attempts in batches, later than their outbox rows
  /// (delivery::engine_options::attempt_log_delay), because one hook_deliveries row costs a page
  /// write of its hook's index page. Either span may be empty (finish({}, log) only logs). An entry
  /// of a hook deleted meanwhile is dropped (its log would be cascaded away anyway).
  result<finish_stats> finish(std::span<const delivery_result> results, std::span<const delivery_result> log,
                              std::int64_t now_ms, std::int64_t disable_after_ms);

  /// The earliest next_attempt_at_ms later than `after_ms` of a pending row of an active hook;
  /// nullopt when none. Rows due at `after_ms` already that claim() left are waiting for an
  /// unfinished row (per-call order) or a full lane, which only a finished attempt changes.
  result<std::optional<std::int64_t>> next_due_ms(std::int64_t after_ms);

  result<outbox_counts> counts();

  /// Attempt log retention: deletes hook_deliveries rows attempted before `before_ms` (the
  /// engine keeps 7 days). Rows deleted.
  result<std::int64_t> prune_deliveries(std::int64_t before_ms);

  /// Outbox retention: deletes at most `limit` delivered, failed or cancelled rows created before
  /// `before_ms`, oldest first (the engine: the attempt log's 7 days, in slices, so one run never holds
  /// the DB thread for long). Pending and in-flight rows are kept whatever their age. Rows deleted.
  /// A re-derived event never queues again once its row is gone: database::commit() queues outbox
  /// rows only for events it really inserts.
  result<std::int64_t> prune_finished(std::int64_t before_ms, std::size_t limit);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kazoo_bridge::store
