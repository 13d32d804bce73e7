#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include <kazoo_bridge/store/outbox_store.hpp>

#include "../../unit/store/sample_rows.hpp"
#include "hook_db.hpp"

namespace kazoo_bridge::store {
namespace {

using kazoo_bridge::test::hook_db;

constexpr std::int64_t lease = 60'000;
constexpr std::int64_t three_days = 259'200'000;

std::vector<std::string> events_of(const std::vector<claimed_delivery>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.event_id);
  return out;
}

delivery_result result_for(const claimed_delivery& c, std::string outcome, std::int64_t at,
                           std::optional<std::int64_t> next = std::nullopt) {
  delivery_result r;
  r.outbox_id = c.outbox_id;
  r.hook_id = c.hook_id;
  r.event_id = c.event_id;
  r.attempt = c.attempts + 1;
  r.attempted_at_ms = at;
  r.duration_ms = 5;
  r.outcome = std::move(outcome);
  r.status_code = r.outcome == "delivered" ? 200 : 500;
  r.next_attempt_at_ms = next;
  return r;
}

// hook_a with e1 (call1) and hook_b with e2 (call2).
void add_two_hooks_with_an_event_each(hook_db& h) {
  h.add_hook("hook_a", "https://a.example/");
  h.add_hook("hook_b", "https://b.example/");
  h.add_event("e1", "call1", "hook_a");
  h.add_event("e2", "call2", "hook_b");
}

TEST(outbox_store, claims_due_rows_with_event_and_hook_and_marks_them_in_flight) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/hook");
  h.add_event("ev1", "call1", "hook_a", 100);
  h.add_event("ev2", "call2", "hook_a", 5'000);  // not due yet
  outbox_store s(h.db());
  auto c = s.claim(1'000, lease, 100);
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->size(), 1u);
  const auto& d = c->front();
  EXPECT_EQ(d.event_id, "ev1");
  EXPECT_EQ(d.hook_id, "hook_a");
  EXPECT_EQ(d.target_url, "https://a.example/hook");
  EXPECT_EQ(d.secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_NE(d.payload, nullptr);
  EXPECT_EQ(*d.payload, h.payload_of("ev1"));
  EXPECT_EQ(d.attempts, 0);
  EXPECT_EQ(h.outbox_status("ev1", "hook_a"), "in_flight");
  EXPECT_EQ(h.scalar("SELECT lease_until_ms FROM outbox WHERE event_id = 'ev1'"), 1'000 + lease);
  // Claimed rows are not claimed again.
  EXPECT_TRUE(s.claim(1'000, lease, 100)->empty());
  EXPECT_EQ(*s.next_due_ms(1'000), 5'000);
}

TEST(outbox_store, a_healthy_hooks_last_success_moves_at_most_once_a_minute_but_a_failure_is_always_kept) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  for (const char* call : {"c1", "c2", "c3", "c4", "c5"}) h.add_event(std::string(call) + "-e", call, "hook_a");
  outbox_store s(h.db());
  auto c = *s.claim(1'000, lease, 100);
  ASSERT_EQ(c.size(), 5u);
  auto last_success = [&] { return h.scalar("SELECT last_success_ms FROM hooks WHERE id = 'hook_a'"); };
  auto finish_one = [&](const claimed_delivery& d, const char* outcome, std::int64_t at) {
    std::vector<delivery_result> r{result_for(d, outcome, at)};
    return s.finish(r, at, three_days).has_value();
  };
  ASSERT_TRUE(finish_one(c[0], "delivered", 1'000));
  EXPECT_EQ(last_success(), 1'000);
  // Within the minute: the row is not rewritten (a page less in every transaction).
  ASSERT_TRUE(finish_one(c[1], "delivered", 30'000));
  EXPECT_EQ(last_success(), 1'000);
  ASSERT_TRUE(finish_one(c[2], "delivered", 61'000));
  EXPECT_EQ(last_success(), 61'000);
  // A failure is recorded at once, and the next success clears it at once, whatever the minute.
  ASSERT_TRUE(finish_one(c[3], "failed", 62'000));
  EXPECT_EQ(h.scalar("SELECT failing_since_ms FROM hooks WHERE id = 'hook_a'"), 62'000);
  ASSERT_TRUE(finish_one(c[4], "delivered", 63'000));
  EXPECT_EQ(h.text("SELECT failing_since_ms FROM hooks WHERE id = 'hook_a'"), std::nullopt);
  EXPECT_EQ(last_success(), 63'000);
}

TEST(outbox_store, every_claimed_row_of_a_fanned_out_event_carries_that_events_payload) {
  hook_db h;
  for (const char* id : {"hook_a", "hook_b", "hook_c"}) h.add_hook(id, std::string("https://") + id + ".example/");
  // e1 fans out to three hooks; e2 (another call, another time) to two, queued between e1's rows; e3 is
  // due earlier, so the claim order interleaves the events.
  h.add_event("e1", "call1", "hook_a", 20, 1'000);
  h.add_event("e2", "call2", "hook_a", 30, 2'000);
  h.add_event("e1", "call1", "hook_b", 20, 1'000);
  h.add_event("e2", "call2", "hook_b", 30, 2'000);
  h.add_event("e1", "call1", "hook_c", 20, 1'000);
  h.add_event("e3", "call3", "hook_c", 10, 3'000);
  outbox_store s(h.db());
  auto c = s.claim(1'000, lease, 100);
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->size(), 6u);
  std::map<std::string, const std::string*> shared;
  for (const auto& d : *c) {
    ASSERT_NE(d.payload, nullptr) << d.event_id;
    EXPECT_EQ(*d.payload, h.payload_of(d.event_id)) << d.event_id << " for " << d.hook_id;
    EXPECT_EQ(d.occurred_at_ms, d.event_id == "e1" ? 1'000 : d.event_id == "e2" ? 2'000 : 3'000);
    // Read once per event, not once per hook.
    auto [it, first] = shared.try_emplace(d.event_id, d.payload.get());
    if (!first) {
      EXPECT_EQ(it->second, d.payload.get()) << d.event_id;
    }
  }
  EXPECT_EQ(shared.size(), 3u);
  EXPECT_EQ(events_of(*c), (std::vector<std::string>{"e3", "e1", "e1", "e1", "e2", "e2"}));  // due order
  EXPECT_EQ(h.scalar("SELECT count(*) FROM outbox WHERE status = 'in_flight'"), 6);
}

TEST(outbox_store, next_due_skips_rows_that_are_due_but_held_back_behind_an_unfinished_one) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_event("c1-e1", "c1", "hook_a", 1'000);
  h.add_event("c1-e2", "c1", "hook_a", 1'000);  // due, but waits for c1-e1 (per-call order)
  h.add_event("c2-e1", "c2", "hook_a", 9'000);
  outbox_store s(h.db());
  ASSERT_EQ(events_of(*s.claim(1'000, lease, 100)), std::vector<std::string>{"c1-e1"});
  // Not 1'000: the engine would claim again at once, get nothing, and spin until c1-e1 finishes.
  EXPECT_EQ(*s.next_due_ms(1'000), 9'000);
}

TEST(outbox_store, one_call_reaches_a_destination_in_order) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_hook("hook_b", "https://b.example/");
  h.add_event("c1-e1", "call1", "hook_a");
  h.add_event("c1-e2", "call1", "hook_a");
  h.add_event("c2-e1", "call2", "hook_a");
  h.exec("INSERT INTO outbox (event_id, destination, call_id, next_attempt_at_ms, created_at_ms, updated_at_ms) "
         "VALUES ('c1-e1', 'hook:hook_b', 'call1', 0, 1, 1)");
  outbox_store s(h.db());
  auto first = s.claim(1'000, lease, 100);
  ASSERT_TRUE(first.has_value());
  auto ids = events_of(*first);
  std::sort(ids.begin(), ids.end());
  // call1's second event waits for its first; the other destination and call are independent.
  EXPECT_EQ(ids, (std::vector<std::string>{"c1-e1", "c1-e1", "c2-e1"}));

  // A retry of c1-e1 keeps c1-e2 back until c1-e1 is finished.
  const auto& c1 = *std::find_if(first->begin(), first->end(),
                                 [](const auto& c) { return c.event_id == "c1-e1" && c.hook_id == "hook_a"; });
  std::vector<delivery_result> r{result_for(c1, "retry", 1'000, 2'000)};
  ASSERT_TRUE(s.finish(r, 1'000, three_days).has_value());
  EXPECT_TRUE(s.claim(1'500, lease, 100)->empty());
  auto again = s.claim(2'000, lease, 100);
  ASSERT_EQ(events_of(*again), std::vector<std::string>{"c1-e1"});
  EXPECT_EQ(again->front().attempts, 1);
  std::vector<delivery_result> ok{result_for(again->front(), "delivered", 2'000)};
  ASSERT_TRUE(s.finish(ok, 2'000, three_days).has_value());
  EXPECT_EQ(events_of(*s.claim(2'000, lease, 100)), std::vector<std::string>{"c1-e2"});
}

// A batch as the pipeline commits it: events of calls, and outbox rows for the hooks that want them.
batch batch_with(std::vector<std::pair<std::string, std::string>> events,                 // (event id, call)
                 std::vector<std::pair<std::string, std::string>> deliveries) {           // (event id, hook)
  batch b;
  std::map<std::string, std::string> call_of;
  for (auto& [id, call] : events) {
    b.events.push_back(test::sample_event(id, call));
    call_of[id] = call;
  }
  for (auto& [id, hook] : deliveries) b.outbox.push_back({id, "hook:" + hook, call_of[id], 0});
  return b;
}

// What a commit with claim_fresh() as its in_transaction step claimed, in claim order.
std::vector<std::string> commit_claiming(hook_db& h, outbox_store& s, const batch& b, std::size_t limit,
                                         const std::vector<std::string>& skip = {}) {
  std::vector<std::string> claimed;
  std::map<std::string, std::string> payloads;  // (another connection cannot see them before COMMIT)
  for (const auto& e : b.events) payloads[e.id] = e.payload;
  auto r = h.db().commit(std::span<const batch>(&b, 1), [&](std::span<const batch> batches, const commit_stats& st) {
    auto c = s.claim_fresh(batches, st.first_outbox_id, 1'000, lease, limit, skip);
    ASSERT_TRUE(c.has_value()) << c.error().message();
    for (const auto& d : *c) {
      claimed.push_back(d.event_id + "@" + d.hook_id);
      EXPECT_EQ(*d.payload, payloads[d.event_id]);
      EXPECT_EQ(d.target_url, "https://" + d.hook_id + ".example/");
    }
  });
  EXPECT_TRUE(r.has_value());
  return claimed;
}

TEST(outbox_store, claim_fresh_claims_the_rows_of_the_commit_in_progress_by_the_claims_rules) {
  hook_db h;
  for (const char* id : {"a", "b", "c"}) h.add_hook(id, std::string("https://") + id + ".example/");
  h.exec("UPDATE hooks SET status = 'disabled' WHERE id = 'c'");
  h.add_event("old", "call1", "a");  // committed earlier, still pending
  outbox_store s(h.db());
  // n1 (call1) for a, b, c; n2 and n3 (call2) for b.
  auto b = batch_with({{"n1", "call1"}, {"n2", "call2"}, {"n3", "call2"}},
                      {{"n1", "a"}, {"n1", "b"}, {"n1", "c"}, {"n2", "b"}, {"n3", "b"}});
  EXPECT_EQ(commit_claiming(h, s, b, 100), (std::vector<std::string>{"n1@b", "n2@b"}));
  EXPECT_EQ(h.outbox_status("n1", "b"), "in_flight");
  EXPECT_EQ(h.outbox_status("n2", "b"), "in_flight");
  EXPECT_EQ(h.scalar("SELECT lease_until_ms FROM outbox WHERE event_id = 'n2'"), 1'000 + lease);
  EXPECT_EQ(h.outbox_status("n1", "a"), "pending");   // behind "old", an older row of call1 for a
  EXPECT_EQ(h.outbox_status("n1", "c"), "pending");   // a disabled hook's rows wait
  EXPECT_EQ(h.outbox_status("n3", "b"), "pending");   // behind n2, queued in the same transaction
  EXPECT_EQ(h.outbox_status("old", "a"), "pending");  // not this transaction's: claim()'s business
  // claim() takes what is left, by the same rules: "old" now, n1@a and n3@b once those before them finish.
  EXPECT_EQ(events_of(*s.claim(1'000, lease, 100)), std::vector<std::string>{"old"});
}

TEST(outbox_store, claim_fresh_keeps_to_its_limit_and_skips_saturated_destinations) {
  hook_db h;
  for (const char* id : {"a", "b"}) h.add_hook(id, std::string("https://") + id + ".example/");
  outbox_store s(h.db());
  EXPECT_EQ(commit_claiming(h, s, batch_with({{"e1", "c1"}, {"e2", "c2"}}, {{"e1", "a"}, {"e2", "a"}, {"e2", "b"}}), 2),
            (std::vector<std::string>{"e1@a", "e2@a"}));
  EXPECT_EQ(commit_claiming(h, s, batch_with({{"e3", "c3"}}, {{"e3", "a"}, {"e3", "b"}}), 100, {"hook:a"}),
            std::vector<std::string>{"e3@b"});
  EXPECT_EQ(h.outbox_status("e2", "b"), "pending");
  EXPECT_EQ(h.outbox_status("e3", "a"), "pending");
  // A commit that queues nothing claims nothing (first_outbox_id 0), and so does a limit of 0.
  EXPECT_TRUE(commit_claiming(h, s, batch_with({{"e4", "c4"}}, {}), 100).empty());
  EXPECT_TRUE(commit_claiming(h, s, batch_with({{"e5", "c5"}}, {{"e5", "b"}}), 0).empty());
  EXPECT_EQ(h.outbox_status("e5", "b"), "pending");
}

TEST(outbox_store, claim_fresh_leaves_a_row_of_an_event_stored_earlier_to_claim) {
  hook_db h;
  h.add_hook("a", "https://a.example/");
  h.exec("INSERT INTO call_events (id, type, call_id, account_id, direction, occurred_at_ms, payload) "
         "VALUES ('stored', 'call.ringing', 'c1', 'acc', 'inbound', 1000, '{\"id\":\"stored\"}')");
  outbox_store s(h.db());
  // A batch that queues a delivery of an event it does not carry (its payload is not in memory).
  batch b = batch_with({{"e2", "c2"}}, {{"e2", "a"}});
  b.outbox.push_back({"stored", "hook:a", "c1", 0});
  EXPECT_EQ(commit_claiming(h, s, b, 100), std::vector<std::string>{"e2@a"});
  EXPECT_EQ(h.outbox_status("stored", "a"), "pending");
  auto later = s.claim(1'000, lease, 100);
  ASSERT_EQ(events_of(*later), std::vector<std::string>{"stored"});
  EXPECT_EQ(*later->front().payload, R"({"id":"stored"})");
}

TEST(outbox_store, a_claim_fresh_failing_half_way_undoes_its_marks_and_the_commit_still_stores_everything) {
  hook_db h;
  for (const char* id : {"a", "b"}) h.add_hook(id, std::string("https://") + id + ".example/");
  // The second row it marks fails (as a full disk or an I/O error would): the first mark must not stay.
  h.exec("CREATE TRIGGER fail_second_mark BEFORE UPDATE OF status ON outbox "
         "WHEN NEW.status = 'in_flight' AND (SELECT count(*) FROM outbox WHERE status = 'in_flight') >= 1 "
         "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
  outbox_store s(h.db());
  const batch b = batch_with({{"e1", "c1"}}, {{"e1", "a"}, {"e1", "b"}});
  std::optional<error_code> failed;
  auto r = h.db().commit(std::span<const batch>(&b, 1), [&](std::span<const batch> batches, const commit_stats& st) {
    auto c = s.claim_fresh(batches, st.first_outbox_id, 1'000, lease, 100, {});
    failed = c ? error_code{} : c.error();
  });
  ASSERT_TRUE(r.has_value()) << h.db().last_error();
  ASSERT_TRUE(failed.has_value());
  EXPECT_TRUE(*failed);
  // The event and both rows are stored, none left in flight with a lease nobody holds.
  EXPECT_EQ(h.scalar("SELECT count(*) FROM call_events WHERE id = 'e1'"), 1);
  EXPECT_EQ(h.outbox_status("e1", "a"), "pending");
  EXPECT_EQ(h.outbox_status("e1", "b"), "pending");
  EXPECT_EQ(h.scalar("SELECT count(*) FROM outbox WHERE lease_until_ms IS NOT NULL"), 0);
  // claim() delivers them as it would after a restart.
  h.exec("DROP TRIGGER fail_second_mark");
  auto later = s.claim(1'000, lease, 100);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->size(), 2u);
}

TEST(outbox_store, finish_writes_the_attempt_log_and_hook_health) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_event("e1", "call1", "hook_a");
  h.add_event("e2", "call2", "hook_a");
  outbox_store s(h.db());
  auto c = *s.claim(1'000, lease, 100);
  ASSERT_EQ(c.size(), 2u);
  auto fail = result_for(c[0], "retry", 1'000, 6'000);
  fail.error = "HTTP 500";
  fail.response_snippet = "oops";
  std::vector<delivery_result> r{fail, result_for(c[1], "failed", 1'001)};
  r[1].status_code = 400;
  auto st = s.finish(r, 1'002, three_days);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->finished, 2u);
  EXPECT_EQ(h.outbox_status(c[0].event_id, "hook_a"), "pending");
  EXPECT_EQ(h.outbox_status(c[1].event_id, "hook_a"), "failed");
  EXPECT_EQ(h.scalar("SELECT next_attempt_at_ms FROM outbox WHERE id = " + std::to_string(c[0].outbox_id)), 6'000);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM hook_deliveries WHERE hook_id = 'hook_a'"), 2);
  EXPECT_EQ(h.text("SELECT response_snippet FROM hook_deliveries WHERE outcome = 'retry'"), "oops");
  EXPECT_EQ(h.scalar("SELECT next_retry_at_ms FROM hook_deliveries WHERE outcome = 'retry'"), 6'000);
  EXPECT_EQ(h.scalar("SELECT failing_since_ms FROM hooks WHERE id = 'hook_a'"), 1'000);
  auto counts = *s.counts();
  EXPECT_EQ(counts.pending, 1);
  EXPECT_EQ(counts.retrying, 1);

  auto again = *s.claim(6'000, lease, 100);
  ASSERT_EQ(again.size(), 1u);
  std::vector<delivery_result> ok{result_for(again[0], "delivered", 6'000)};
  ASSERT_TRUE(s.finish(ok, 6'001, three_days).has_value());
  EXPECT_EQ(h.text("SELECT failing_since_ms FROM hooks WHERE id = 'hook_a'"), std::nullopt);
  EXPECT_EQ(h.scalar("SELECT last_success_ms FROM hooks WHERE id = 'hook_a'"), 6'000);
  EXPECT_EQ(h.scalar("SELECT attempts FROM outbox WHERE id = " + std::to_string(c[0].outbox_id)), 2);
}

TEST(outbox_store, finish_can_log_other_attempts_than_it_finishes) {
  hook_db h;
  add_two_hooks_with_an_event_each(h);
  outbox_store s(h.db());
  auto c = *s.claim(1'000, lease, 100);
  ASSERT_EQ(c.size(), 2u);
  // The engine finishes the outbox rows at once and logs the successes later, in a batch.
  std::vector<delivery_result> done{result_for(c[0], "delivered", 1'000), result_for(c[1], "delivered", 1'001)};
  ASSERT_EQ(s.finish(done, {}, 1'002, three_days)->finished, 2u);
  EXPECT_EQ(h.outbox_status("e1", "hook_a"), "delivered");
  EXPECT_EQ(h.outbox_status("e2", "hook_b"), "delivered");
  EXPECT_EQ(h.scalar("SELECT count(*) FROM hook_deliveries"), 0);
  EXPECT_EQ(h.scalar("SELECT last_success_ms FROM hooks WHERE id = 'hook_a'"), 1'000);
  // Later: only the log; an entry of a hook deleted meanwhile is dropped, not an error.
  h.exec("DELETE FROM hooks WHERE id = 'hook_b'");
  auto st = s.finish({}, done, 2'000, three_days);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->finished, 0u);
  EXPECT_EQ(h.text("SELECT group_concat(hook_id || ':' || event_id || ':' || outcome, ' ') FROM hook_deliveries"),
            "hook_a:e1:delivered");
  EXPECT_EQ(h.scalar("SELECT attempted_at_ms FROM hook_deliveries"), 1'000);
}

TEST(outbox_store, gone_deletes_the_hook_and_cancels_its_rows) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_hook("hook_b", "https://b.example/");
  h.add_event("e1", "call1", "hook_a");
  h.add_event("e2", "call1", "hook_a");
  h.add_event("e3", "call2", "hook_b");
  outbox_store s(h.db());
  auto c = *s.claim(1'000, lease, 100);
  auto a = *std::find_if(c.begin(), c.end(), [](const auto& x) { return x.hook_id == "hook_a"; });
  std::vector<delivery_result> r{result_for(a, "gone", 1'000)};
  auto st = s.finish(r, 1'000, three_days);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->deleted_hooks, std::vector<std::string>{"hook_a"});
  EXPECT_EQ(h.scalar("SELECT count(*) FROM hooks WHERE id = 'hook_a'"), 0);
  EXPECT_EQ(h.outbox_status("e1", "hook_a"), "cancelled");
  EXPECT_EQ(h.outbox_status("e2", "hook_a"), "cancelled");
  EXPECT_EQ(h.outbox_status("e3", "hook_b"), "in_flight");
}

TEST(outbox_store, a_hook_failing_for_disable_after_is_disabled_and_its_rows_wait) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_event("e1", "call1", "hook_a");
  h.add_event("e2", "call2", "hook_a");
  h.exec("UPDATE hooks SET failing_since_ms = 1000 WHERE id = 'hook_a'");
  outbox_store s(h.db());
  auto c = *s.claim(1'000 + three_days - 1, lease, 1);
  ASSERT_EQ(c.size(), 1u);
  std::vector<delivery_result> r{result_for(c[0], "retry", 1'000 + three_days - 1, 1'000 + three_days + 10)};
  EXPECT_TRUE(s.finish(r, 1'000 + three_days - 1, three_days)->disabled_hooks.empty());
  auto c2 = *s.claim(1'000 + three_days, lease, 1);
  ASSERT_EQ(c2.size(), 1u);
  std::vector<delivery_result> r2{result_for(c2[0], "retry", 1'000 + three_days, 1'000 + three_days + 10)};
  auto st = s.finish(r2, 1'000 + three_days, three_days);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->disabled_hooks, (std::vector<disabled_hook>{{"hook_a", "https://a.example/"}}));
  EXPECT_EQ(h.text("SELECT status FROM hooks WHERE id = 'hook_a'"), "disabled");
  EXPECT_NE(h.text("SELECT disabled_reason FROM hooks WHERE id = 'hook_a'").value_or("").find("disable_after"),
            std::string::npos);
  // Disabled: nothing is claimed, nothing is due; re-enabling (the API) makes them due again.
  EXPECT_TRUE(s.claim(1'000 + 10 * three_days, lease, 100)->empty());
  EXPECT_EQ(*s.next_due_ms(1'000 + 10 * three_days), std::nullopt);
  h.exec("UPDATE hooks SET status = 'active', failing_since_ms = NULL WHERE id = 'hook_a'");
  EXPECT_EQ(s.claim(1'000 + 10 * three_days, lease, 100)->size(), 2u);
}

TEST(outbox_store, resume_in_flight_after_a_crash_keeps_the_event_id) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_event("e1", "call1", "hook_a");
  {
    outbox_store s(h.db());
    ASSERT_EQ(s.claim(1'000, lease, 100)->size(), 1u);
  }
  h.reopen();  // the daemon died mid-attempt
  outbox_store s(h.db());
  EXPECT_TRUE(s.claim(2'000, lease, 100)->empty());
  EXPECT_EQ(*s.resume_in_flight(2'000), 1);
  auto c = *s.claim(2'000, lease, 100);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].event_id, "e1");
  EXPECT_EQ(c[0].attempts, 0);
}

TEST(outbox_store, skip_leaves_saturated_destinations_alone) {
  hook_db h;
  add_two_hooks_with_an_event_each(h);
  outbox_store s(h.db());
  auto c = *s.claim(1'000, lease, 100, {"hook:hook_a"});
  EXPECT_EQ(events_of(c), std::vector<std::string>{"e2"});
}

TEST(outbox_store, a_row_cancelled_meanwhile_is_not_resurrected) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_event("e1", "call1", "hook_a");
  outbox_store s(h.db());
  auto c = *s.claim(1'000, lease, 100);
  // The API deleted the hook while the attempt was in flight (cancels rows, deletes the hook).
  h.exec("UPDATE outbox SET status = 'cancelled' WHERE destination = 'hook:hook_a'");
  h.exec("DELETE FROM hooks WHERE id = 'hook_a'");
  std::vector<delivery_result> r{result_for(c[0], "retry", 1'000, 5'000)};
  auto st = s.finish(r, 1'000, three_days);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->finished, 0u);
  EXPECT_EQ(h.outbox_status("e1", "hook_a"), "cancelled");
  EXPECT_EQ(h.scalar("SELECT count(*) FROM hook_deliveries"), 0);
}

TEST(outbox_store, attempts_are_logged_for_every_hook_that_still_exists) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.add_hook("hook_b", "https://b.example/");
  h.add_event("e1", "call1", "hook_a");
  h.add_event("e1", "call1", "hook_b");
  h.add_event("e2", "call2", "hook_a");
  h.add_event("e2", "call2", "hook_b");
  outbox_store s(h.db());
  auto c = *s.claim(1'000, lease, 100);
  ASSERT_EQ(c.size(), 4u);
  // hook_a is deleted through the API while its attempts are in flight; hook_b's attempts go on.
  h.exec("UPDATE outbox SET status = 'cancelled' WHERE destination = 'hook:hook_a'");
  h.exec("DELETE FROM hooks WHERE id = 'hook_a'");
  std::vector<delivery_result> r;
  for (const auto& d : c) r.push_back(result_for(d, "delivered", 1'000));
  auto st = s.finish(r, 1'001, three_days);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->finished, 2u);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM hook_deliveries WHERE hook_id = 'hook_b'"), 2);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM hook_deliveries"), 2);
  EXPECT_EQ(h.outbox_status("e1", "hook_b"), "delivered");
  EXPECT_EQ(h.outbox_status("e2", "hook_a"), "cancelled");
  EXPECT_EQ(h.scalar("SELECT last_success_ms FROM hooks WHERE id = 'hook_b'"), 1'000);
}

TEST(outbox_store, prune_deletes_old_attempts_only) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  h.exec("INSERT INTO hook_deliveries (hook_id, event_id, attempt, attempted_at_ms, duration_ms, outcome) VALUES "
         "('hook_a', 'e1', 1, 100, 1, 'delivered'), ('hook_a', 'e2', 1, 5000, 1, 'delivered')");
  outbox_store s(h.db());
  EXPECT_EQ(*s.prune_deliveries(1'000), 1);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM hook_deliveries"), 1);
}

TEST(outbox_store, prune_finished_deletes_old_finished_rows_only_in_slices) {
  hook_db h;
  h.add_hook("hook_a", "https://a.example/");
  for (int i = 0; i < 5; ++i) h.add_event("old" + std::to_string(i), "c" + std::to_string(i), "hook_a");
  h.add_event("new", "c9", "hook_a");
  h.exec("UPDATE outbox SET status = 'delivered' WHERE event_id IN ('old0', 'old1', 'old2')");
  h.exec("UPDATE outbox SET status = 'failed' WHERE event_id = 'old3'");                  // finished too
  h.exec("UPDATE outbox SET status = 'pending', attempts = 4 WHERE event_id = 'old4'");  // still retrying
  h.exec("UPDATE outbox SET status = 'delivered', created_at_ms = 9000 WHERE event_id = 'new'");
  outbox_store s(h.db());
  EXPECT_EQ(*s.prune_finished(5'000, 3), 3) << "at most `limit` per call";
  EXPECT_EQ(*s.prune_finished(5'000, 3), 1);
  EXPECT_EQ(*s.prune_finished(5'000, 3), 0);
  EXPECT_EQ(h.outbox_status("old4", "hook_a"), "pending") << "a row still retrying is kept, however old";
  EXPECT_EQ(h.outbox_status("new", "hook_a"), "delivered") << "a recent row is kept";
  EXPECT_EQ(h.scalar("SELECT count(*) FROM call_events"), 6) << "the events themselves stay";
}

}  // namespace
}  // namespace kazoo_bridge::store
