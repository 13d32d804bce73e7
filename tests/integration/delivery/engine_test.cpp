#include <gtest/gtest.h>

#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/delivery/signature.hpp>
#include <kazoo_bridge/store/committer.hpp>
#include <kazoo_bridge/store/outbox_store.hpp>

#include "../../unit/store/sample_rows.hpp"
#include "engine_fixture.hpp"

namespace kazoo_bridge::delivery {
namespace {

using namespace std::chrono_literals;
using test::engine_fixture;
using test::fake_http_endpoint;
using test::run_coro;
using test::scripted_reply;
using test::wait_until;
namespace http = net::http;

// The store's group committer wired to the engine as the application wires them: the deliveries a
// commit queues are claimed in its transaction; the claim loop is notified only for the others.
struct committing {
  explicit committing(engine_fixture& f) : c(f.ioc.get_executor(), f.db_thread, f.db.db(), {}, f.metrics, f.log.logger()) {
    c.in_transaction = [&f] { return f.eng->claim_step(); };
    c.on_committed = [this, &f](const store::commit_stats& st) {
      if (st.outbox_inserted > f.eng->committed()) {
        ++notified;
        f.eng->notify();
      }
    };
    asio::co_spawn(f.ioc, c.run(), [this](std::exception_ptr) { running = false; });
  }
  awaitable<void> stop() {
    c.stop();
    co_await wait_until([this] { return !running; }, std::chrono::seconds(5));
  }
  /// A lifecycle event of `call` and one outbox row per hook, as the pipeline enqueues them.
  static store::batch event(const std::string& id, const std::string& call, const std::vector<std::string>& hooks) {
    store::batch b;
    b.events.push_back(store::test::sample_event(id, call, "call.started", now_unix_ms()));
    for (const auto& h : hooks) b.outbox.push_back({id, "hook:" + h, call, now_unix_ms()});
    return b;
  }
  store::committer c;
  bool running = true;
  int notified = 0;
};

std::string header(const net::request& r, std::string_view name) {
  auto it = r.find(name);
  return it == r.end() ? std::string() : std::string(it->value());
}

TEST(engine, delivers_a_signed_standard_webhooks_post) {
  engine_fixture f;
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    f.db.add_hook("hook_a", sink.url("/hook?token=abc"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered"));
    co_await f.stop();
    EXPECT_EQ(sink.request_count(), 1u);
    if (sink.request_count() == 1) {
      const auto& r = sink.requests()[0];
      EXPECT_EQ(r.method(), http::verb::post);
      EXPECT_EQ(r.target(), "/hook?token=abc");
      EXPECT_EQ(r.body(), f.db.payload_of("ev_1"));  // byte for byte as stored
      EXPECT_EQ(header(r, "Content-Type"), "application/json");
      EXPECT_EQ(header(r, "User-Agent").rfind("kazoo-bridge/", 0), 0u);
      EXPECT_EQ(header(r, "webhook-id"), "ev_1");
      const auto ts = std::stoll(header(r, "webhook-timestamp"));
      EXPECT_NEAR(static_cast<double>(ts), static_cast<double>(now_unix_ms() / 1000), 5.0);
      // The receiver's check: recompute the signature with the subscription's secret.
      EXPECT_EQ(header(r, "webhook-signature"),
                *sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "ev_1", ts, r.body()));
    }
    EXPECT_EQ(f.db.text("SELECT outcome || ' ' || status_code || ' ' || attempt FROM hook_deliveries"),
              "delivered 200 1");
    EXPECT_GT(f.db.scalar("SELECT last_success_ms FROM hooks WHERE id = 'hook_a'"), 0);
    EXPECT_NE(f.metrics.render().find("kazoo_bridge_deliveries_total{outcome=\"delivered\"} 1"), std::string::npos);
    EXPECT_NE(f.metrics.render().find("kazoo_bridge_delivery_latency_seconds_count 1"), std::string::npos);
    co_await sink.shutdown();
  }, 10s);
  EXPECT_FALSE(f.error);
}

TEST(engine, a_500_is_retried_with_the_same_webhook_id_and_a_fresh_signature) {
  engine_fixture f;
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.push(http::status::internal_server_error, R"({"error":"boom"})");
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered"));
    co_await f.stop();
    EXPECT_EQ(sink.request_count(), 2u);
    if (sink.request_count() == 2) {
      EXPECT_EQ(header(sink.requests()[0], "webhook-id"), "ev_1");
      EXPECT_EQ(header(sink.requests()[1], "webhook-id"), "ev_1");
    }
    EXPECT_EQ(f.db.text("SELECT group_concat(outcome || ':' || attempt || ':' || coalesce(status_code, '-'), ' ') "
                        "FROM (SELECT * FROM hook_deliveries ORDER BY id)"),
              "retry:1:500 delivered:2:200");
    EXPECT_EQ(f.db.text("SELECT response_snippet FROM hook_deliveries WHERE outcome = 'retry'"),
              R"({"error":"boom"})");
    EXPECT_EQ(f.db.scalar("SELECT attempts FROM outbox"), 2);
    // A success clears the failing streak.
    EXPECT_EQ(f.db.text("SELECT failing_since_ms FROM hooks"), std::nullopt);
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, one_calls_events_arrive_in_order_even_across_a_retry) {
  engine_fixture f;
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.push(http::status::service_unavailable);
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.db.add_event("ev_2", "call_1", "hook_a");
    f.db.add_event("ev_3", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await f.until_status("ev_3", "hook_a", "delivered"));
    co_await f.stop();
    std::vector<std::string> ids;
    for (const auto& r : sink.requests()) ids.push_back(header(r, "webhook-id"));
    EXPECT_EQ(ids, (std::vector<std::string>{"ev_1", "ev_1", "ev_2", "ev_3"}));
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, a_410_deletes_the_hook_and_cancels_its_deliveries) {
  engine_fixture f;
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.set_default({http::status::gone, "{}", "application/json", {}, 0ms});
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.db.add_event("ev_2", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return !f.deleted.empty(); }, 4s));
    co_await f.stop();
    EXPECT_EQ(f.deleted, std::vector<std::string>{"hook_a"});
    EXPECT_EQ(sink.request_count(), 1u);
    EXPECT_EQ(f.db.scalar("SELECT count(*) FROM hooks"), 0);
    EXPECT_EQ(f.db.outbox_status("ev_1", "hook_a"), "cancelled");
    EXPECT_EQ(f.db.outbox_status("ev_2", "hook_a"), "cancelled");
    EXPECT_NE(f.metrics.render().find("kazoo_bridge_deliveries_total{outcome=\"gone\"} 1"), std::string::npos);
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, a_429_retry_after_is_honoured) {
  auto o = test::fast_options();
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.push({http::status::too_many_requests, "slow down", "text/plain", {{"Retry-After", "1"}}, 0ms});
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return f.db.scalar("SELECT count(*) FROM hook_deliveries") == 1; }, 3s));
    // The schedule says "at once"; the peer said 1 s: the retry is due no earlier than that.
    const auto wait = f.db.scalar("SELECT next_retry_at_ms - attempted_at_ms FROM hook_deliveries");
    EXPECT_GE(wait, 1000);
    EXPECT_LE(wait, 3000);  // 1 s from the answer; the attempt itself took a little
    EXPECT_EQ(f.db.scalar("SELECT next_attempt_at_ms FROM outbox") -
                  f.db.scalar("SELECT attempted_at_ms FROM hook_deliveries"), wait);
    EXPECT_EQ(sink.request_count(), 1u);
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered", 4s));
    co_await f.stop();
    EXPECT_EQ(sink.request_count(), 2u);
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, a_hanging_sink_is_cut_off_at_the_timeout_and_retried) {
  auto o = test::fast_options();
  o.timeout = 300ms;
  o.retry_schedule = {0s, 3600s};
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.push({http::status::ok, "{}", "application/json", {}, 1500ms});
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return f.db.scalar("SELECT count(*) FROM hook_deliveries") == 1; }, 3s));
    EXPECT_EQ(f.db.text("SELECT outcome || ' ' || coalesce(status_code, 'none') || ' ' || error FROM hook_deliveries"),
              "retry none timeout");
    EXPECT_EQ(f.db.outbox_status("ev_1", "hook_a"), "pending");
    co_await f.stop();
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, a_huge_response_body_is_cut_to_the_snippet) {
  auto o = test::fast_options();
  o.max_response_bytes = 100;
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.push({http::status::ok, std::string(4 << 20, 'x'), "text/plain", {}, 0ms});
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered"));
    co_await f.stop();
    EXPECT_EQ(f.db.scalar("SELECT length(response_snippet) FROM hook_deliveries"), 100);
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, a_slow_host_does_not_delay_another) {
  auto o = test::fast_options();
  o.timeout = 5000ms;
  o.concurrency_per_host = 1;
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint slow(f.ioc.get_executor());
    fake_http_endpoint fast(f.ioc.get_executor());
    slow.set_default({http::status::ok, "{}", "application/json", {}, 3000ms});
    // Two lanes: "localhost" and "127.0.0.1" are different host names (lanes are per host).
    f.db.add_hook("hook_slow", "http://localhost:" + std::to_string(slow.port()) + "/");
    f.db.add_hook("hook_fast", fast.url("/"));
    for (int i = 0; i < 3; ++i) f.db.add_event("slow_" + std::to_string(i), "call_s" + std::to_string(i), "hook_slow");
    for (int i = 0; i < 5; ++i) f.db.add_event("fast_" + std::to_string(i), "call_f" + std::to_string(i), "hook_fast");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return fast.request_count() == 5 && slow.request_count() == 1; }, 2500ms));
    EXPECT_TRUE(co_await wait_until([&] {
      return f.db.scalar("SELECT count(*) FROM hook_deliveries WHERE hook_id = 'hook_fast'") == 5;
    }, 2500ms));
    // Every fast delivery went through while the slow host still held its first request...
    EXPECT_EQ(f.db.scalar("SELECT count(*) FROM hook_deliveries WHERE hook_id = 'hook_slow'"), 0);
    // ...and only one: concurrency_per_host = 1, the others wait in their lane.
    EXPECT_EQ(slow.request_count(), 1u);
    co_await f.stop();
    co_await slow.shutdown();
    co_await fast.shutdown();
  }, 20s);
}

TEST(engine, successes_are_logged_later_in_a_batch_but_a_hooks_log_keeps_its_order) {
  auto o = test::fast_options();
  o.attempt_log_delay = 60s;  // only a failure of the same hook, or stop(), writes them here
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.push(http::status::ok);
    sink.push(http::status::internal_server_error);  // ev_2's first attempt; its retry gets 200
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.db.add_event("ev_2", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await f.until_status("ev_2", "hook_a", "delivered"));
    // ev_1's success was logged when ev_2's failure was, before it; ev_2's success still waits.
    EXPECT_EQ(f.db.text("SELECT group_concat(event_id || ':' || outcome, ' ') FROM "
                        "(SELECT * FROM hook_deliveries ORDER BY id)"),
              "ev_1:delivered ev_2:retry");
    co_await f.stop();
    EXPECT_EQ(f.db.text("SELECT group_concat(event_id || ':' || outcome, ' ') FROM "
                        "(SELECT * FROM hook_deliveries ORDER BY id)"),
              "ev_1:delivered ev_2:retry ev_2:delivered");
    co_await sink.shutdown();
  }, 10s);
  EXPECT_FALSE(f.error);
}

TEST(engine, a_success_reaches_the_attempt_log_after_attempt_log_delay) {
  auto o = test::fast_options();
  o.attempt_log_delay = 50ms;
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered"));
    EXPECT_TRUE(co_await wait_until([&] { return f.db.scalar("SELECT count(*) FROM hook_deliveries") == 1; }, 2s));
    co_await f.stop();
    co_await sink.shutdown();
  }, 10s);
  EXPECT_FALSE(f.error);
}

TEST(engine, a_full_lane_is_not_fed_more_claimed_rows) {
  auto o = test::fast_options();
  o.timeout = 5000ms;
  o.concurrency_per_host = 1;
  o.max_queued_per_lane = 2;
  o.claim_batch = 1;  // every row is its own claim, so the skip list decides each time
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint slow(f.ioc.get_executor());
    fake_http_endpoint fast(f.ioc.get_executor());
    slow.set_default({http::status::ok, "{}", "application/json", {}, 2000ms});
    f.db.add_hook("hook_slow", "http://localhost:" + std::to_string(slow.port()) + "/");
    f.db.add_hook("hook_fast", fast.url("/"));
    for (int i = 0; i < 6; ++i) f.db.add_event("slow_" + std::to_string(i), "call_s" + std::to_string(i), "hook_slow");
    for (int i = 0; i < 3; ++i) f.db.add_event("fast_" + std::to_string(i), "call_f" + std::to_string(i), "hook_fast");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return fast.request_count() == 3; }, 1500ms));
    // One attempt in progress and two queued: the other three stay pending in the outbox.
    EXPECT_EQ(f.db.scalar("SELECT count(*) FROM outbox WHERE destination = 'hook:hook_slow' AND status = 'in_flight'"), 3);
    EXPECT_EQ(f.db.scalar("SELECT count(*) FROM outbox WHERE destination = 'hook:hook_slow' AND status = 'pending'"), 3);
    co_await f.stop();
    co_await slow.shutdown();
    co_await fast.shutdown();
  }, 20s);
}

TEST(engine, a_private_address_is_refused_at_connect_time) {
  auto o = test::fast_options();
  o.allow_private_targets = false;
  o.retry_schedule = {0s, 3600s};
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    // Written straight into the table: the API's subscribe-time check would refuse it, but a
    // public name can resolve to a private address later (DNS rebinding); "localhost" stands in.
    f.db.add_hook("hook_a", "http://localhost:" + std::to_string(sink.port()) + "/");
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return f.db.scalar("SELECT count(*) FROM hook_deliveries") == 1; }, 3s));
    co_await f.stop();
    EXPECT_EQ(sink.request_count(), 0u);
    EXPECT_NE(f.db.text("SELECT error FROM hook_deliveries").value_or("").find("not allowed"), std::string::npos);
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, in_flight_deliveries_are_resumed_after_a_crash) {
  engine_fixture f;
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    {
      // A previous run claimed it and died before recording the outcome.
      store::outbox_store s(f.db.db());
      EXPECT_EQ(s.claim(now_unix_ms(), 60'000, 10)->size(), 1u);
    }
    f.db.reopen();
    EXPECT_EQ(f.db.outbox_status("ev_1", "hook_a"), "in_flight");
    f.start();
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered"));
    co_await f.stop();
    EXPECT_EQ(sink.request_count(), 1u);
    if (sink.request_count() == 1) {
      EXPECT_EQ(header(sink.requests()[0], "webhook-id"), "ev_1");
    }
    EXPECT_TRUE(f.log.contains("resumed 1 deliveries"));
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, a_hook_failing_for_disable_after_is_disabled_and_logged_without_secrets) {
  auto o = test::fast_options();
  o.retry_schedule = {0s, 3600s};
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.set_default({http::status::internal_server_error, "{}", "application/json", {}, 0ms});
    f.db.add_hook("hook_a", sink.url("/path?api_key=supersecret"));
    f.db.exec("UPDATE hooks SET failing_since_ms = 1000 WHERE id = 'hook_a'");  // failing for decades
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.db.add_event("ev_2", "call_2", "hook_a");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return !f.disabled.empty(); }, 3s));
    co_await f.stop();
    EXPECT_EQ(f.disabled, std::vector<std::string>{"hook_a"});
    EXPECT_EQ(f.db.text("SELECT status FROM hooks"), "disabled");
    EXPECT_NE(f.metrics.render().find("kazoo_bridge_hooks_disabled_total 1"), std::string::npos);
    EXPECT_TRUE(f.log.contains("error delivery delivery: hook hook_a"));
    // The operator sees which receiver it was: scheme, host and path, read back with the disabling UPDATE.
    const auto where = sink.url("/path");
    EXPECT_TRUE(f.log.contains("hook_a (" + where + ") disabled"));
    EXPECT_FALSE(f.log.contains("supersecret"));
    EXPECT_FALSE(f.log.contains("whsec_"));
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, notify_wakes_delivery_for_rows_committed_while_idle) {
  auto o = test::fast_options();
  o.poll_interval = 60s;  // without notify() the row would wait a minute
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    f.db.add_hook("hook_a", sink.url("/"));
    f.start();
    co_await wait_until([] { return false; }, 100ms);  // the engine is idle now
    f.db.add_event("ev_1", "call_1", "hook_a", now_unix_ms());
    f.eng->notify();
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered", 3s));
    co_await f.stop();
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, the_deliveries_a_commit_queues_leave_when_it_commits_without_a_claim_of_their_own) {
  auto o = test::fast_options();
  o.poll_interval = 60s;  // the claim loop would find them only after a minute without notify()
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint a(f.ioc.get_executor()), b(f.ioc.get_executor());
    f.db.add_hook("hook_a", a.url("/"));
    f.db.add_hook("hook_b", b.url("/"));
    f.start();
    co_await wait_until([] { return false; }, 100ms);  // the engine has resumed and is idle
    committing c(f);
    c.c.enqueue(committing::event("ev_1", "call_1", {"hook_a", "hook_b"}));
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered", 3s));
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_b", "delivered", 3s));
    EXPECT_EQ(c.notified, 0) << "both rows were claimed in the commit's transaction";
    // Two events of one call in one transaction: the second waits for the first (per-call order), so
    // the commit claims only the first and the claim loop is woken for the second.
    store::batch two = committing::event("ev_2", "call_2", {"hook_a"});
    auto second = committing::event("ev_3", "call_2", {"hook_a"});
    two.events.push_back(second.events[0]);
    two.outbox.push_back(second.outbox[0]);
    c.c.enqueue(std::move(two));
    EXPECT_TRUE(co_await f.until_status("ev_3", "hook_a", "delivered", 3s));
    EXPECT_EQ(c.notified, 1);
    std::vector<std::string> ids;
    for (const auto& r : a.requests()) ids.push_back(header(r, "webhook-id"));
    EXPECT_EQ(ids, (std::vector<std::string>{"ev_1", "ev_2", "ev_3"}));
    co_await c.stop();
    co_await f.stop();
    co_await a.shutdown();
    co_await b.shutdown();
  }, 10s);
  EXPECT_FALSE(f.error);
}

TEST(engine, a_commit_that_failed_after_asking_for_a_claim_step_holds_no_capacity) {
  auto o = test::fast_options();
  o.max_outstanding = 1;  // one reservation left behind would stop every delivery
  o.claim_batch = 1;
  o.poll_interval = 60s;
  engine_fixture f(o);
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    f.db.add_hook("hook_a", sink.url("/"));
    f.start();
    co_await wait_until([] { return false; }, 100ms);
    // The committer asked for a step, then its transaction failed: committed() never comes.
    EXPECT_TRUE(static_cast<bool>(f.eng->claim_step()));
    committing c(f);
    c.c.enqueue(committing::event("ev_1", "call_1", {"hook_a"}));
    EXPECT_TRUE(co_await f.until_status("ev_1", "hook_a", "delivered", 3s));
    EXPECT_EQ(c.notified, 0);
    co_await c.stop();
    co_await f.stop();
    // After stop() there is no step: what a late commit queues waits in the outbox for the next start.
    EXPECT_FALSE(static_cast<bool>(f.eng->claim_step()));
    co_await sink.shutdown();
  }, 10s);
}

TEST(engine, stop_waits_for_the_attempt_in_flight_and_records_it) {
  engine_fixture f;
  run_coro(f.ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(f.ioc.get_executor());
    sink.push({http::status::ok, "{}", "application/json", {}, 300ms});
    f.db.add_hook("hook_a", sink.url("/"));
    f.db.add_event("ev_1", "call_1", "hook_a");
    f.start();
    EXPECT_TRUE(co_await wait_until([&] { return sink.request_count() == 1; }, 3s));
    co_await f.stop();  // while the sink still holds the request
    EXPECT_EQ(f.db.outbox_status("ev_1", "hook_a"), "delivered");
    EXPECT_EQ(f.db.scalar("SELECT count(*) FROM hook_deliveries"), 1);
    co_await sink.shutdown();
  }, 10s);
}

}  // namespace
}  // namespace kazoo_bridge::delivery
