#include <kazoo_bridge/app/application.hpp>
#include <kazoo_bridge/app/http_routes.hpp>

#include <atomic>
#include <stdexcept>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include <kazoo_bridge/app/pipeline.hpp>
#include <kazoo_bridge/app/sd_notify.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/kazoo/blackhole_client.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>
#include <kazoo_bridge/kazoo/directory_refresher.hpp>
#include <kazoo_bridge/net/http_client.hpp>
#include <kazoo_bridge/net/http_server.hpp>
#include <kazoo_bridge/net/router.hpp>
#include <kazoo_bridge/delivery/engine.hpp>
#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/store/call_history.hpp>
#include <kazoo_bridge/store/committer.hpp>
#include <kazoo_bridge/oauth/service.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/hook_store.hpp>
#include <kazoo_bridge/store/oauth_store.hpp>

namespace kazoo_bridge::app {
namespace {

// Runs `task` and keeps `running` true while it does, so the shutdown sequence can wait for each stage.
awaitable<void> tracked(awaitable<void> task, bool* running) {
  *running = true;
  try {
    co_await std::move(task);
  } catch (...) {
    *running = false;
    throw;
  }
  *running = false;
}

awaitable<void> wait_until_false(asio::any_io_executor ex, const bool* flag) {
  asio::steady_timer t(ex);
  while (*flag) {
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(use_nothrow);
  }
}

// [hooks] keys the subscription API applies (the delivery engine reads the others).
api::hook_options hook_options_of(const config::config& cfg) {
  api::hook_options o;
  o.allow_private_targets = cfg.hooks.allow_private_targets;
  o.max_hooks_per_user = cfg.hooks.max_per_user;
  return o;
}

}  // namespace

/// Calls that ended this recently before a start are remembered (reconciliation overlap is 2 minutes).
inline constexpr std::int64_t recently_ended_window_ms = 15 * 60 * 1000;

store::options storage_options(const config::config& cfg) {
  store::options o;  // not designated: the busy timeout keeps its default
  o.path = cfg.storage.database;
  o.synchronous = cfg.storage.synchronous;
  o.cache_kib = static_cast<int>(cfg.storage.cache_mb * 1024);
  return o;
}

oauth::service_options oauth_options(const config::config& cfg) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  const auto& o = cfg.oauth;
  oauth::service_options so;
  so.issuer = cfg.server.public_url;
  so.access_token_ttl = duration_cast<seconds>(o.access_token_ttl);
  so.refresh_token_ttl = duration_cast<seconds>(o.refresh_token_ttl);
  so.refresh_grace = duration_cast<seconds>(o.refresh_grace);
  so.code_ttl = duration_cast<seconds>(o.code_ttl);
  so.form_ttl = duration_cast<seconds>(o.login_form_ttl);
  so.throttle = oauth::login_throttle_options{.per_ip = o.login_attempts_per_ip,
                                              .per_user = o.login_attempts_per_user,
                                              .window_ms = o.login_window.count()};
  return so;
}

// [hooks] as the delivery engine takes it (the keys are validated by config, so the schedule parses).
delivery::engine_options delivery_options_of(const config::hooks_config& h) {
  delivery::engine_options o;
  o.timeout = h.timeout;
  o.rate_per_host = static_cast<double>(h.rate_per_host);
  o.concurrency_per_host = h.concurrency_per_host;
  o.retry_schedule = config::parse_retry_schedule(h.retry_schedule_s).value_or(delivery::default_retry_schedule());
  o.disable_after = h.disable_after;
  o.max_response_bytes = h.max_response_bytes;
  o.allow_private_targets = h.allow_private_targets;
  return o;
}

struct application::impl {
  config::config cfg;
  std::shared_ptr<spdlog::logger> log_app, log_ingest, log_store, log_api, log_calls, log_oauth, log_delivery;

  asio::io_context ioc{1};
  asio::thread_pool db_pool{1};
  metrics_registry metrics;

  std::unique_ptr<store::database> db;
  std::unique_ptr<store::call_history> history;  // the API's reads; DB thread only
  std::unique_ptr<store::committer> committer;
  calls::tracker tracker;
  std::shared_ptr<asio::ssl::context> client_tls;
  std::unique_ptr<net::http_client> http;
  std::unique_ptr<kazoo::crossbar_client> crossbar;
  std::unique_ptr<kazoo::token_source> tokens;
  std::unique_ptr<kazoo::ingest_channel> channel;
  std::unique_ptr<kazoo::blackhole_client> ingest;
  std::unique_ptr<kazoo::directory_refresher> directory;
  std::unique_ptr<pipeline> pipe;
  std::unique_ptr<store::oauth_store> oauth_store;      // on db's connection, used on the DB thread only
  std::unique_ptr<kazoo::crossbar_client> oauth_crossbar;  // user logins, logged under "oauth"
  std::unique_ptr<oauth::service> oauth;
  std::unique_ptr<store::hook_store> hook_store;  // on db's connection, used on the DB thread only
  delivery::subscription_index subscriptions;     // I/O thread: the pipeline's fan-out, the API's changes
  std::unique_ptr<delivery::engine> deliveries;  // REST hook deliveries from the outbox
  /// New outbox rows may be due (a commit that queued some, a replay, a re-enable).
  void wake_delivery() {
    if (deliveries) deliveries->notify();
  }
  std::unique_ptr<kazoo::crossbar_client> dial_crossbar;  // click-to-call, logged under "api"
  net::router router;
  std::unique_ptr<net::http_server> server;
  asio::steady_timer watchdog_timer{ioc};
  asio::steady_timer fallback_timer{ioc};
  asio::signal_set signals{ioc, SIGINT, SIGTERM, SIGHUP};

  bool ingest_running = false, pipeline_running = false, committer_running = false, server_running = false,
       delivery_running = false;
  bool stopping = false;

  impl(config::config c, const log_factory& logs)
      : cfg(std::move(c)),
        log_app(logs.get("app")),
        log_ingest(logs.get("ingest")),
        log_store(logs.get("store")),
        log_api(logs.get("api")),
        log_calls(logs.get("calls")),
        log_oauth(logs.get("oauth")),
        log_delivery(logs.get("delivery")),
        tracker(calls::tracker_options{.include_internal_calls = cfg.kazoo.include_internal_calls,
                                       .stale_call_timeout_ms = cfg.kazoo.stale_call_timeout.count()}) {}

  awaitable<void> remove_grant_hooks(std::string grant_id) {
    auto work = [h = hook_store.get(), grant_id, t = now_unix_ms()]() { return h->remove_by_grant(grant_id, t); };
    auto removed = co_await offload(db_pool, work);
    if (!removed) {
      // The tokens are revoked already (the API refuses them); the hooks stay until deleted by hand.
      log_api->error("cannot remove the hooks of a revoked grant ec={}", removed.error().message());
      co_return;
    }
    for (const auto& id : *removed) subscriptions.erase(id);
    if (!removed->empty()) log_api->info("hooks of a revoked grant removed count={}", removed->size());
  }

  awaitable<void> shutdown() {
    if (stopping) co_return;
    stopping = true;
    sd_notify("STOPPING=1");
    log_app->info("stopping: draining ingest and the store");
    auto ex = ioc.get_executor();
    // Second stage: if the drain hangs, drop what is left (the outbox and reconciliation make that safe).
    fallback_timer.expires_after(std::chrono::seconds(20));
    fallback_timer.async_wait([this](error_code ec) {
      if (!ec) {
        log_app->error("graceful stop took longer than 20 s; stopping hard");
        ioc.stop();
      }
    });
    watchdog_timer.cancel();
    if (server) server->stop();          // no new work
    if (deliveries) deliveries->stop();  // attempts in flight finish; the rest waits in the outbox
    if (directory) directory->stop();
    if (ingest) ingest->stop();          // stop reading Kazoo
    co_await wait_until_false(ex, &ingest_running);
    if (pipe) pipe->stop();              // track what was read
    co_await wait_until_false(ex, &pipeline_running);
    if (committer) committer->stop();    // commit what was tracked
    co_await wait_until_false(ex, &committer_running);
    co_await wait_until_false(ex, &delivery_running);
    co_await wait_until_false(ex, &server_running);
    fallback_timer.cancel();
    signals.cancel();
    log_app->info("stopped");
  }

  awaitable<void> watchdog(std::chrono::microseconds interval) {
    // Pings come from the I/O thread itself, so a stuck event loop stops them and systemd restarts us.
    while (!stopping) {
      sd_notify("WATCHDOG=1");
      watchdog_timer.expires_after(interval / 2);
      co_await watchdog_timer.async_wait(use_nothrow);
    }
  }

  // SIGINT/SIGTERM: graceful stop. SIGHUP: reload the TLS certificate and key (certbot & co. renew them in
  // place); a broken new pair is refused and the old one stays in use.
  void wait_for_signal() {
    signals.async_wait([this](error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload_tls();
        wait_for_signal();
        return;
      }
      log_app->info("signal {} received", sig);
      spawn_logged(ioc.get_executor(), shutdown(), "shutdown", log_app);
    });
  }

  void reload_tls() {
    if (!cfg.server.tls_certificate || !cfg.server.tls_private_key || !server) {
      log_app->info("SIGHUP: no TLS certificate configured, nothing to reload");
      return;
    }
    try {
      server->set_tls_context(net::make_server_tls_context(*cfg.server.tls_certificate, *cfg.server.tls_private_key));
      log_app->info("SIGHUP: TLS certificate reloaded from {}", *cfg.server.tls_certificate);
    } catch (const std::exception& x) {
      log_app->error("SIGHUP: TLS certificate not reloaded, keeping the current one: {}", x.what());
    }
  }

  void start(application_hooks& hooks) {
    auto ex = ioc.get_executor();
    std::string reason;
    auto options = storage_options(cfg);
    // The daemon checkpoints on a thread of its own: SQLite's automatic checkpoint would run
    // inside a commit, and every event queued behind it would wait for the copy and the fsync.
    options.background_checkpoint_pages = 1000;  // SQLite's own threshold (8 MB of 8 KB pages)
    auto opened = store::database::open(std::move(options), reason);
    if (!opened) throw std::runtime_error(reason.empty() ? opened.error().message() : reason);
    db = std::move(*opened);
    log_store->info("database open path={} schema_version={} synchronous={}", cfg.storage.database,
                    db->schema_version(), cfg.storage.synchronous);

    // Calls in progress at the last stop continue where they were (no second call.started); calls that
    // ended shortly before are remembered, so the CDR catch-up does not report them again.
    std::int64_t feed_position_ms = 0;
    const auto now = now_unix_ms();
    if (auto open_calls = db->open_calls()) {
      for (const auto& row : *open_calls) tracker.restore(from_row(row));
      if (!open_calls->empty()) log_calls->info("restored calls in progress count={}", open_calls->size());
    }
    if (auto recent = db->recent_calls(5000)) {
      for (const auto& row : *recent) {
        if (row.ended_at_ms && *row.ended_at_ms > now - recently_ended_window_ms) {
          tracker.remember_ended(row.account_id, row.call_id, now);
        }
      }
    }
    if (auto meta = db->meta(feed_position_meta_key); meta && *meta) feed_position_ms = std::stoll(**meta);

    committer = std::make_unique<store::committer>(
        ex, db_pool, *db, store::committer_options{.max_delay = cfg.storage.commit_max_delay}, metrics, log_store);

    client_tls = net::make_client_tls_context(cfg.kazoo.ca_file);
    http = std::make_unique<net::http_client>(ex, client_tls);
    crossbar = std::make_unique<kazoo::crossbar_client>(*http, cfg.kazoo.api_url, log_ingest);
    tokens = std::make_unique<kazoo::token_source>(*crossbar, cfg.kazoo.api_key, log_ingest);
    channel = std::make_unique<kazoo::ingest_channel>(ex, cfg.kazoo.ingest_queue);

    kazoo::ingest_options io;
    io.websocket_url = cfg.kazoo.websocket_url;
    io.accounts = cfg.kazoo.accounts;
    io.qubicle = cfg.kazoo.qubicle;
    io.ws.ping_interval = cfg.kazoo.ping_interval;
    io.ws.idle_timeout = cfg.kazoo.idle_timeout;
    io.backoff.initial = cfg.kazoo.reconnect_initial;
    io.backoff.max = cfg.kazoo.reconnect_max;
    ingest = std::make_unique<kazoo::blackhole_client>(ex, io, client_tls, *tokens, *crossbar, *channel, metrics,
                                                       log_ingest);
    directory = std::make_unique<kazoo::directory_refresher>(ex, *crossbar, *tokens, cfg.kazoo.directory_refresh,
                                                             log_ingest);
    pipe = std::make_unique<pipeline>(ex, *channel, tracker, *committer, metrics, log_calls, feed_position_ms);
    pipe->on_event = hooks.on_event;
    // REST hook subscriptions: loaded before the pipeline runs, so the first event already fans out.
    hook_store = std::make_unique<store::hook_store>(*db);
    if (auto active = hook_store->list_active()) {
      for (const auto& row : *active) subscriptions.put(api::subscription_of(row));
      log_app->info("hook subscriptions loaded count={}", active->size());
    } else {
      throw std::runtime_error("cannot read the hook subscriptions: " + active.error().message());
    }
    pipe->subscriptions = &subscriptions;
    deliveries = std::make_unique<delivery::engine>(ex, db_pool, *db, delivery_options_of(cfg.hooks), metrics,
                                                    log_delivery, client_tls);
    // Delivery deleted (410) or disabled (failing too long) a hook: the fan-out stops matching it.
    deliveries->on_hook_deleted = [this](const std::string& id) { subscriptions.erase(id); };
    deliveries->on_hook_disabled = [this](const std::string& id) { subscriptions.set_active(id, false); };
    // The deliveries a commit queues are claimed in its own transaction and leave when it commits;
    // the claim loop is woken only for those that claim could not take (per-call order, limits).
    committer->in_transaction = [this] {
      return deliveries ? deliveries->claim_step() : store::commit_step{};
    };
    committer->on_committed = [this](const store::commit_stats& st) {
      const auto sent = deliveries ? deliveries->committed() : 0;
      if (st.outbox_inserted > sent) wake_delivery();
    };
    pipe->feed_live = [this] { return ingest->subscribed(); };
    ingest->feed_position_ms = [this] { return pipe->feed_position_ms(); };
    ingest->before_reconcile = [this](std::string account) { return directory->refresh(std::move(account)); };
    ingest->on_subscribed = [this](const std::vector<std::string>& accounts) { directory->set_accounts(accounts); };
    directory->on_update = [this](const std::string& account, std::shared_ptr<const calls::directory> d) {
      tracker.set_directory(account, std::move(d));
    };

    oauth_store = std::make_unique<store::oauth_store>(*db);
    oauth_crossbar = std::make_unique<kazoo::crossbar_client>(*http, cfg.kazoo.api_url, log_oauth);
    oauth = std::make_unique<oauth::service>(db_pool, *oauth_store, *oauth_crossbar, oauth_options(cfg), metrics,
                                             log_oauth);
    history = std::make_unique<store::call_history>(*db);
    // A revoked grant stops its hooks (issue #4): rows deleted (pending deliveries cancelled), index updated.
    oauth->on_grant_revoked = [this](const std::string& grant_id) {
      spawn_logged(ioc.get_executor(), remove_grant_hooks(grant_id), "hooks-grant-revoked", log_api);
    };
    dial_crossbar = std::make_unique<kazoo::crossbar_client>(*http, cfg.kazoo.api_url, log_api);
    add_http_routes(router, {.probes = {.database_open = [this] { return db != nullptr; },
                                        .kazoo_subscribed = [this] { return ingest->subscribed(); }},
                             .metrics = metrics,
                             .v1 = {.authenticate = authenticate_with(*oauth),
                                    .db_thread = db_pool,
                                    .history = *history,
                                    .log = log_api,
                                    .options = {}},
                             .oauth = *oauth,
                             .branding = {.product_name = cfg.oauth.product_name,
                                          .logo_url = cfg.oauth.logo_url.value_or(""),
                                          .primary_color = cfg.oauth.primary_color},
                             .hooks = api::hook_deps{.authenticate = authenticate_with(*oauth),
                                                     .db_thread = db_pool,
                                                     .hooks = *hook_store,
                                                     .index = subscriptions,
                                                     .wake_delivery = [this] { wake_delivery(); },
                                                     .log = log_api,
                                                     .options = hook_options_of(cfg)},
                             .dial = api::dial_deps{.authenticate = authenticate_with(*oauth),
                                                    .crossbar = *dial_crossbar,
                                                    .tokens = *tokens,
                                                    .log = log_api,
                                                    .options = {.realm = "kazoo-bridge",
                                                                .default_country = cfg.dial.default_country,
                                                                .calls_per_minute = cfg.dial.calls_per_minute,
                                                                .ring_timeout = std::chrono::duration_cast<
                                                                    std::chrono::seconds>(cfg.dial.ring_timeout),
                                                                .retry_after = std::chrono::seconds{5}}}});
    net::server_options so;
    so.listen = cfg.server.listen;
    so.max_header_bytes = cfg.server.max_header_bytes;
    so.max_body_bytes = cfg.server.max_body_bytes;
    so.read_timeout = cfg.server.read_timeout;
    so.idle_timeout = cfg.server.idle_timeout;
    if (cfg.server.tls_certificate && cfg.server.tls_private_key) {
      so.tls = net::make_server_tls_context(*cfg.server.tls_certificate, *cfg.server.tls_private_key);
    }
    server = std::make_unique<net::http_server>(ex, so, router, log_api);
    auto ep = server->listen();
    if (!ep) throw std::runtime_error("cannot listen on " + cfg.server.listen + ": " + ep.error().message());
    log_app->info("listening on {}://{}:{} (public_url {})", so.tls ? "https" : "http", ep->address().to_string(),
                  ep->port(), cfg.server.public_url);
    if (hooks.on_listening) hooks.on_listening(*ep);

    spawn_logged(ex, tracked(committer->run(), &committer_running), "store-committer", log_store);
    spawn_logged(ex, tracked(deliveries->run(), &delivery_running), "delivery", log_delivery);
    spawn_logged(ex, tracked(pipe->run(), &pipeline_running), "pipeline", log_calls);
    spawn_logged(ex, pipe->run_ticks(), "tracker-ticks", log_calls);
    spawn_logged(ex, tracked(ingest->run(), &ingest_running), "kazoo-ingest", log_ingest);
    spawn_logged(ex, directory->run(), "kazoo-directory", log_ingest);
    spawn_logged(ex, tracked(server->run(), &server_running), "http-server", log_api);
    committer_running = pipeline_running = ingest_running = server_running = delivery_running = true;
    if (auto wd = sd_watchdog_interval()) spawn_logged(ex, watchdog(*wd), "watchdog", log_app);
    sd_notify("READY=1");
  }
};

application::application(config::config cfg, const log_factory& logs)
    : impl_(std::make_unique<impl>(std::move(cfg), logs)) {}

application::~application() = default;

int application::run() {
  auto& i = *impl_;
  i.start(hooks);
  i.wait_for_signal();
  i.ioc.run();
  i.db_pool.join();
  return 0;
}

void application::request_stop() {
  auto& i = *impl_;
  asio::post(i.ioc, [&i] { spawn_logged(i.ioc.get_executor(), i.shutdown(), "shutdown", i.log_app); });
}

}  // namespace kazoo_bridge::app
