#include <kazoo_bridge/store/committer.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

namespace kazoo_bridge::store {
namespace {

using clock = std::chrono::steady_clock;

// Events per transaction: group commit is the lever (reference/webhook-delivery.md §5.3).
std::vector<double> batch_buckets() { return {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}; }

std::size_t count_events(const std::vector<batch>& bs) {
  std::size_t n = 0;
  for (const auto& b : bs) n += b.events.size();
  return n;
}

// The ids an operator needs to find a refused batch's events (in the logs of the calls module).
std::string event_ids(const batch& b) {
  std::string out;
  constexpr std::size_t shown = 5;
  for (std::size_t i = 0; i < b.events.size() && i < shown; ++i) {
    if (!out.empty()) out += ',';
    out += b.events[i].id;
  }
  if (b.events.size() > shown) out += fmt::format(",...(+{})", b.events.size() - shown);
  return out.empty() ? "-" : out;
}

}  // namespace

committer::committer(asio::any_io_executor io, asio::thread_pool& db_thread, database& db,
                     committer_options o, metrics_registry& metrics, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      db_thread_(db_thread),
      db_(db),
      opts_(o),
      log_(std::move(log)),
      wake_(io),
      capacity_(io),
      latency_(metrics.make_histogram("kazoo_bridge_commit_latency_seconds",
                                      "Duration of one SQLite group-commit transaction", latency_buckets())),
      commits_(metrics.make_counter("kazoo_bridge_commits_total", "SQLite transactions committed")),
      batch_events_(metrics.make_histogram("kazoo_bridge_commit_batch_events",
                                           "Lifecycle events per committed transaction", batch_buckets())),
      pending_gauge_(metrics.make_gauge("kazoo_bridge_store_pending_events",
                                        "Lifecycle events queued and not yet committed")),
      errors_(metrics.make_counter("kazoo_bridge_commit_errors_total", "Failed commit attempts")),
      rejected_(metrics.make_counter("kazoo_bridge_store_rejected_events_total",
                                     "Events of batches SQLite refused (constraint), not stored")) {
  opts_.max_batch_events = std::max<std::size_t>(opts_.max_batch_events, 1);
  // Never reset while producers wait: expires_at() would cancel their waits. Only cancel() wakes.
  capacity_.expires_at(clock::time_point::max());
}

void committer::enqueue(batch b) {
  if (finished_) {
    // run() has returned: nothing would commit this batch. Say so loudly instead of losing it.
    log_->error("batch enqueued after the store committer stopped; not stored events={} ids={}",
                b.events.size(), event_ids(b));
    return;
  }
  pending_events_ += b.events.size();
  pending_gauge_.set(static_cast<double>(pending_events_));
  const auto now = clock::now();
  const bool after_quiet = !last_enqueue_ || now - *last_enqueue_ >= opts_.max_delay;
  last_enqueue_ = now;
  queue_.push_back({std::move(b), now, after_quiet});
  // Wake run() only when that changes its decision: work arrived while idle, or enough events
  // to commit before max_delay. (Each cancel costs a wake-up; most enqueues need none.)
  if (waiting_ == waiting::idle ||
      (waiting_ == waiting::gathering && pending_events_ >= opts_.max_batch_events)) {
    wake_.cancel();
  }
}

awaitable<void> committer::wait_for_capacity() {
  while (pending_events_ > opts_.max_pending_events && !stopping_) {
    auto [ec] = co_await capacity_.async_wait(use_nothrow);
    if (ec && ec != asio::error::operation_aborted) break;
    // operation_aborted is our own release_producers() (or the producer's cancellation, whose
    // next co_await will see it): re-check the condition either way.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) break;
  }
}

void committer::release_producers() {
  if (pending_events_ <= opts_.max_pending_events || stopping_) capacity_.cancel();
}

void committer::stop() {
  if (stopping_) return;
  stopping_ = true;
  drain_deadline_ = clock::now() + opts_.drain_timeout;
  wake_.cancel();
  capacity_.cancel();
}

std::size_t committer::group_size() const {
  if (isolate_ > 0) return 1;
  std::size_t n = 0, events = 0;
  // Whole batches only: the lifecycle events of one batch are committed atomically.
  while (n < queue_.size() && (n == 0 || events < opts_.max_batch_events)) {
    if (n > 0 && events + queue_[n].b.events.size() > opts_.max_batch_events) break;
    events += queue_[n].b.events.size();
    ++n;
  }
  return n;
}

awaitable<bool> committer::commit_group(std::size_t n) {
  inflight_.clear();
  inflight_.reserve(n);
  std::vector<clock::time_point> times;
  times.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    inflight_.push_back(std::move(queue_.front().b));
    times.push_back(queue_.front().at);
    queue_.pop_front();
  }
  const std::size_t events = count_events(inflight_);

  // The DB thread works on inflight_ and inflight_error_ while this coroutine is suspended; the
  // I/O thread touches neither until offload() resumes us (B.5 rule 5, at most one commit in
  // flight). Keeping them here rather than moving them through the lambda means a failed
  // transaction's batches are simply put back in front of the queue.
  inflight_step_ = in_transaction ? in_transaction() : commit_step{};
  auto work = [db = &db_, bs = &inflight_, err = &inflight_error_, step = &inflight_step_]() -> result<commit_stats> {
    auto r = db->commit(std::span<const batch>(*bs), *step);
    if (!r) *err = db->last_error();
    return r;
  };
  const auto t0 = clock::now();
  const result<commit_stats> stats = co_await offload(db_thread_, work);
  const std::string error = std::exchange(inflight_error_, {});
  inflight_step_ = {};

  if (stats) {
    latency_.observe(std::chrono::duration<double>(clock::now() - t0).count());
    commits_.inc();
    batch_events_.observe(static_cast<double>(events));
    pending_events_ -= events;
    pending_gauge_.set(static_cast<double>(pending_events_));
    if (isolate_ > 0) --isolate_;
    if (fail_streak_ > 0) {
      log_->warn("store commit succeeded again after attempts={}", fail_streak_ + 1);
      fail_streak_ = 0;
    }
    backoff_ = std::chrono::milliseconds{0};
    log_->debug("store commit batches={} events={} inserted={} duplicate={} calls={} outbox={}", n,
                events, stats->events_inserted, stats->events_duplicate,
                stats->calls_upserted, stats->outbox_inserted);
    inflight_.clear();
    release_producers();
    if (on_committed) on_committed(*stats);
    co_return true;
  }

  const error_code ec = stats.error();
  errors_.inc();
  if (is_data_error(ec) && n == 1) {
    // Retrying the same rows can never succeed; dropping them keeps one bad batch from blocking
    // every later call. Logged at error level with its ids: an operator (or a bug report) must act.
    rejected_.inc(events);
    log_->error("store refused a batch, its events are not stored: ec={} reason={} events={} ids={}",
                ec.message(), error, events, event_ids(inflight_.front()));
    pending_events_ -= events;
    pending_gauge_.set(static_cast<double>(pending_events_));
    if (isolate_ > 0) --isolate_;
    inflight_.clear();
    release_producers();
    co_return true;
  }

  // Put the batches back in front, in their order, for the next attempt.
  for (std::size_t i = n; i-- > 0;) queue_.push_front({std::move(inflight_[i]), times[i]});
  inflight_.clear();
  if (is_data_error(ec)) {
    // One of the merged batches is refused; find it by committing them one by one.
    isolate_ = n;
    log_->warn("store transaction refused, committing its batches one by one batches={} ec={} reason={}",
               n, ec.message(), error);
    co_return false;
  }
  if (fail_streak_ == 0) {
    log_->error("store commit failed, retrying with backoff (nothing is dropped) ec={} reason={} "
                "pending_events={}",
                ec.message(), error, pending_events_);
  } else {
    log_->debug("store commit failed again attempt={} ec={}", fail_streak_ + 1, ec.message());
  }
  ++fail_streak_;
  backoff_ = backoff_.count() == 0 ? opts_.retry_initial : std::min(backoff_ * 2, opts_.retry_max);
  retry_at_ = clock::now() + backoff_;
  co_return false;
}

awaitable<void> committer::wait_until(waiting why, clock::time_point until) {
  waiting_ = why;
  wake_.expires_at(until);
  co_await wake_.async_wait(use_nothrow);  // expiry or cancel(): run() re-decides either way
  waiting_ = waiting::no;
  auto cs = co_await asio::this_coro::cancellation_state;
  if (cs.cancelled() != asio::cancellation_type::none) stop();
}

awaitable<void> committer::run() {
  // A cancellation of run() is treated as stop(): what is pending must still be committed, so
  // the next co_await must not throw (this_coro::throw_if_cancelled defaults to true).
  co_await asio::this_coro::throw_if_cancelled(false);
  log_->info("store committer started max_delay_ms={} max_batch_events={} max_pending_events={}",
             opts_.max_delay.count(), opts_.max_batch_events, opts_.max_pending_events);

  while (true) {
    // A cancellation emitted while a commit was in flight reached no wait of ours: look for it here.
    if (auto cs = co_await asio::this_coro::cancellation_state; cs.cancelled() != asio::cancellation_type::none) {
      stop();
    }
    if (queue_.empty()) {
      if (stopping_) break;
      co_await wait_until(waiting::idle, clock::time_point::max());
      continue;
    }
    const auto now = clock::now();
    if (fail_streak_ > 0 && stopping_ && now >= drain_deadline_) {
      log_->error("store committer stopped with events not stored: pending_events={} batches={}",
                  pending_events_, queue_.size());
      break;
    }
    if (retry_at_ && now < *retry_at_) {
      co_await wait_until(waiting::backoff, stopping_ ? std::min(*retry_at_, drain_deadline_) : *retry_at_);
      continue;
    }
    retry_at_.reset();
    // Group commit: let the oldest batch wait up to max_delay for others, unless the
    // transaction is already full, we are draining, or it came alone after a quiet spell.
    const auto due = queue_.front().at + opts_.max_delay;
    const bool alone = queue_.size() == 1 && queue_.front().after_quiet;
    if (!stopping_ && isolate_ == 0 && !alone && now < due && pending_events_ < opts_.max_batch_events) {
      co_await wait_until(waiting::gathering, due);
      continue;
    }
    co_await commit_group(group_size());
  }

  // Release anyone still waiting; after this, enqueue() refuses (and logs) new batches.
  finished_ = true;
  capacity_.cancel();
  pending_gauge_.set(static_cast<double>(pending_events_));
  log_->info("store committer stopped pending_events={}", pending_events_);
}

}  // namespace kazoo_bridge::store
