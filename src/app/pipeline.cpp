#include <kazoo_bridge/app/pipeline.hpp>

#include <algorithm>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <type_traits>

#include <spdlog/logger.h>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::app {
namespace {

std::optional<std::string> string_key(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

void return_free_heap() {
#ifdef __GLIBC__
  // glibc keeps freed memory in the middle of its heaps (between the calls still in progress) instead
  // of giving it back: after a burst, RSS stays at the burst's peak for as long as the process lives.
  // malloc_trim(0) returns every whole free page (MADV_DONTNEED), so RSS follows what is really used.
  malloc_trim(0);
#endif
}

}  // namespace

store::event_row to_row(const calls::lifecycle_event& e) {
  store::event_row r;
  r.id = e.id;
  r.type = e.type;
  r.call_id = e.call_id;
  r.account_id = e.account_id;
  r.occurred_at_ms = e.occurred_at_ms;
  r.payload = calls::payload_text(e);
  r.user_id = string_key(e.payload, "user_id");
  r.direction = string_key(e.payload, "direction").value_or("");
  return r;
}

store::call_row to_row(const calls::call_record& c) {
  store::call_row r;
  r.call_id = c.call_id;
  r.account_id = c.account_id;
  r.status = c.status;
  r.direction = c.direction;
  r.answered = c.answered;
  r.user_id = c.user_id;
  r.started_at_ms = c.started_at_ms;
  r.updated_at_ms = c.updated_at_ms;
  r.ended_at_ms = c.ended_at_ms;
  r.snapshot = c.snapshot;
  r.state = c.state;
  return r;
}

void add_parties(const calls::lifecycle_event& e, std::unordered_set<std::string>& seen,
                 std::vector<store::party_row>& out) {
  // Every user a call ever names reaches a lifecycle event's payload: the internal caller as
  // from_user_id (set with the A-leg, before call.started), each user rung, answering or taking a
  // transfer as user_id of that event, and the call's final user in call.ended. So the events
  // alone give the parties; call rows (one per flush, many more of them) are not looked at.
  for (const char* key : {"user_id", "from_user_id"}) {
    auto user = string_key(e.payload, key);
    if (!user || user->empty()) continue;
    std::string pair = e.call_id;
    pair += '\n';
    pair += *user;
    if (seen.insert(std::move(pair)).second) out.push_back({e.call_id, std::move(*user)});
  }
}

calls::call_record from_row(const store::call_row& r) {
  calls::call_record c;
  c.call_id = r.call_id;
  c.account_id = r.account_id;
  c.status = r.status;
  c.direction = r.direction;
  c.answered = r.answered;
  c.user_id = r.user_id;
  c.started_at_ms = r.started_at_ms;
  c.updated_at_ms = r.updated_at_ms;
  c.ended_at_ms = r.ended_at_ms;
  c.snapshot = r.snapshot;
  c.state = r.state;
  return c;
}

pipeline::pipeline(asio::any_io_executor ex, kazoo::ingest_channel& in, calls::tracker& tracker,
                   store::committer& committer, metrics_registry& metrics, std::shared_ptr<spdlog::logger> log,
                   std::int64_t feed_position_ms)
    : in_(in),
      tracker_(tracker),
      committer_(committer),
      metrics_(metrics),
      log_(std::move(log)),
      tick_timer_(ex),
      feed_position_ms_(feed_position_ms),
      queue_depth_(metrics.make_gauge("kazoo_bridge_ingest_queue_depth",
                                      "Kazoo items waiting between ingest and the call tracker.")),
      active_calls_(metrics.make_gauge("kazoo_bridge_active_calls", "Calls in progress.")),
      tracker_errors_(metrics.make_counter("kazoo_bridge_tracker_errors_total",
                                           "Frames the call tracker failed on (dropped, logged).")) {}

void add_outbox_rows(const calls::lifecycle_event& e, const delivery::subscription_index& subscriptions,
                     std::int64_t now_ms, std::vector<const delivery::subscription*>& scratch,
                     std::vector<store::outbox_row>& out) {
  scratch.clear();
  subscriptions.match(e, scratch);
  for (const auto* s : scratch) {
    out.push_back({.event_id = e.id, .destination = delivery::destination_of(s->id), .call_id = e.call_id,
                   .next_attempt_at_ms = now_ms});
  }
}

void pipeline::emit(calls::tracker_output& out, std::int64_t event_ms) {
  store::batch b;
  b.events.reserve(out.events.size());
  // Without subscriptions the loop below costs one null/size check per event.
  const bool fan_out = subscriptions != nullptr && subscriptions->size() > 0;
  const std::int64_t now_ms = fan_out && !out.events.empty() ? now_unix_ms() : 0;
  for (const auto& e : out.events) {
    labelled(lifecycle_counters_, "kazoo_bridge_lifecycle_events_total", "Lifecycle events produced, by type.",
             "type", e.type)
        .inc();
    if (on_event) on_event(e);
    b.events.push_back(to_row(e));
    // Once per batch per (call, user): a pair stored earlier costs the DB thread one key lookup.
    add_parties(e, party_seen_, b.parties);
    if (fan_out) add_outbox_rows(e, *subscriptions, now_ms, matched_, b.outbox);
  }
  party_seen_.clear();
  // One row per call: the tracker reports a call once per flush, however many frames touched it.
  b.calls.reserve(out.calls.size());
  for (const auto& c : out.calls) b.calls.push_back(to_row(c));
  if (event_ms > feed_position_ms_) {
    feed_position_ms_ = event_ms;
    b.meta.emplace_back(feed_position_meta_key, std::to_string(event_ms));
    feed_position_stored_ms_ = event_ms;
  }
  active_calls_.set(static_cast<double>(tracker_.active_calls()));
  if (!b.events.empty() || !b.calls.empty() || !b.meta.empty()) committer_.enqueue(std::move(b));
}

counter& pipeline::labelled(std::unordered_map<std::string, counter*>& cache, const char* name, const char* help,
                           const char* label, const std::string& value) {
  // The registry takes a mutex and renders labels; the hot path asks it once per label value.
  auto it = cache.find(value);
  if (it != cache.end()) return *it->second;
  auto& c = metrics_.make_counter(name, help, {{label, value}});
  cache.emplace(value, &c);
  return c;
}

void pipeline::handle(kazoo::ingest_item& item, calls::tracker_output& out, std::int64_t& event_ms) {
  queue_depth_.add(-1);
  try {
    if (auto* ev = std::get_if<kazoo::event_item>(&item)) {
      labelled(kazoo_counters_, "kazoo_bridge_kazoo_events_total", "Kazoo events received, by event name.", "name",
               ev->frame.name)
          .inc();
      tracker_.on_event(ev->frame, ev->received_at_ms, out);
      event_ms = std::max(event_ms, ev->received_at_ms);
    } else if (auto* rec = std::get_if<kazoo::reconcile_item>(&item)) {
      tracker_.reconcile(rec->account_id, rec->live, rec->cdrs, rec->taken_at_ms, out);
    }
  } catch (const std::exception& x) {
    // The tracker is written not to throw on bad data; this guard keeps one bad frame from stopping
    // ingest for everyone if it ever does.
    tracker_errors_.inc();
    log_->error("call tracker failed on a frame: {}", x.what());
  }
}

awaitable<void> pipeline::run() {
  calls::tracker_output out;
  std::int64_t event_ms = 0;
  auto take = [&](error_code ec, kazoo::ingest_item item) {
    if (!ec) handle(item, out, event_ms);
  };
  while (!stopping_) {
    auto [ec, item] = co_await in_.async_receive(use_nothrow);
    if (ec) break;  // cancelled by stop(): drain below
    handle(item, out, event_ms);
    // Whatever else is already waiting goes into the same batch: one serialization per call and one
    // enqueue per burst instead of one per frame (a call touched by several frames is rendered once).
    for (std::size_t n = 1; n < max_items_per_batch && in_.try_receive(take); ++n) {
    }
    tracker_.flush(now_unix_ms(), out);
    emit(out, event_ms);
    out.events.clear();
    out.calls.clear();
    event_ms = 0;
    // Back-pressure: while the store is behind, stop taking frames (the channel then fills up and the
    // WebSocket reader stops reading).
    co_await committer_.wait_for_capacity();
  }
  // Graceful drain: what ingest already read is processed and handed to the store, never dropped.
  std::size_t drained = 0;
  while (in_.try_receive([&](error_code e, kazoo::ingest_item it) {
    if (!e) {
      handle(it, out, event_ms);
      ++drained;
    }
  })) {
  }
  tracker_.flush(now_unix_ms(), out);
  emit(out, event_ms);
  log_->debug("pipeline drained items={}", drained);
}

awaitable<void> pipeline::run_ticks() {
  calls::tracker_output out;
  while (!stopping_) {
    tick_timer_.expires_after(std::chrono::seconds(1));
    co_await tick_timer_.async_wait(use_nothrow);
    if (stopping_) break;
    out.events.clear();
    out.calls.clear();
    const auto now = now_unix_ms();
    tracker_.on_tick(now, out);
    tracker_.flush(now, out);
    // A quiet but live feed: nothing happened up to now, which reconciliation need not look at again.
    const bool advance = feed_live && feed_live() && now - feed_position_stored_ms_ >= feed_position_interval_ms;
    emit(out, advance ? now : 0);
    if (now - last_trim_ms_ >= heap_trim_interval_ms) {
      last_trim_ms_ = now;
      return_free_heap();
    }
  }
}

void pipeline::stop() {
  stopping_ = true;
  tick_timer_.cancel();
  in_.cancel();  // wakes run(), which then drains what is buffered (close() would drop it)
}

}  // namespace kazoo_bridge::app
