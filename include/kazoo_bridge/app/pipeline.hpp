#pragma once
/// The heart of the data flow: ingest channel -> calls::tracker (pure) -> store::committer. One frame at a
/// time on the I/O thread; the committer merges what it is given into group commits.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <kazoo_bridge/calls/tracker.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/delivery/subscriptions.hpp>
#include <kazoo_bridge/kazoo/blackhole_client.hpp>
#include <kazoo_bridge/store/committer.hpp>
#include <kazoo_bridge/store/database.hpp>

namespace kazoo_bridge::app {

/// Conversions between the tracker's records and the store's rows (pure).
store::event_row to_row(const calls::lifecycle_event& e);
store::call_row to_row(const calls::call_record& c);
calls::call_record from_row(const store::call_row& r);
/// Appends the users `e` names (user_id, from_user_id) as parties of its call, each (call, user)
/// pair once per `seen` set (the caller clears it per batch).
void add_parties(const calls::lifecycle_event& e, std::unordered_set<std::string>& seen,
                 std::vector<store::party_row>& out);
/// Appends one outbox row per active subscription that wants `e` (destination "hook:" + id, due at
/// now_ms). `scratch` is the caller's reusable match buffer.
void add_outbox_rows(const calls::lifecycle_event& e, const delivery::subscription_index& subscriptions,
                     std::int64_t now_ms, std::vector<const delivery::subscription*>& scratch,
                     std::vector<store::outbox_row>& out);

/// The meta key of the feed position: the newest moment up to which we had Kazoo's event feed (the last
/// event, or "now" while subscribed and quiet). CDR reconciliation after a restart starts there, so a quiet
/// night does not make the morning's catch-up window reach back to calls long forgotten.
inline constexpr const char* feed_position_meta_key = "kazoo.feed_position_ms";
/// How often a quiet but subscribed feed advances the stored position.
inline constexpr std::int64_t feed_position_interval_ms = 10000;
/// How often the tick returns free heap pages to the system (see return_free_heap in pipeline.cpp).
inline constexpr std::int64_t heap_trim_interval_ms = 10000;
/// At most this many channel items go into one batch (bounds the latency of the first one).
inline constexpr std::size_t max_items_per_batch = 1024;

/// Thread: I/O thread. Lifetime: channel, tracker, committer and registry outlive it; stop() once ingest
/// has stopped sending, then let run() return. Cancellation: stop() cancels the channel wait; run() then
/// processes every item still buffered and returns; run_ticks() ends at stop(). Errors: none thrown; a frame the tracker cannot use is
/// counted and dropped (the tracker never throws on bad data).
class pipeline {
 public:
  pipeline(asio::any_io_executor ex, kazoo::ingest_channel& in, calls::tracker& tracker, store::committer& committer,
           metrics_registry& metrics, std::shared_ptr<spdlog::logger> log, std::int64_t feed_position_ms);

  /// Called for every lifecycle event as it is handed to the store (the demo prints them).
  std::function<void(const calls::lifecycle_event&)> on_event;
  /// True while the event feed is subscribed (then a quiet feed still moves the feed position forward).
  std::function<bool()> feed_live;
  /// The REST hook subscriptions (null: none). For every lifecycle event, one outbox row per matching
  /// subscription goes into the event's own batch, so both commit in one transaction (design.md,
  /// "the one rule"). Touched on the I/O thread only, like the pipeline.
  const delivery::subscription_index* subscriptions = nullptr;

  awaitable<void> run();
  /// Drives tracker::on_tick (stale calls) once a second.
  awaitable<void> run_ticks();
  void stop();

  std::int64_t feed_position_ms() const { return feed_position_ms_; }

 private:
  void handle(kazoo::ingest_item& item, calls::tracker_output& out, std::int64_t& event_ms);
  counter& labelled(std::unordered_map<std::string, counter*>& cache, const char* name, const char* help,
                    const char* label, const std::string& value);
  void emit(calls::tracker_output& out, std::int64_t event_ms);

  kazoo::ingest_channel& in_;
  calls::tracker& tracker_;
  store::committer& committer_;
  metrics_registry& metrics_;
  std::shared_ptr<spdlog::logger> log_;
  asio::steady_timer tick_timer_;
  std::int64_t last_trim_ms_ = 0;
  std::int64_t feed_position_ms_;
  std::int64_t feed_position_stored_ms_ = 0;
  bool stopping_ = false;
  gauge& queue_depth_;
  gauge& active_calls_;
  counter& tracker_errors_;
  std::unordered_map<std::string, counter*> kazoo_counters_, lifecycle_counters_;
  std::unordered_set<std::string> party_seen_;  // emit(): (call, user) pairs of the batch being built
  std::vector<const delivery::subscription*> matched_;  // emit(): reused per event, no allocation per miss
};

}  // namespace kazoo_bridge::app
