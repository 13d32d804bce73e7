#pragma once
/// calls::tracker: correlates per-leg Kazoo channel events into calls and emits lifecycle events
/// (reference/kazoo.md §3.2–§3.4, §4.1, §5.8). Pure and synchronous: no I/O, no clock (callers pass now).
///
/// Thread: not thread-safe; one owner (the ingest task) calls it.
/// Lifetime: plain value; calls survive restarts through call_record::state + restore().
/// Errors: none; malformed events are ignored (parse_frame rejects what cannot be used).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <kazoo_bridge/calls/crossbar_rows.hpp>
#include <kazoo_bridge/calls/directory.hpp>
#include <kazoo_bridge/calls/frame.hpp>
#include <kazoo_bridge/calls/lifecycle.hpp>

namespace kazoo_bridge::calls {

struct tracker_options {
  bool include_internal_calls = true;
  std::int64_t stale_call_timeout_ms = 4 * 3600 * 1000;  ///< a call with no last DESTROY is closed after this
  std::int64_t tombstone_ms = 10 * 60 * 1000;            ///< how long an ended call's ids are remembered
};

struct tracker_output {
  std::vector<lifecycle_event> events;
  /// Calls to store: a call that ended (its record is final) is added by the step that ended it; a call
  /// still in progress is added by flush(), once however many steps touched it since the last flush.
  std::vector<call_record> calls;
};

namespace detail {
struct call_state;
class engine;
}  // namespace detail

class tracker {
 public:
  explicit tracker(tracker_options o = {});
  ~tracker();
  tracker(tracker&&) noexcept;
  tracker& operator=(tracker&&) noexcept;

  void set_directory(std::string account_id, std::shared_ptr<const directory> d);

  /// One channel/park event. Replies are ignored. Duplicates (same event_name+call_id+msg_id) are no-ops.
  void on_event(const frame& f, std::int64_t now_ms, tracker_output& out);
  /// Closes stale calls (no activity for stale_call_timeout_ms), forgets expired tombstones, and starts
  /// the deferred live channels of reconcile() whose frames did not come.
  void on_tick(std::int64_t now_ms, tracker_output& out);
  /// After a (re)connect (§5.8): `live` = every live channel of the account now; `cdrs` = CDRs since the
  /// last event seen. Tracked calls that are not live get exactly one call.ended (with CDR data when
  /// found; a call.missed too when inbound and unanswered); unknown live channels start calls
  /// (started [+answered]); CDR-only calls are synthesized (started, [answered], ended, [missed]).
  /// An unknown live channel created less than 5 s before `now_ms` is most likely one whose first
  /// frames are still on their way: it waits 2 s (on_tick()) and is started from the snapshot only if
  /// no frame of it came, so a call ringing at the moment of a reconnect keeps its live events.
  void reconcile(std::string account_id, const std::vector<live_channel>& live, const std::vector<cdr>& cdrs,
                 std::int64_t now_ms, tracker_output& out);
  /// Adds one record (state as of now) for every call in progress changed since the last flush. The
  /// pipeline flushes once per batch of frames: rendering a call's record costs more than tracking the
  /// event that changed it, and a busy call is touched by many frames of one batch.
  void flush(std::int64_t now_ms, tracker_output& out);
  /// At start-up, for every not-ended call from the store.
  void restore(const call_record& r);
  /// At start-up, for every call that ended shortly before the stop: its ids are remembered for
  /// tombstone_ms, so a reconciliation whose CDR window overlaps it does not report it again.
  void remember_ended(const std::string& account_id, const std::string& call_id, std::int64_t now_ms);
  std::size_t active_calls() const;

 private:
  std::unique_ptr<detail::engine> engine_;
};

}  // namespace kazoo_bridge::calls
