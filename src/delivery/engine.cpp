#include <kazoo_bridge/delivery/engine.hpp>

#include <algorithm>
#include <unordered_set>

#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/delivery/signature.hpp>
#include <kazoo_bridge/net/url.hpp>

// GCC 12 false -Wmismatched-new-delete around Asio's awaitable frame allocator (GCC bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace kazoo_bridge::delivery {
namespace {

using clock = std::chrono::steady_clock;

sinks::hook_client_options client_options(const engine_options& o) {
  sinks::hook_client_options c;
  c.total_timeout = o.timeout;
  c.connect_timeout = std::min(o.connect_timeout, o.timeout);
  c.max_response_bytes = o.max_response_bytes;
  c.allow_private_targets = o.allow_private_targets;
  c.max_idle_per_origin = std::max<std::size_t>(o.concurrency_per_host, 1);
  return c;
}

// Webhook latency spans seconds (a 2xx at once) to a day (after retries), unlike the
// sub-millisecond latency_buckets().
std::vector<double> delivery_latency_buckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400};
}

// The lane of a target: its host (rate limits and concurrency are per receiving host: every
// Zapier hook shares hooks.zapier.com).
std::string lane_of(const std::string& target_url) {
  auto u = net::parse_url(target_url);
  return u ? u->host : std::string();
}

// For logs: scheme://host/path, never the query (tokens travel in hook URLs' queries) nor userinfo.
std::string loggable(const std::string& target_url) {
  auto u = net::parse_url(target_url);
  if (!u) return "<invalid url>";
  return u->scheme + "://" + u->authority() + u->target.substr(0, u->target.find('?'));
}

constexpr std::string_view hook_prefix = "hook:";

// Entries kept in the per-URL and per-secret caches before they start over.
constexpr std::size_t cache_limit = 10'000;

}  // namespace

engine::engine(asio::any_io_executor io, asio::thread_pool& db_thread, store::database& db, engine_options o,
               metrics_registry& metrics, std::shared_ptr<spdlog::logger> log,
               std::shared_ptr<asio::ssl::context> tls)
    : io_(io),
      db_thread_(db_thread),
      db_(db),
      opts_(std::move(o)),
      log_(std::move(log)),
      client_(io, std::move(tls), client_options(opts_)),
      rng_(std::random_device{}()),
      claim_wake_(io),
      flush_wake_(io),
      done_(io),
      gauge_wake_(io),
      delivered_(metrics.make_counter("kazoo_bridge_deliveries_total", "hook delivery attempts by outcome",
                                      {{"outcome", "delivered"}})),
      retried_(metrics.make_counter("kazoo_bridge_deliveries_total", "hook delivery attempts by outcome",
                                    {{"outcome", "retry"}})),
      failed_(metrics.make_counter("kazoo_bridge_deliveries_total", "hook delivery attempts by outcome",
                                   {{"outcome", "failed"}})),
      gone_(metrics.make_counter("kazoo_bridge_deliveries_total", "hook delivery attempts by outcome",
                                 {{"outcome", "gone"}})),
      disabled_(metrics.make_counter("kazoo_bridge_hooks_disabled_total",
                                     "hooks disabled after failing for [hooks] disable_after_s")),
      latency_(metrics.make_histogram("kazoo_bridge_delivery_latency_seconds",
                                      "from the lifecycle event's time to its 2xx delivery",
                                      delivery_latency_buckets())),
      pending_(metrics.make_gauge("kazoo_bridge_deliveries_pending", "hook deliveries waiting (first or retry)")),
      retrying_(metrics.make_gauge("kazoo_bridge_deliveries_retrying",
                                   "hook deliveries waiting after a failed attempt")) {
  claim_wake_.expires_at(clock::time_point::max());
  flush_wake_.expires_at(clock::time_point::max());
  done_.expires_at(clock::time_point::max());
  gauge_wake_.expires_at(clock::time_point::max());
}

engine::~engine() = default;

std::int64_t engine::now_ms() const { return opts_.now_ms ? opts_.now_ms() : now_unix_ms(); }

void engine::notify() {
  notified_ = true;
  claim_wake_.cancel();
}

void engine::stop() {
  if (stopping_) return;
  stopping_ = true;
  claim_wake_.cancel();
  flush_wake_.cancel();
  gauge_wake_.cancel();
  for (auto& [key, l] : lanes_) l->timer.cancel();
  wake_waiters();
}

void engine::wake_waiters() { done_.cancel(); }

awaitable<void> engine::run() {
  auto& db = db_;
  store_ = co_await offload(db_thread_, [&db] { return std::make_unique<store::outbox_store>(db); });
  auto* st = store_.get();
  const auto start_ms = now_ms();
  auto resumed = co_await offload(db_thread_, [st, start_ms] { return st->resume_in_flight(start_ms); });
  if (!resumed) {
    log_->error("delivery: cannot resume in-flight deliveries: {}", resumed.error().message());
  } else if (*resumed > 0) {
    log_->warn("delivery: resumed {} deliveries that were in flight when the daemon stopped "
               "(they are sent again with the same webhook-id)", *resumed);
  }
  claiming_ = !stopping_;
  flusher_running_ = true;
  spawn_logged(io_, [this]() -> awaitable<void> { co_await flusher(); }, "delivery-flusher", log_);
  gauges_running_ = true;
  spawn_logged(io_, [this]() -> awaitable<void> { co_await gauges(); }, "delivery-gauges", log_);
  co_await claim_loop();
  // Drain: attempts in progress end within the timeout; the flusher stores their outcomes.
  while (in_progress_ > 0 || flusher_running_ || gauges_running_ || timers_running_ > 0) {
    flush_wake_.cancel();
    gauge_wake_.cancel();
    co_await done_.async_wait(use_nothrow);
    done_.expires_at(clock::time_point::max());
  }
  client_.close_idle();
  log_->info("delivery: stopped; {} claimed deliveries left for the next start", queued_);
}

awaitable<void> engine::claim_loop() {
  auto* st = store_.get();
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    notified_ = false;
    bool full_batch = false;
    const auto now = now_ms();  // the claim's "due" time; rows due by then and left are held back
    if (unfinished_ < opts_.max_outstanding) {
      const auto limit = std::min(opts_.claim_batch, opts_.max_outstanding - unfinished_);
      // A member, not a lambda capture: GCC 12 may destroy a vector captured by the offloaded
      // lambda twice (see offload() in common/asio.hpp); only the claim loop touches skip_.
      skip_ = saturated_destinations();
      const auto* skip = &skip_;
      const std::int64_t lease = lease_ms();
      auto claimed = co_await offload(db_thread_, [st, now, lease, limit, skip] {
        return st->claim(now, lease, limit, *skip);
      });
      if (!claimed) {
        log_->error("delivery: claiming due deliveries failed: {}; retrying in {} ms", claimed.error().message(),
                    backoff.count());
        claim_wake_.expires_after(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        co_await claim_wake_.async_wait(use_nothrow);
        continue;
      }
      backoff = std::chrono::milliseconds(100);
      full_batch = claimed->size() == limit;
      for (auto& d : *claimed) dispatch(std::move(d));
    }
    if (stopping_) break;
    if (full_batch && unfinished_ < opts_.max_outstanding) continue;  // more may be due right now
    if (notified_) continue;
    // Sleep until the next row that falls due after this claim (or notify(), or the safety poll).
    // Rows due already that the claim left wait for a finished attempt, which notifies: asking
    // for them again at once would spin the DB thread while a lane is full.
    auto next = co_await offload(db_thread_, [st, now] { return st->next_due_ms(now); });
    if (stopping_) break;
    if (notified_) continue;
    auto wait = opts_.poll_interval;
    if (next && *next && unfinished_ < opts_.max_outstanding) {
      wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(0, **next - now_ms())));
    }
    if (wait.count() == 0) continue;
    claim_wake_.expires_after(wait);
    co_await claim_wake_.async_wait(use_nothrow);
  }
}

// The lease only documents when a claim was made; recovery is resume_in_flight() at start.
std::int64_t engine::lease_ms() const { return opts_.timeout.count() * 4 + 60'000; }

store::commit_step engine::claim_step() {
  forget_fresh();
  if (!claiming_ || stopping_ || unfinished_ >= opts_.max_outstanding) return {};
  fresh_.open = true;
  fresh_.reserved = std::min(opts_.claim_batch, opts_.max_outstanding - unfinished_);
  unfinished_ += fresh_.reserved;  // so the claim loop, meanwhile, cannot claim past max_outstanding
  fresh_.skip = saturated_destinations();
  return [st = store_.get(), f = &fresh_, now = now_ms(), lease = lease_ms()](std::span<const store::batch> batches,
                                                                              const store::commit_stats& s) {
    if (s.first_outbox_id == 0) return;
    auto rows = st->claim_fresh(batches, s.first_outbox_id, now, lease, f->reserved, f->skip);
    if (rows) {
      f->rows = std::move(*rows);
    } else {
      f->error = rows.error();
    }
  };
}

void engine::forget_fresh() {
  if (!fresh_.open) return;
  fresh_.open = false;
  unfinished_ -= fresh_.reserved;
  fresh_.reserved = 0;
  fresh_.rows.clear();
  fresh_.error = {};
}

std::size_t engine::committed() {
  if (!fresh_.open) return 0;
  if (fresh_.error) {
    // The rows stay pending; the claim loop (notified for them) sends them.
    log_->warn("delivery: claiming the deliveries of a commit in its transaction failed: {}; "
               "they are claimed after it instead", fresh_.error.message());
  }
  auto rows = std::move(fresh_.rows);
  forget_fresh();
  // After stop(), they stay in_flight in the database, resumed by the next run() like every claimed
  // row not attempted yet.
  if (!stopping_) {
    for (auto& d : rows) dispatch(std::move(d));
  }
  return rows.size();
}

std::vector<std::string> engine::saturated_destinations() const {
  // No lane can hold max_queued_per_lane when all of them together hold fewer: the usual case, and
  // walking 1,000 lanes before every claim cost 5% of the I/O thread (perf, 1,000 hooks).
  if (queued_ < opts_.max_queued_per_lane) return {};
  std::set<std::string> out;
  for (const auto& [key, l] : lanes_) {
    if (l->queue.size() < opts_.max_queued_per_lane) continue;
    for (const auto& d : l->queue) out.insert(d.destination);
  }
  return {out.begin(), out.end()};
}

engine::lane& engine::lane_for(const std::string& target_url) {
  // parse_url once per URL, not per delivery: a URL maps to its host's lane for the engine's life.
  auto cached = lane_of_url_.find(target_url);
  if (cached != lane_of_url_.end()) return *cached->second;
  auto& l = lanes_[lane_of(target_url)];
  if (!l) l = std::make_unique<lane>(io_, opts_.rate_per_host, opts_.concurrency_per_host);
  // Subscriptions come and go, each with a URL of its own: keep the cache bounded (lanes stay).
  if (lane_of_url_.size() >= cache_limit) lane_of_url_.clear();
  lane_of_url_.emplace(target_url, l.get());
  return *l;
}

void engine::dispatch(store::claimed_delivery d) {
  auto& l = lane_for(d.target_url);
  l.queue.push_back(std::move(d));
  ++queued_;
  ++unfinished_;
  pump(l);
}

void engine::pump(lane& l) {
  while (!l.queue.empty() && !stopping_) {
    if (l.cap.full()) return;  // a finishing attempt pumps again
    const auto now = clock::now();
    if (!l.bucket.try_take(now)) {
      if (!l.timer_armed) {
        l.timer_armed = true;
        ++timers_running_;
        l.timer.expires_after(l.bucket.wait_time(now));
        spawn_logged(io_, [this, lp = &l]() -> awaitable<void> { co_await lane_timer(lp); }, "delivery-lane", log_);
      }
      return;
    }
    l.cap.try_acquire();
    auto d = std::move(l.queue.front());
    l.queue.pop_front();
    --queued_;
    ++in_progress_;
    spawn_logged(io_, [this, d = std::move(d), lp = &l]() mutable -> awaitable<void> {
      co_await attempt(std::move(d), lp);
    }, "delivery-attempt", log_);
  }
}

awaitable<void> engine::lane_timer(lane* l) {
  co_await l->timer.async_wait(use_nothrow);
  l->timer_armed = false;
  --timers_running_;
  if (stopping_) {
    wake_waiters();
  } else {
    pump(*l);
  }
}

awaitable<void> engine::attempt(store::claimed_delivery d, lane* l) {
  const auto attempted_at = now_ms();
  store::delivery_result r;
  r.outbox_id = d.outbox_id;
  r.hook_id = std::move(d.hook_id);
  r.event_id = d.event_id;
  r.attempt = d.attempts + 1;
  r.attempted_at_ms = attempted_at;

  // Standard Webhooks: webhook-id is the event id (the same on every attempt and after a crash),
  // the timestamp and so the signature are fresh per attempt.
  const std::int64_t ts = attempted_at / 1000;
  std::optional<int> status;
  std::optional<std::string> retry_after;
  auto signature = sign_attempt(d.secret, d.event_id, ts, *d.payload);
  if (!signature) {
    r.error = "the hook's secret is not a valid whsec_ secret";
  } else {
    // A named request, not a braced temporary in the co_await expression: GCC 12 destroys such a
    // temporary twice (the same family of bugs as offload()'s note in common/asio.hpp).
    // d's strings are not needed after this (r has the ids): moved, not copied.
    sinks::hook_request req{std::move(d.target_url), std::move(d.payload), std::move(d.event_id), ts,
                            std::move(*signature)};
    auto res = co_await client_.post(std::move(req));
    r.duration_ms = res.duration.count();
    status = res.status;
    retry_after = res.retry_after;
    if (res.status) {
      r.status_code = *res.status;
      if (!res.snippet.empty()) r.response_snippet = std::move(res.snippet);
    } else {
      r.error = res.error_text;
    }
  }
  auto o = signature ? classify(status) : outcome::failed;
  if (o == outcome::retry) {
    std::optional<milliseconds> wait;
    if (retry_after) wait = parse_retry_after(*retry_after, now_ms(), opts_.max_retry_after);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto next = next_attempt_at(opts_.retry_schedule, r.attempt, now_ms(), wait, unit(rng_), opts_.jitter);
    if (next) {
      r.next_attempt_at_ms = *next;
    } else {
      o = outcome::failed;
      r.error = "retry schedule exhausted after " + std::to_string(r.attempt) + " attempts" +
                (r.error ? ": " + *r.error : std::string());
    }
  } else if (o == outcome::failed && status && !r.error) {
    r.error = *status >= 300 && *status < 400 ? "redirect not followed (HTTP " + std::to_string(*status) + ")"
                                               : "HTTP " + std::to_string(*status);
  }
  r.outcome = std::string(to_string(o));
  switch (o) {
    case outcome::delivered:
      delivered_.inc();
      latency_.observe(static_cast<double>(std::max<std::int64_t>(0, now_ms() - d.occurred_at_ms)) / 1000.0);
      break;
    case outcome::retry: retried_.inc(); break;
    case outcome::failed: failed_.inc(); break;
    case outcome::gone: gone_.inc(); break;
  }
  if (o != outcome::delivered) {
    log_->debug("delivery: hook={} event={} attempt={} outcome={} status={} error={}", r.hook_id, r.event_id,
                r.attempt, r.outcome, r.status_code ? std::to_string(*r.status_code) : "-", r.error.value_or("-"));
  }
  results_.push_back(std::move(r));
  flush_wake_.cancel();
  --in_progress_;
  l->cap.release();
  pump(*l);
  if (stopping_) wake_waiters();
}

bool engine::deferred_log_due(bool draining) const {
  return !deferred_log_.empty() && (draining || deferred_log_.size() >= opts_.max_deferred_log ||
                                    clock::now() >= deferred_since_ + opts_.attempt_log_delay);
}

// Fills log_now_ with what the next finish() logs, and defer_ with the successes of flushing_ that
// wait. A hook's attempts are logged in the order they were made (the API lists them by log id):
// when one of its attempts must be logged now (not a success), its waiting successes go first.
// Returns how many entries of log_now_ (its front) came from deferred_log_.
std::size_t engine::plan_log(bool flush_deferred) {
  log_now_.clear();
  defer_.clear();
  std::unordered_set<std::string_view> now_hooks;  // hooks with an attempt to log now
  for (const auto& r : flushing_) {
    if (r.outcome != "delivered") now_hooks.insert(r.hook_id);
  }
  std::size_t from_deferred = 0;
  const auto waiting = [&](std::string_view hook) {
    auto it = deferred_per_hook_.find(std::string(hook));
    return it != deferred_per_hook_.end() && it->second > 0;
  };
  bool extract = flush_deferred;
  for (const auto hook : now_hooks) extract = extract || waiting(hook);
  if (extract) {
    std::deque<store::delivery_result> kept;
    for (auto& r : deferred_log_) {
      if (flush_deferred || now_hooks.contains(r.hook_id)) {
        --deferred_per_hook_[r.hook_id];
        log_now_.push_back(std::move(r));
      } else {
        kept.push_back(std::move(r));
      }
    }
    deferred_log_ = std::move(kept);
    from_deferred = log_now_.size();
  }
  for (std::size_t i = 0; i < flushing_.size(); ++i) {
    const auto& r = flushing_[i];
    if (r.outcome != "delivered" || now_hooks.contains(r.hook_id)) {
      log_now_.push_back(r);
    } else {
      defer_.push_back(i);
    }
  }
  return from_deferred;
}

// After a successful finish(): the successes it did not log join the waiting ones.
void engine::defer_successes() {
  if (!defer_.empty() && deferred_log_.empty()) deferred_since_ = clock::now();
  for (auto i : defer_) {
    ++deferred_per_hook_[flushing_[i].hook_id];
    deferred_log_.push_back(std::move(flushing_[i]));
  }
  defer_.clear();
}

// After a failed finish(): the waiting successes it took go back in front, in their order.
void engine::restore_deferred(std::size_t n) {
  if (n > 0 && deferred_log_.empty()) deferred_since_ = clock::now();
  for (std::size_t i = n; i-- > 0;) {
    ++deferred_per_hook_[log_now_[i].hook_id];
    deferred_log_.push_front(std::move(log_now_[i]));
  }
  log_now_.clear();
}

awaitable<void> engine::flusher() {
  auto* st = store_.get();
  auto backoff = std::chrono::milliseconds(100);
  const bool batch_log = opts_.attempt_log_delay.count() > 0;
  for (;;) {
    const bool draining = stopping_ && in_progress_ == 0;
    const bool log_due = deferred_log_due(draining);
    if (results_.empty() && !log_due) {
      if (draining) break;
      flush_wake_.expires_at(deferred_log_.empty() ? clock::time_point::max()
                                                   : deferred_since_ + opts_.attempt_log_delay);
      co_await flush_wake_.async_wait(use_nothrow);
      continue;
    }
    // The batch lives in members while the DB thread reads it (only the flusher touches them).
    flushing_ = std::move(results_);
    results_.clear();
    const std::size_t from_deferred = batch_log ? plan_log(log_due) : 0;
    auto* batch = &flushing_;
    auto* log = batch_log ? &log_now_ : &flushing_;
    const auto now = now_ms();
    const auto disable_after = opts_.disable_after.count();
    auto stats = co_await offload(db_thread_, [st, batch, log, now, disable_after] {
      return st->finish(*batch, *log, now, disable_after);
    });
    if (!stats) {
      // Keep the outcomes (in order, before newer ones) and try again: an attempt is never lost
      // because SQLite was busy or the disk full for a moment.
      log_->error("delivery: recording {} delivery outcomes failed: {}; retrying in {} ms", batch->size(),
                  stats.error().message(), backoff.count());
      results_.insert(results_.begin(), std::make_move_iterator(batch->begin()),
                      std::make_move_iterator(batch->end()));
      restore_deferred(from_deferred);
      defer_.clear();
      flush_wake_.expires_after(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      co_await flush_wake_.async_wait(use_nothrow);
      if (stopping_ && backoff >= std::chrono::milliseconds(5000)) {
        log_->error("delivery: giving up recording {} outcomes and {} attempt log rows at shutdown; the outcomes "
                    "are resumed at the next start",
                    results_.size(), deferred_log_.size());
        break;
      }
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    log_now_.clear();
    unfinished_ -= std::min(unfinished_, batch->size());
    for (const auto& id : stats->deleted_hooks) {
      log_->warn("delivery: hook {} answered 410 Gone; the subscription is deleted", id);
      drop_queued(id);
      if (on_hook_deleted) on_hook_deleted(id);
    }
    for (const auto& [id, target_url] : stats->disabled_hooks) {
      disabled_.inc();
      std::string where;
      for (const auto& r : *batch) {
        if (r.hook_id == id) where = r.error.value_or(r.status_code ? "HTTP " + std::to_string(*r.status_code) : "");
      }
      log_->error("delivery: hook {} ({}) disabled: no successful delivery for {} s (last error: {}); re-enable "
                  "it with PATCH /api/v1/hooks/{} {{\"status\":\"active\"}}",
                  id, loggable(target_url),
                  opts_.disable_after.count() / 1000, where, id);
      if (on_hook_disabled) on_hook_disabled(id);
    }
    if (batch_log) defer_successes();  // after the loops above, which read the batch
    // Finished rows may unblock the next event of the same call: claim again.
    notify();
  }
  flusher_running_ = false;
  wake_waiters();
}

result<std::string> engine::sign_attempt(const std::string& secret, std::string_view webhook_id, std::int64_t ts,
                                         std::string_view body) {
  auto it = signers_.find(secret);
  if (it == signers_.end()) {
    // Subscriptions come and go (Zapier subscribes when a Zap is turned on): keep the cache bounded.
    if (signers_.size() >= cache_limit) signers_.clear();
    auto made = signer::make(secret);
    if (!made) return made.error();
    it = signers_.emplace(secret, std::move(*made)).first;
  }
  return it->second.sign(webhook_id, ts, body);
}

void engine::drop_queued(const std::string& hook_id) {
  const auto destination = std::string(hook_prefix) + hook_id;
  for (auto& [key, l] : lanes_) {
    const auto before = l->queue.size();
    std::erase_if(l->queue, [&](const store::claimed_delivery& d) { return d.destination == destination; });
    const auto dropped = before - l->queue.size();
    queued_ -= dropped;
    unfinished_ -= std::min(unfinished_, dropped);
  }
}

awaitable<void> engine::gauges() {
  auto* st = store_.get();
  // Retention work waits an hour after start: nothing is urgent about it, and a restart loop must not
  // turn it into a burst of deletes.
  std::int64_t last_prune = now_ms();
  while (!stopping_) {
    auto counts = co_await offload(db_thread_, [st] { return st->counts(); });
    if (counts) {
      pending_.set(static_cast<double>(counts->pending));
      retrying_.set(static_cast<double>(counts->retrying));
    }
    const auto now = now_ms();
    if (now - last_prune >= 3'600'000) {
      last_prune = now;
      const auto before = now - opts_.attempt_log_retention.count();
      auto pruned = co_await offload(db_thread_, [st, before] { return st->prune_deliveries(before); });
      if (pruned && *pruned > 0) log_->info("delivery: pruned {} attempt log rows older than 7 days", *pruned);
      // Finished outbox rows go after the same 7 days, 10,000 per transaction between commits.
      std::int64_t removed = 0;
      for (int slice = 0; slice < 100 && !stopping_; ++slice) {
        auto n = co_await offload(db_thread_, [st, before] { return st->prune_finished(before, 10'000); });
        if (!n || *n == 0) break;
        removed += *n;
      }
      if (removed > 0) log_->info("delivery: pruned {} finished outbox rows older than 7 days", removed);
    }
    if (stopping_) break;
    gauge_wake_.expires_after(opts_.gauge_interval);
    co_await gauge_wake_.async_wait(use_nothrow);
  }
  gauges_running_ = false;
  wake_waiters();
}

}  // namespace kazoo_bridge::delivery
