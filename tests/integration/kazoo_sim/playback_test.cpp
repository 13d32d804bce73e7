// Playback: /channels and /cdrs follow the WebSocket, quickcall / click-to-call play their
// scenarios, load mode stamps msg_id with the send time and stops by itself.
#include "sim_fixture.hpp"

#include <set>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_sim::test {
namespace {

using kazoo_bridge::test::run_coro;

TEST_F(sim_test, channels_show_live_legs_and_cdrs_the_destroyed_ones) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind5_{"call.*.*"};
    auto c = co_await subscribed_client(bind5_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    auto tok = co_await token();
    // inbound_answered talks for about a minute: at 50x the gap after the answer is > 1 s, plenty
    // for one GET /channels over loopback.
    const json arg1_ = json{{"scenario", "inbound_answered"}, {"speed", 50}};
    auto played = co_await play(arg1_);
    std::set<std::string> legs;
    for (const auto& id : played.body["instances"][0]["call_ids"]) legs.insert(id.get<std::string>());
    int answers = 0;
    std::string last;
    while (answers < 2) {
      auto f = co_await c->read_json();
      if (f.is_null()) break;
      last = f.value("name", "");
      if (last == "CHANNEL_ANSWER") ++answers;
      EXPECT_NE(last, "CHANNEL_DESTROY");
    }
    auto live = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/channels", std::string(), tok);
    EXPECT_EQ(live.status, 200u);
    std::set<std::string> live_ids;
    for (const auto& row : live.body["data"]) {
      live_ids.insert(row["uuid"].get<std::string>());
      EXPECT_EQ(row["answered"], true);
      EXPECT_TRUE(row.contains("direction") && row.contains("other_leg") && row.contains("timestamp"));
    }
    EXPECT_EQ(live_ids, legs);
    auto cdrs_before = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/cdrs", std::string(), tok);
    EXPECT_EQ(cdrs_before.body["data"].size(), 0u);

    int destroys = 0;
    while (destroys < static_cast<int>(legs.size())) {
      auto f = co_await c->read_json();
      if (f.is_null()) break;
      if (f["name"] == "CHANNEL_DESTROY") ++destroys;
    }
    auto after = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/channels", std::string(), tok);
    EXPECT_EQ(after.body["data"].size(), 0u);
    auto cdrs = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/cdrs", std::string(), tok);
    std::set<std::string> cdr_ids;
    for (const auto& row : cdrs.body["data"]) {
      cdr_ids.insert(row["call_id"].get<std::string>());
      EXPECT_EQ(row["hangup_cause"], "NORMAL_CLEARING");
      EXPECT_GT(row["duration_seconds"].get<int>(), 30);
    }
    EXPECT_EQ(cdr_ids, legs);
  });
}

TEST_F(sim_test, quickcall_get_answers_202_and_plays_for_that_device) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind6_{"call.CHANNEL_CREATE.*"};
    auto c = co_await subscribed_client(bind6_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    auto tok = co_await token();
    // Carol's device; the number is filtered like cb_quickcall's default number_filter.
    auto r = co_await http_call(api_port(), http::verb::get,
                                "/v2/accounts/" + acme_id +
                                    "/devices/5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d/quickcall/+1%20(555)%20987-6543?speed=1000",
                                {}, tok);
    EXPECT_EQ(r.status, 202u);
    EXPECT_EQ(r.body["status"], "success");
    auto call_id = r.body["data"]["Outbound-Call-ID"].get<std::string>();
    EXPECT_TRUE(call_id.size() > 10 && call_id.substr(call_id.size() - 10) == "-quickcall") << call_id;
    auto f = co_await c->read_json();
    EXPECT_EQ(f["data"]["call_id"], call_id);
    EXPECT_EQ(f["data"]["call_direction"], "outbound");
    EXPECT_EQ(f["data"]["custom_channel_vars"]["authorizing_id"], "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d");
    EXPECT_EQ(f["data"]["caller_id_number"], "+15559876543");
    auto no_token = co_await http_call(api_port(), http::verb::get,
                                       "/v2/accounts/" + acme_id + "/users/4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c/quickcall/100");
    EXPECT_EQ(no_token.status, 401u);
  });
}

TEST_F(sim_test, clicktocall_connect_plays_c2c_legs) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind7_{"call.CHANNEL_CREATE.*"};
    auto c = co_await subscribed_client(bind7_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    auto tok = co_await token();
    auto c2c = std::string("0123456789abcdef0123456789abcdef");
    auto bad = co_await http_call(api_port(), http::verb::post,
                                  "/v2/accounts/" + acme_id + "/clicktocall/" + c2c + "/connect", "{}", tok);
    EXPECT_EQ(bad.status, 400u);
    const json arg5_ = json{{"data", {{"contact", "4155550123"}}}};
    auto r = co_await http_call(api_port(), http::verb::post,
                                "/v2/accounts/" + acme_id + "/clicktocall/" + c2c + "/connect?speed=1000",
                                arg5_.dump(), tok);
    EXPECT_EQ(r.status, 202u);
    auto f = co_await c->read_json();
    auto id = f["data"]["call_id"].get<std::string>();
    EXPECT_EQ(id.rfind("c2c-" + c2c + "-", 0), 0u) << id;
    EXPECT_EQ(f["data"]["custom_channel_vars"]["authorizing_type"], "clicktocall");
  });
}

TEST_F(sim_test, load_mode_stamps_msg_id_with_send_time_and_stops_by_itself) {
  sim_options o;
  o.mode = run_mode::load;
  o.calls = 20;
  o.rate = 200;
  o.duration_s = 0.5;
  o.speed = 100;
  o.scenario = "internal";
  o.ws_listen = "127.0.0.1:0";
  o.api_listen = "127.0.0.1:0";
  sim = std::make_unique<simulator>(ioc.get_executor(), o, logs.logger());
  bool done = false;
  sim->start([&] { done = true; });
  std::size_t frames = 0;
  std::int64_t max_skew_us = 0;
  std::set<std::string> call_ids;
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind8_{"call.*.*"};
    auto c = co_await subscribed_client(bind8_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    while (!done) {
      auto f = co_await c->read_json(std::chrono::milliseconds(1500));
      if (f.is_null()) break;
      ++frames;
      call_ids.insert(f["data"]["call_id"].get<std::string>());
      auto now_us = kazoo_bridge::now_unix_ms() * 1000;
      std::int64_t sent_us = std::stoll(f["data"]["msg_id"].get<std::string>());
      max_skew_us = std::max(max_skew_us, std::abs(now_us - sent_us));
    }
  }, std::chrono::seconds(10));
  EXPECT_TRUE(done);
  EXPECT_GT(frames, 20u);
  EXPECT_GT(call_ids.size(), 10u);  // distinct Call-IDs per instance
  // msg_id is the real send time (µs), not scenario time: within a few seconds of our clock.
  EXPECT_LT(max_skew_us, 5'000'000);
  auto stats = sim->load_stats();
  EXPECT_EQ(stats["load_running"], false);
  EXPECT_GE(stats["load_events_sent"].get<std::uint64_t>(), frames);
}

TEST_F(sim_test, load_mode_stamps_msg_id_when_written_and_keeps_channels_for_reconciliation) {
  sim_options o;
  o.mode = run_mode::load;
  o.calls = 200;
  o.rate = 100;
  o.duration_s = 30;
  o.speed = 10;
  o.scenario = "inbound_answered";
  o.ws_listen = "127.0.0.1:0";
  o.api_listen = "127.0.0.1:0";
  sim = std::make_unique<simulator>(ioc.get_executor(), o, logs.logger());
  sim->start([] {});
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind_{"call.*.*"};
    auto c = co_await subscribed_client(bind_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    // Hold the socket: the frames queue up in the simulator (a slow consumer, §1.7).
    auto& h = sim->event_hub();
    h.stall();
    const auto before_stall = h.stats().frames_sent;
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (h.stats().frames_sent < before_stall + 30) {
      tick.expires_after(std::chrono::milliseconds(10));
      co_await tick.async_wait(use_nothrow);
    }
    const auto queued = h.stats().frames_sent;
    const std::int64_t resumed_us = kazoo_bridge::now_unix_ms() * 1000;
    h.resume();
    // msg_id is the time the frame was handed to the socket: frames queued during the stall carry
    // a time after the resume. Only those written before the stall and the one the writer held
    // may be older.
    std::uint64_t older = 0;
    std::int64_t last_us = 0;
    std::set<std::string> created;
    for (std::uint64_t n = 0; n < queued; ++n) {
      auto f = co_await c->read_json(std::chrono::seconds(5));
      EXPECT_FALSE(f.is_null());
      if (f.is_null()) co_return;
      const auto& d = f["data"];
      if (d["event_name"] == "CHANNEL_CREATE") created.insert(d["call_id"].get<std::string>());
      std::int64_t us = std::stoll(d["msg_id"].get<std::string>());
      if (us < resumed_us) ++older;
      EXPECT_GE(us, last_us);  // stamped in write order
      last_us = us;
    }
    EXPECT_LE(older, before_stall + 1);
    // GET /channels (what a daemon reconciles against after a reconnect, §5.3) lists the live legs
    // of the load calls.
    auto tok = co_await token();
    auto r = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/channels", {}, tok);
    EXPECT_EQ(r.status, 200u);
    std::size_t known = 0;
    for (const auto& row : r.body["data"]) {
      EXPECT_EQ(row["account_id"], acme_id);
      EXPECT_TRUE(row.contains("answered"));
      if (created.contains(row["uuid"].get<std::string>())) ++known;
    }
    EXPECT_GT(known, 0u);
  }, std::chrono::seconds(20));
}

}  // namespace
}  // namespace kazoo_sim::test
