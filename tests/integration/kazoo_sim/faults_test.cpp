// Fault modes: drop, drop after N events, stall (pings unanswered), garbage frames, stats.
#include "sim_fixture.hpp"

namespace kazoo_sim::test {
namespace {

using kazoo_bridge::test::run_coro;

awaitable<http_result> fault(unsigned short port, json body) {
  co_return co_await http_call(port, http::verb::post, "/sim/fault", body.dump());
}

TEST_F(sim_test, drop_closes_every_socket_and_stats_count_connections) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind9_{"call.*.*"};
    auto a = co_await subscribed_client(bind9_);
    const std::vector<std::string> bind10_{"call.CHANNEL_CREATE.*"};
    auto b = co_await subscribed_client(bind10_);
    EXPECT_TRUE(a && b);
    if (!a || !b) co_return;
    auto stats = co_await http_call(api_port(), http::verb::get, "/sim/stats");
    EXPECT_EQ(stats.body["connections"], 2);
    EXPECT_EQ(stats.body["subscriptions"], 10);
    const json arg1_ = json{{"kind", "drop"}};
    auto r = co_await fault(api_port(), arg1_);
    EXPECT_EQ(r.status, 200u);
    EXPECT_FALSE((co_await a->read_text()).has_value());
    EXPECT_FALSE((co_await b->read_text()).has_value());
    // A reconnect works (the daemon's recovery path).
    const std::vector<std::string> bind11_{"call.*.*"};
    auto again = co_await subscribed_client(bind11_);
    EXPECT_TRUE(again != nullptr);
  });
}

TEST_F(sim_test, drop_after_n_events_cuts_the_call_midway) {
  sim_options o;
  o.drop_after = 3;
  start(o);
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind12_{"call.*.*"};
    auto c = co_await subscribed_client(bind12_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    const json arg2_ = json{{"scenario", "inbound_answered"}, {"speed", 1000}};
    co_await play(arg2_);
    int events = 0;
    for (;;) {
      auto f = co_await c->read_json();
      if (f.is_null()) break;
      ++events;
    }
    EXPECT_EQ(events, 3);
  });
}

TEST_F(sim_test, stall_leaves_pings_unanswered_until_resume) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind13_{"call.*.*"};
    auto c = co_await subscribed_client(bind13_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    // Before the stall the server answers WebSocket pings.
    co_await c->ws.async_ping(websocket::ping_data(), use_nothrow);
    const json arg4_ = json{{"action", "ping"}, {"request_id", "x"}};
    co_await c->send(arg4_);
    auto reply = co_await c->read_json();
    EXPECT_EQ(reply["request_id"], "x");
    EXPECT_TRUE(c->got_pong);

    const json arg6_ = json{{"kind", "stall"}};
    co_await fault(api_port(), arg6_);
    c->got_pong = false;
    co_await c->ws.async_ping(websocket::ping_data(), use_nothrow);
    const json arg7_ = json{{"action", "ping"}, {"request_id", "y"}};
    co_await c->send(arg7_);
    // Neither the pong nor the reply comes (a deadline, not a sleep; it closes this socket).
    auto none = co_await c->read_text(std::chrono::milliseconds(400));
    EXPECT_FALSE(none.has_value());
    EXPECT_FALSE(c->got_pong);
    auto stats = co_await http_call(api_port(), http::verb::get, "/sim/stats");
    EXPECT_EQ(stats.body["stalled"], true);

    const json arg8_ = json{{"kind", "resume"}};
    co_await fault(api_port(), arg8_);
    const std::vector<std::string> bind14_{"call.*.*"};
    auto fresh = co_await subscribed_client(bind14_);
    EXPECT_TRUE(fresh != nullptr);
  });
}

TEST_F(sim_test, garbage_frames_are_the_four_kinds) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind15_{"call.*.*"};
    auto c = co_await subscribed_client(bind15_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    const json arg9_ = json{{"kind", "garbage"}};
    co_await fault(api_port(), arg9_);
    auto invalid = co_await c->read_text();
    EXPECT_TRUE(invalid && json::parse(*invalid, nullptr, false).is_discarded());
    auto binary = co_await c->read_text();
    EXPECT_TRUE(binary.has_value());
    EXPECT_TRUE(c->last_binary);
    auto no_data = co_await c->read_json();
    EXPECT_EQ(no_data["action"], "event");
    EXPECT_FALSE(no_data.contains("data"));
    auto unknown = co_await c->read_json();
    EXPECT_EQ(unknown["name"], "CHANNEL_FOO");
    // garbage interleaved with real events on request
    const json arg12_ = json{{"kind", "garbage"}, {"every", 2}};
    co_await fault(api_port(), arg12_);
    const json arg13_ = json{{"scenario", "internal"}, {"speed", 1000}};
    co_await play(arg13_);
    int real = 0, bad = 0;
    for (int i = 0; i < 6; ++i) {
      auto t = co_await c->read_text();
      if (!t) break;
      auto j = json::parse(*t, nullptr, false);
      bool ok = !c->last_binary && !j.is_discarded() && j.contains("data") && j["name"] != "CHANNEL_FOO";
      (ok ? real : bad) += 1;
    }
    EXPECT_EQ(real, 4);
    EXPECT_EQ(bad, 2);
  });
}

TEST_F(sim_test, unknown_fault_and_scenario_are_client_errors) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const json arg14_ = json{{"kind", "meteor"}};
    auto f = co_await fault(api_port(), arg14_);
    EXPECT_EQ(f.status, 400u);
    const json arg15_ = json{{"scenario", "no_such_scenario"}};
    auto p = co_await play(arg15_);
    EXPECT_EQ(p.status, 404u);
  });
}

}  // namespace
}  // namespace kazoo_sim::test
