// ingest channel -> calls::tracker -> store::committer -> SQLite file, in process: every lifecycle event of a
// scenario is committed with its call, and stop() drains what is still buffered instead of dropping it.

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <kazoo_sim/scenario.hpp>

#include <kazoo_bridge/app/pipeline.hpp>
#include <kazoo_bridge/calls/frame.hpp>
#include <kazoo_bridge/store/call_history.hpp>

#include <limits>
#include <map>
#include <set>

#include "support/log_capture.hpp"
#include "support/run_coro.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::app {
namespace {

using namespace std::chrono_literals;

const std::string acme = "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d";

std::vector<calls::frame> scenario_frames(const std::string& name, std::uint64_t seed) {
  auto fixture = kazoo_sim::load_fixture(KAZOO_SIM_DEFAULT_FIXTURE).value();
  auto sc = kazoo_sim::load_scenario(std::string(KAZOO_SIM_DEFAULT_SCENARIOS_DIR) + "/" + name + ".json").value();
  kazoo_sim::instance inst;
  inst.account_id = acme;
  inst.seed = seed;
  inst.start_unix_ms = 1718000000000;
  std::vector<calls::frame> frames;
  for (const auto& e : kazoo_sim::expand(sc, fixture, inst)) {
    nlohmann::json env{{"action", "event"},         {"subscribed_key", "call.*.*"},
                       {"name", e.name},            {"routing_key", kazoo_sim::routing_key(e)},
                       {"data", e.data}};
    frames.push_back(calls::parse_frame(env.dump()).value());
  }
  return frames;
}

struct pipeline_fixture : ::testing::Test {
  test::temp_dir dir;
  test::log_capture logs{"pipeline"};
  asio::io_context ioc{1};
  asio::thread_pool db_pool{1};
  metrics_registry metrics;
  std::unique_ptr<store::database> db = open_db(dir.file("kb.db"));

  static std::unique_ptr<store::database> open_db(const std::string& path) {
    store::options o;
    o.path = path;
    return store::database::open(o).value();
  }
  store::committer committer{ioc.get_executor(), db_pool, *db, {}, metrics, logs.logger()};
  calls::tracker tracker;
  kazoo::ingest_channel channel{ioc.get_executor(), 1000};
  pipeline pipe{ioc.get_executor(), channel, tracker, committer, metrics, logs.logger(), 0};
  bool pipe_done = false;

  ~pipeline_fixture() override { db_pool.join(); }

  static awaitable<void> run_pipe(pipeline_fixture* f) {
    co_await f->pipe.run();
    f->pipe_done = true;
    f->committer.stop();
  }
};

awaitable<void> feed_and_stop(pipeline_fixture* f, std::vector<calls::frame> frames) {
  // Everything is buffered in the channel before the pipeline gets a chance to run; stop() comes right
  // after, so the events can only reach the database through the drain.
  for (auto& fr : frames) {
    kazoo::ingest_item item{kazoo::event_item{std::move(fr), 1718000000000}};
    auto [ec] = co_await f->channel.async_send(error_code{}, std::move(item), use_nothrow);
    EXPECT_FALSE(ec);
  }
  f->pipe.stop();
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!f->pipe_done) {
    t.expires_after(5ms);
    co_await t.async_wait(use_nothrow);
  }
}

TEST_F(pipeline_fixture, stop_drains_buffered_frames_into_the_database) {
  auto frames = scenario_frames("inbound_answered", 1);
  auto more = scenario_frames("park_retrieve", 2);
  frames.insert(frames.end(), more.begin(), more.end());
  std::vector<std::string> seen;
  pipe.on_event = [&](const calls::lifecycle_event& e) { seen.push_back(e.type); };
  spawn_logged(ioc.get_executor(), committer.run(), "committer", logs.logger());
  spawn_logged(ioc.get_executor(), run_pipe(this), "pipeline", logs.logger());
  test::run_coro(ioc, [this, frames]() { return feed_and_stop(this, frames); }, 10s);
  ioc.run_for(2s);  // the committer finishes its last transaction

  auto stored = db->events({.call_id = {}, .type = {}, .account_id = {}, .limit = 1000}).value();
  ASSERT_EQ(stored.size(), seen.size());
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "call.ended"), 2);
  auto calls = db->recent_calls(10).value();
  ASSERT_EQ(calls.size(), 2u);
  for (const auto& c : calls) {
    EXPECT_EQ(c.status, "ended");
    EXPECT_TRUE(c.answered);
  }
  // The newest event time is kept for CDR catch-up after a restart.
  auto last = db->meta(feed_position_meta_key).value();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, "1718000000000");
  EXPECT_NE(metrics.render().find("kazoo_bridge_lifecycle_events_total{type=\"call.parked\"} 1"), std::string::npos);
}

TEST_F(pipeline_fixture, every_user_an_event_names_becomes_a_party_of_its_call) {
  // The calls a `calls`-scope user sees through the API (call_parties): the internal caller, each
  // ring group member rung, the answering user and the transfer target.
  std::vector<calls::frame> frames;
  std::uint64_t seed = 10;
  for (const char* name : {"ring_group_lose_race", "blind_transfer", "internal", "click_to_call"}) {
    auto f = scenario_frames(name, ++seed);
    frames.insert(frames.end(), f.begin(), f.end());
  }
  spawn_logged(ioc.get_executor(), committer.run(), "committer", logs.logger());
  spawn_logged(ioc.get_executor(), run_pipe(this), "pipeline", logs.logger());
  test::run_coro(ioc, [this, frames]() { return feed_and_stop(this, frames); }, 10s);
  ioc.run_for(2s);

  std::map<std::string, std::set<std::string>> named;  // call -> users its events name
  for (const auto& e : db->events({.call_id = {}, .type = {}, .account_id = {}, .limit = 1000}).value()) {
    auto p = nlohmann::json::parse(e.payload);
    for (const char* key : {"user_id", "from_user_id"}) {
      if (p[key].is_string()) named[e.call_id].insert(p[key].get<std::string>());
    }
  }
  ASSERT_EQ(named.size(), 4u) << "one call per scenario, each with at least one user";
  store::call_history history(*db);
  std::size_t max_parties = 0;
  for (const auto& [call_id, users] : named) {
    max_parties = std::max(max_parties, users.size());
    for (const auto& u : users) {
      auto found = history.find_call(acme, call_id, u);
      ASSERT_TRUE(found);
      EXPECT_TRUE(found->has_value()) << u << " is a party of " << call_id;
    }
    auto stranger = history.find_call(acme, call_id, std::string("someone-else"));
    ASSERT_TRUE(stranger);
    EXPECT_FALSE(stranger->has_value());
  }
  EXPECT_GE(max_parties, 2u) << "a ring group or a transfer involves several users";
}

TEST_F(pipeline_fixture, matching_subscriptions_get_one_outbox_row_per_event_in_its_transaction) {
  delivery::subscription_index index;
  auto sub = [](std::string id, std::string event, std::string account = acme) {
    return delivery::subscription{.id = std::move(id), .account_id = std::move(account), .user_id = "u-none",
                                  .event = std::move(event), .scope = "account"};
  };
  index.put(sub("all", "*"));
  index.put(sub("ended", "call.ended"));
  index.put(sub("missed", "call.missed"));
  index.put(sub("elsewhere", "*", "another-account"));
  auto off = sub("off", "*");
  off.active = false;
  index.put(off);
  auto mine = sub("stranger", "*");
  mine.scope = "user";  // a user no event names
  index.put(mine);
  pipe.subscriptions = &index;
  std::size_t outbox_inserted = 0;
  committer.on_committed = [&](const store::commit_stats& st) { outbox_inserted += st.outbox_inserted; };

  auto frames = scenario_frames("inbound_answered", 3);
  spawn_logged(ioc.get_executor(), committer.run(), "committer", logs.logger());
  spawn_logged(ioc.get_executor(), run_pipe(this), "pipeline", logs.logger());
  test::run_coro(ioc, [this, frames]() { return feed_and_stop(this, frames); }, 10s);
  ioc.run_for(2s);

  auto events = db->events({.call_id = {}, .type = {}, .account_id = {}, .limit = 1000}).value();
  ASSERT_GE(events.size(), 3u);
  auto rows = db->due_outbox(std::numeric_limits<std::int64_t>::max(), 1000).value();
  std::map<std::string, std::vector<std::string>> by_destination;  // destination -> event ids
  for (const auto& r : rows) {
    by_destination[r.destination].push_back(r.event_id);
    EXPECT_EQ(r.status, "pending");
    EXPECT_EQ(r.attempts, 0);
  }
  ASSERT_EQ(by_destination["hook:all"].size(), events.size()) << "one row per event for the wildcard hook";
  std::set<std::string> all(by_destination["hook:all"].begin(), by_destination["hook:all"].end());
  for (const auto& e : events) {
    EXPECT_TRUE(all.count(e.id)) << e.type;
    for (const auto& r : rows) {
      if (r.event_id == e.id) {
        EXPECT_EQ(r.call_id, e.call_id);
      }
    }
  }
  ASSERT_EQ(by_destination["hook:ended"].size(), 1u);
  for (const auto& e : events) {
    if (e.id == by_destination["hook:ended"][0]) {
      EXPECT_EQ(e.type, "call.ended");
    }
  }
  EXPECT_EQ(by_destination.count("hook:missed"), 0u) << "an answered call is not missed";
  EXPECT_EQ(by_destination.count("hook:elsewhere"), 0u);
  EXPECT_EQ(by_destination.count("hook:off"), 0u) << "an inactive subscription gets nothing";
  EXPECT_EQ(by_destination.count("hook:stranger"), 0u);
  EXPECT_EQ(rows.size(), events.size() + 1);
  EXPECT_EQ(outbox_inserted, rows.size()) << "counted by the commits that stored the events";
}

TEST(pipeline_rows, outbox_rows_for_matching_subscriptions_only) {
  delivery::subscription_index index;
  index.put({.id = "h1", .account_id = "acc", .user_id = "u1", .event = "call.missed", .scope = "user"});
  calls::lifecycle_event e;
  e.id = "evt_1";
  e.type = "call.missed";
  e.call_id = "c1";
  e.account_id = "acc";
  e.payload = {{"user_id", "u1"}, {"from_user_id", nullptr}, {"direction", "inbound"}};
  std::vector<const delivery::subscription*> scratch;
  std::vector<store::outbox_row> out;
  add_outbox_rows(e, index, 42, scratch, out);
  e.payload["user_id"] = "u2";
  add_outbox_rows(e, index, 43, scratch, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].event_id, "evt_1");
  EXPECT_EQ(out[0].destination, "hook:h1");
  EXPECT_EQ(out[0].call_id, "c1");
  EXPECT_EQ(out[0].next_attempt_at_ms, 42);
}

TEST(pipeline_rows, parties_are_taken_once_per_batch_from_user_id_and_from_user_id) {
  calls::lifecycle_event a, b, c;
  a.call_id = b.call_id = "c1";
  c.call_id = "c2";
  a.payload = {{"user_id", "u1"}, {"from_user_id", "u0"}};
  b.payload = {{"user_id", "u1"}, {"from_user_id", nullptr}};  // u1 again: not repeated
  c.payload = {{"user_id", nullptr}, {"from_user_id", ""}};     // nobody
  std::unordered_set<std::string> seen;
  std::vector<store::party_row> out;
  for (const auto* e : {&a, &b, &c}) add_parties(*e, seen, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].call_id, "c1");
  EXPECT_EQ(out[0].user_id, "u1");
  EXPECT_EQ(out[1].user_id, "u0");
}

TEST(pipeline_rows, call_records_survive_the_round_trip_through_the_store_row) {
  calls::call_record r;
  r.call_id = "c1";
  r.account_id = acme;
  r.status = "answered";
  r.direction = "inbound";
  r.answered = true;
  r.user_id = "u1";
  r.started_at_ms = 1;
  r.updated_at_ms = 2;
  r.snapshot = R"({"from_number":"+15551234567"})";
  r.state = R"({"legs":["a"]})";
  auto back = from_row(to_row(r));
  EXPECT_EQ(back.call_id, r.call_id);
  EXPECT_EQ(back.status, r.status);
  EXPECT_EQ(back.user_id, r.user_id);
  EXPECT_FALSE(back.ended_at_ms.has_value());
  EXPECT_EQ(back.snapshot, r.snapshot);
  EXPECT_EQ(back.state, r.state);
  // A damaged row is skipped by restore() rather than throwing at start-up.
  auto row = to_row(r);
  row.state = "{not json";
  calls::tracker t;
  EXPECT_NO_THROW(t.restore(from_row(row)));
  EXPECT_EQ(t.active_calls(), 0U);
}

}  // namespace
}  // namespace kazoo_bridge::app
