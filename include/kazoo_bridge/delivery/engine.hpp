#pragma once
/// The delivery engine of REST hooks: claims due outbox rows in batches, sends them through
/// per-host lanes (token bucket + concurrency cap), records outcomes in batches.

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/delivery/policy.hpp>
#include <kazoo_bridge/delivery/rate_limit.hpp>
#include <kazoo_bridge/delivery/signature.hpp>
#include <kazoo_bridge/sinks/hook_client.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/outbox_store.hpp>

namespace kazoo_bridge::delivery {

/// The [hooks] settings the engine uses (the app fills them from config::hooks_config).
struct engine_options {
  std::chrono::milliseconds timeout{15000};          ///< [hooks] timeout_s: one attempt, connect included
  std::chrono::milliseconds connect_timeout{5000};   ///< capped by timeout
  double rate_per_host = 30;                         ///< [hooks] rate_per_host: requests/s per target host
  std::size_t concurrency_per_host = 16;             ///< [hooks] concurrency_per_host
  std::vector<seconds> retry_schedule = default_retry_schedule();  ///< [hooks] retry_schedule_s
  milliseconds disable_after{259200000};             ///< [hooks] disable_after_s (3 days)
  std::size_t max_response_bytes = 4096;             ///< [hooks] max_response_bytes
  bool allow_private_targets = false;                ///< [hooks] allow_private_targets
  double jitter = 0.1;                               ///< +-10 % on every retry wait
  milliseconds max_retry_after{std::chrono::hours(24)};  ///< a longer Retry-After is capped
  std::size_t claim_batch = 512;                     ///< rows per claim transaction
  std::size_t max_outstanding = 8192;                ///< claimed and not yet finished, all lanes
  std::size_t max_queued_per_lane = 512;             ///< a lane with this many waiting is not fed
  milliseconds poll_interval{std::chrono::seconds(30)};   ///< safety re-check without notify()
  milliseconds gauge_interval{std::chrono::seconds(5)};   ///< pending/retrying gauges refresh
  milliseconds attempt_log_retention{std::chrono::hours(24 * 7)};  ///< hook_deliveries kept 7 days
  /// Successful attempts are written to the attempt log in one transaction this long after the first
  /// of them (their outbox rows are finished at once): a log row costs a write of its hook's index page,
  /// so at 8 deliveries/s per hook a second's rows share one page write instead of eight. Failed
  /// attempts are logged at once, after the hook's waiting successes. 0: everything with its outcome.
  milliseconds attempt_log_delay{1000};
  std::size_t max_deferred_log = 20000;              ///< waiting successes that trigger the write early
  std::function<std::int64_t()> now_ms{};            ///< wall clock (Unix ms); empty: the system clock
};

/// Thread: I/O thread (the `io` executor) for every member; the database is touched only on
///   `db_thread` through offload(), in batched transactions (claim, finish).
/// Lifetime: `db`, `db_thread`, `metrics` outlive it; call stop(), then await run() before
///   destroying it. The callbacks are called on the I/O thread and must not destroy the engine.
/// Cancellation: stop() makes run() stop claiming, wait for the attempts in progress (each ends
///   within `timeout`), record their outcomes, and return. Rows claimed but not yet attempted stay
///   in_flight in the database and are resumed by the next run() (same webhook-id).
/// Errors: none escape. A failing database transaction is logged and retried with backoff; a
///   failing attempt is an outcome (retry/failed/gone), recorded in hook_deliveries.
class engine {
  using clock_time = std::chrono::steady_clock::time_point;

 public:
  engine(asio::any_io_executor io, asio::thread_pool& db_thread, store::database& db, engine_options o,
         metrics_registry& metrics, std::shared_ptr<spdlog::logger> log,
         std::shared_ptr<asio::ssl::context> tls);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Until stop(); resumes every in_flight outbox row at start (crash recovery).
  awaitable<void> run();
  void stop();
  /// New outbox rows may be due now (after a commit, a replay, a re-enable).
  void notify();

  /// For store::committer::in_transaction: a step that claims, inside the commit's own transaction,
  /// the deliveries that transaction queues (outbox_store::claim_fresh), within the engine's limits,
  /// so they are sent the moment it commits instead of after a claim transaction of their own.
  /// Empty until run() has resumed the last run's rows, and after stop(). One at a time: a
  /// claim_step() not followed by committed() was a transaction that failed and rolled its claim back
  /// with everything else; the next claim_step() forgets it.
  store::commit_step claim_step();
  /// After the transaction of the last claim_step() committed: sends what its step claimed. Returns
  /// how many rows that was (the rest of the transaction's rows are for notify()).
  std::size_t committed();

  /// Called on the I/O thread when delivery deleted (410) or disabled (failing too long) a hook,
  /// so the subscription index stops matching it.
  std::function<void(const std::string& hook_id)> on_hook_deleted, on_hook_disabled;

  /// Attempts in progress and claimed rows waiting in lanes (tests, metrics).
  std::size_t in_progress() const { return in_progress_; }
  std::size_t queued() const { return queued_; }

 private:
  struct lane {
    lane(asio::any_io_executor ex, double rate, std::size_t concurrency)
        : bucket(rate, std::max(1.0, rate), std::chrono::steady_clock::now()), cap(concurrency), timer(ex) {}
    token_bucket bucket;
    concurrency_cap cap;
    std::deque<store::claimed_delivery> queue;
    asio::steady_timer timer;
    bool timer_armed = false;
  };

  std::int64_t now_ms() const;
  awaitable<void> claim_loop();
  awaitable<void> flusher();
  awaitable<void> gauges();
  awaitable<void> attempt(store::claimed_delivery d, lane* l);
  awaitable<void> lane_timer(lane* l);
  void dispatch(store::claimed_delivery d);
  void pump(lane& l);
  lane& lane_for(const std::string& target_url);
  std::vector<std::string> saturated_destinations() const;
  void drop_queued(const std::string& hook_id);
  result<std::string> sign_attempt(const std::string& secret, std::string_view webhook_id, std::int64_t ts,
                                   std::string_view body);
  bool deferred_log_due(bool draining) const;
  std::size_t plan_log(bool flush_deferred);
  void defer_successes();
  void restore_deferred(std::size_t n);
  void wake_waiters();
  std::int64_t lease_ms() const;
  void forget_fresh();

  asio::any_io_executor io_;
  asio::thread_pool& db_thread_;
  store::database& db_;
  engine_options opts_;
  std::shared_ptr<spdlog::logger> log_;
  sinks::hook_client client_;
  std::unique_ptr<store::outbox_store> store_;  // created on the DB thread in run()
  // Lanes are never removed while the engine runs, so a lane* stays valid (attempts and timers keep one).
  std::unordered_map<std::string, std::unique_ptr<lane>> lanes_;     // by host
  std::unordered_map<std::string, lane*> lane_of_url_;              // target URL -> its host's lane
  std::vector<store::delivery_result> results_, flushing_;
  // The attempt log's batching (attempt_log_delay): successes finished but not logged yet, oldest
  // first; how many of them each hook has; when the oldest was finished. log_now_ is what the finish
  // in flight logs; defer_ the indexes of flushing_ that wait once it succeeds.
  std::deque<store::delivery_result> deferred_log_;
  std::unordered_map<std::string, std::size_t> deferred_per_hook_;
  clock_time deferred_since_{};
  std::vector<store::delivery_result> log_now_;
  std::vector<std::size_t> defer_;
  std::vector<std::string> skip_;  // saturated destinations of the claim in progress
  // claim_step()'s claim: what it reserved of max_outstanding, and what its step found on the DB thread
  // (which alone touches rows/error/skip between claim_step() and committed()).
  struct fresh_claim {
    bool open = false;
    std::size_t reserved = 0;
    std::vector<std::string> skip;
    std::vector<store::claimed_delivery> rows;
    error_code error;
  } fresh_;
  bool claiming_ = false;  // run() has resumed the last run's rows: claim_step() may claim
  std::unordered_map<std::string, signer> signers_;  // by secret: decoded and keyed once, not per attempt
  std::mt19937_64 rng_;
  asio::steady_timer claim_wake_, flush_wake_, done_, gauge_wake_;
  bool notified_ = false, stopping_ = false, flusher_running_ = false, gauges_running_ = false;
  std::size_t in_progress_ = 0, queued_ = 0, unfinished_ = 0, timers_running_ = 0;  // unfinished: claimed, outcome not stored

  counter &delivered_, &retried_, &failed_, &gone_, &disabled_;
  histogram& latency_;
  gauge &pending_, &retrying_;
};

}  // namespace kazoo_bridge::delivery
