// The blackhole client against an in-process fake WebSocket (fake_ws_source) and a fake Crossbar on our
// own http_server: subscribe, events through the bounded channel, malformed frames, drops, silence,
// error replies, reconciliation and stop.

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/kazoo/blackhole_client.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>
#include <kazoo_bridge/kazoo/directory_refresher.hpp>
#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/http_server.hpp>
#include <kazoo_bridge/net/router.hpp>
#include <kazoo_bridge/net/tls.hpp>

#include "support/fake_ws_source.hpp"
#include "support/log_capture.hpp"
#include "support/run_coro.hpp"

namespace kazoo_bridge::kazoo {
namespace {

using namespace std::chrono_literals;
namespace http = net::http;

constexpr const char* account = "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d";

awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_nothrow);
}

template <class Pred>
awaitable<bool> eventually(Pred pred, std::chrono::milliseconds limit = 3s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) co_return true;
    co_await pause(5ms);
  }
  co_return pred();
}

// A Crossbar that hands out numbered tokens and serves channels/CDRs listings.
struct fake_crossbar {
  int auths = 0;
  int channel_requests = 0;
  int cdr_requests = 0;
  int users_requests = 0;
  std::string last_cdr_query;
  nlohmann::json channels = nlohmann::json::array();
  net::router router;
  std::unique_ptr<net::http_server> server;
  std::uint16_t port = 0;

  static awaitable<net::response> api_auth(fake_crossbar* self, net::request_context ctx) {
    ++self->auths;
    auto body = nlohmann::json::parse(ctx.req.body(), nullptr, false);
    if (!body.is_object() || body["data"]["api_key"] != "good-key") {
      co_return net::json_response(http::status::not_found, {{"status", "error"}, {"error", "404"}});
    }
    co_return net::json_response(http::status::created,
                                 {{"auth_token", "token-" + std::to_string(self->auths)},
                                  {"status", "success"},
                                  {"data", {{"account_id", account}}}});
  }
  static awaitable<net::response> listing(fake_crossbar* self, net::request_context ctx) {
    if (ctx.path().find("/users") != std::string_view::npos || ctx.path().find("/devices") != std::string_view::npos) {
      if (ctx.path().find("/users") != std::string_view::npos) ++self->users_requests;
      co_return net::json_response(http::status::ok, {{"status", "success"}, {"data", nlohmann::json::array()}});
    }
    if (ctx.path().find("/channels") != std::string_view::npos) {
      ++self->channel_requests;
      co_return net::json_response(http::status::ok, {{"status", "success"}, {"data", self->channels}});
    }
    ++self->cdr_requests;
    self->last_cdr_query = std::string(ctx.req.target());
    co_return net::json_response(http::status::ok, {{"status", "success"}, {"data", nlohmann::json::array()}});
  }

  explicit fake_crossbar(asio::any_io_executor ex, std::shared_ptr<spdlog::logger> log) {
    router.add(http::verb::put, "/v2/api_auth", [this](net::request_context c) { return api_auth(this, std::move(c)); });
    router.add(http::verb::get, "/v2/accounts/{id}/channels",
               [this](net::request_context c) { return listing(this, std::move(c)); });
    router.add(http::verb::get, "/v2/accounts/{id}/cdrs",
               [this](net::request_context c) { return listing(this, std::move(c)); });
    router.add(http::verb::get, "/v2/accounts/{id}/users",
               [this](net::request_context c) { return listing(this, std::move(c)); });
    router.add(http::verb::get, "/v2/accounts/{id}/devices",
               [this](net::request_context c) { return listing(this, std::move(c)); });
    net::server_options o;
    o.listen = "127.0.0.1:0";
    server = std::make_unique<net::http_server>(ex, o, router, log);
    port = server->listen().value().port();
    spawn_logged(ex, server->run(), "fake-crossbar", log);
  }
};

struct ingest_fixture : ::testing::Test {
  asio::io_context ioc{1};
  test::log_capture logs{"ingest"};
  metrics_registry metrics;
  test::fake_ws_source ws{ioc.get_executor()};
  fake_crossbar crossbar{ioc.get_executor(), logs.logger()};
  std::shared_ptr<asio::ssl::context> tls = net::make_client_tls_context();
  net::http_client http{ioc.get_executor(), tls};
  crossbar_client cb{http, "http://127.0.0.1:" + std::to_string(crossbar.port) + "/v2", logs.logger()};
  std::unique_ptr<token_source> tokens;
  ingest_channel channel{ioc.get_executor(), 4};
  std::unique_ptr<blackhole_client> client;
  std::vector<ingest_item> items;

  void make_client(std::int64_t last_event_ms = 0, std::string api_key = "good-key") {
    tokens = std::make_unique<token_source>(cb, api_key, logs.logger());
    ingest_options o;
    o.websocket_url = ws.url("/");
    o.ws.ping_interval = 40ms;
    o.ws.idle_timeout = 300ms;
    o.backoff.initial = 10ms;
    o.backoff.max = 50ms;
    client = std::make_unique<blackhole_client>(ioc.get_executor(), o, tls, *tokens, cb, channel, metrics,
                                                logs.logger());
    client->feed_position_ms = [last_event_ms] { return last_event_ms; };
    spawn_logged(ioc.get_executor(), client->run(), "ingest", logs.logger());
    spawn_logged(ioc.get_executor(), drain(this), "drain", logs.logger());
  }

  static awaitable<void> drain(ingest_fixture* self) {
    for (;;) {
      auto [ec, item] = co_await self->channel.async_receive(use_nothrow);
      if (ec) co_return;
      self->items.push_back(std::move(item));
    }
  }

  std::size_t events() const {
    return static_cast<std::size_t>(std::count_if(items.begin(), items.end(),
                                                  [](const auto& i) { return std::holds_alternative<event_item>(i); }));
  }
  std::size_t reconciles() const { return items.size() - events(); }

  // Answers every subscribe the client has sent on the current connection.
  void reply_to_subscribes(std::size_t& answered, const char* status = "success", const char* error = "") {
    for (; answered < ws.received().size(); ++answered) {
      auto j = nlohmann::json::parse(ws.received()[answered]);
      nlohmann::json reply{{"action", "reply"}, {"request_id", j["request_id"]}, {"status", status}};
      if (std::string(status) == "success") {
        reply["data"] = {{"subscribed", {j["data"]["binding"]}}};
      } else {
        reply["data"] = {{"errors", {std::string(error) + j["auth_token"].get<std::string>()}}};
      }
      ws.send_text(reply.dump());
    }
  }

  static std::string event_frame(const std::string& name, const std::string& call_id) {
    return nlohmann::json{{"action", "event"},
                          {"subscribed_key", "call.*.*"},
                          {"subscription_key", std::string("call.") + account + ".*.*"},
                          {"name", name},
                          {"routing_key", std::string("call.") + account + "." + name + "." + call_id},
                          {"data",
                           {{"event_name", name},
                            {"call_id", call_id},
                            {"call_direction", "inbound"},
                            {"timestamp", 63885219200},
                            {"custom_channel_vars", {{"account_id", account}}}}}}
        .dump();
  }

  double metric(const std::string& line_prefix) {
    auto text = "\n" + metrics.render();
    auto pos = text.find("\n" + line_prefix + " ");
    if (pos == std::string::npos) return -1;
    return std::stod(text.substr(pos + line_prefix.size() + 2));
  }

  void finish() {
    client->stop();
    channel.close();
    ws.stop();
    crossbar.server->stop();
    ioc.run_for(2s);
  }
};

awaitable<void> subscribe_and_stream(ingest_fixture* f) {
  std::size_t answered = 0;
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 1; }));
  auto sub = nlohmann::json::parse(f->ws.received()[0]);
  EXPECT_EQ(sub["action"], "subscribe");
  EXPECT_EQ(sub["auth_token"], "token-1");
  EXPECT_EQ(sub["data"]["account_id"], account);  // no accounts configured: the key's own account
  EXPECT_EQ(sub["data"]["binding"], "call.*.*");
  EXPECT_FALSE(f->client->subscribed());
  f->reply_to_subscribes(answered);
  EXPECT_TRUE(co_await eventually([&] { return f->client->subscribed(); }));
  // After subscribing, live channels are fetched; with no stored event there is no CDR catch-up.
  EXPECT_TRUE(co_await eventually([&] { return f->reconciles() == 1; }));
  EXPECT_EQ(f->crossbar.channel_requests, 1);
  EXPECT_EQ(f->crossbar.cdr_requests, 0);

  // More events than the channel holds: they all arrive, in order (back-pressure, not loss).
  for (int i = 0; i < 20; ++i) f->ws.send_text(f->event_frame("CHANNEL_CREATE", "leg-" + std::to_string(i)));
  EXPECT_TRUE(co_await eventually([&] { return f->events() == 20; }));
  int i = 0;
  for (const auto& item : f->items) {
    if (auto* e = std::get_if<event_item>(&item)) {
      EXPECT_EQ(e->frame.data["call_id"], "leg-" + std::to_string(i++));
      EXPECT_GT(e->received_at_ms, 0);
    }
  }
  EXPECT_EQ(f->ws.handshakes().at(0).count(http::field::sec_websocket_protocol), 0u);  // §1.1: would be a 400
}

TEST_F(ingest_fixture, subscribes_with_the_singular_binding_and_streams_events_in_order) {
  make_client();
  test::run_coro(ioc, [this] { return subscribe_and_stream(this); }, 10s);
  EXPECT_EQ(metric("kazoo_bridge_kazoo_connected"), 1);
  finish();
}

awaitable<void> garbage(ingest_fixture* f) {
  std::size_t answered = 0;
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 1; }));
  f->reply_to_subscribes(answered);
  EXPECT_TRUE(co_await eventually([&] { return f->client->subscribed(); }));
  f->ws.send_text("{not json");
  f->ws.send_binary(std::string("\x00\x01\x02", 3));
  f->ws.send_text(R"({"action":"event","name":"CHANNEL_CREATE"})");  // no data
  f->ws.send_text(R"({"action":"event","name":"CHANNEL_FOO","data":{"call_id":"x"}})");
  f->ws.send_text("{not json either");
  f->ws.send_text(f->event_frame("CHANNEL_ANSWER", "after-garbage"));
  EXPECT_TRUE(co_await eventually([&] { return f->events() == 1; }));
  EXPECT_EQ(f->ws.connections(), 1u);  // garbage never costs the connection
}

TEST_F(ingest_fixture, malformed_frames_are_counted_logged_once_and_skipped) {
  make_client();
  test::run_coro(ioc, [this] { return garbage(this); }, 10s);
  auto text = metrics.render();
  double malformed = 0;
  for (std::size_t pos = 0; (pos = text.find("kazoo_bridge_kazoo_malformed_frames_total{", pos)) != std::string::npos;) {
    auto end = text.find('\n', pos);
    malformed += std::stod(text.substr(text.rfind(' ', end) + 1, end - text.rfind(' ', end) - 1));
    pos = end;
  }
  EXPECT_EQ(malformed, 5);
  auto log = logs.text();
  EXPECT_NE(log.find("malformed frame"), std::string::npos);
  // Two invalid-JSON frames, but their reason is logged once.
  auto first = log.find("{not json");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(log.find("{not json either"), std::string::npos) << log;
  finish();
}

awaitable<void> drop_and_silence(ingest_fixture* f) {
  std::size_t answered = 0;
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 1; }));
  f->reply_to_subscribes(answered);
  EXPECT_TRUE(co_await eventually([&] { return f->client->subscribed(); }));

  // 1. The server drops the TCP connection: reconnect with a FRESH token, resubscribe.
  f->ws.drop();
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 2; }));
  EXPECT_EQ(f->ws.connections(), 2u);
  EXPECT_EQ(nlohmann::json::parse(f->ws.received()[1])["auth_token"], "token-2");
  EXPECT_FALSE(f->client->subscribed());
  f->reply_to_subscribes(answered);
  EXPECT_TRUE(co_await eventually([&] { return f->client->subscribed(); }));

  // 2. The server goes silent (no frames, pings unanswered): detected within idle_timeout, reconnect.
  EXPECT_TRUE(co_await eventually([&] { return f->ws.pings_received() >= 2; }));
  f->ws.stall(true);
  EXPECT_TRUE(co_await eventually([&] { return f->ws.connections() == 3; }, 3s));
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 3; }));

  // 3. An error reply to subscribe is an error: logged (token redacted) and the connection retried.
  f->reply_to_subscribes(answered, "error", "failed to authenticate token ");
  EXPECT_TRUE(co_await eventually([&] { return f->ws.connections() == 4; }, 3s));
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 4; }));
  f->reply_to_subscribes(answered);
  EXPECT_TRUE(co_await eventually([&] { return f->client->subscribed(); }));
}

TEST_F(ingest_fixture, drops_silence_and_error_replies_lead_to_reconnects_with_fresh_tokens) {
  make_client();
  test::run_coro(ioc, [this] { return drop_and_silence(this); }, 15s);
  EXPECT_GE(metric("kazoo_bridge_kazoo_reconnects_total"), 3);
  auto log = logs.text();
  EXPECT_NE(log.find("kazoo refused subscribe"), std::string::npos);
  EXPECT_NE(log.find("failed to authenticate token [redacted]"), std::string::npos) << log;
  EXPECT_EQ(log.find("failed to authenticate token token-"), std::string::npos) << "token leaked into the log";
  // Every reconnect reconciles, so calls that ended while we were away still end.
  EXPECT_GE(crossbar.channel_requests, 3);
  finish();
}

awaitable<void> catch_up(ingest_fixture* f) {
  std::size_t answered = 0;
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 1; }));
  f->reply_to_subscribes(answered);
  EXPECT_TRUE(co_await eventually([&] { return f->reconciles() == 1; }));
}

TEST_F(ingest_fixture, after_a_restart_cdrs_since_the_last_stored_event_are_fetched) {
  crossbar.channels = nlohmann::json::parse(R"([{"uuid":"live-1","direction":"inbound","answered":true}])");
  const std::int64_t last_event_ms = (now_unix_ms() / 1000 - 600) * 1000;  // ten minutes ago
  make_client(last_event_ms);
  test::run_coro(ioc, [this] { return catch_up(this); }, 10s);
  EXPECT_EQ(crossbar.cdr_requests, 1);
  // From the last event minus the 2-minute overlap, in Gregorian seconds.
  auto from = "created_from=" + std::to_string(unix_to_gregorian_s(last_event_ms / 1000 - 120)) + "&";
  EXPECT_NE(crossbar.last_cdr_query.find(from), std::string::npos) << crossbar.last_cdr_query;
  auto* rec = std::get_if<reconcile_item>(&items.at(0));
  ASSERT_NE(rec, nullptr);
  ASSERT_EQ(rec->live.size(), 1u);
  EXPECT_EQ(rec->live[0].uuid, "live-1");
  EXPECT_EQ(rec->account_id, account);
  finish();
}

awaitable<void> refused_key(ingest_fixture* f) {
  EXPECT_TRUE(co_await eventually([&] { return f->crossbar.auths >= 3; }));
  EXPECT_EQ(f->ws.connections(), 0u);  // no socket without a token
}

TEST_F(ingest_fixture, a_refused_api_key_is_an_error_and_retried_with_backoff) {
  make_client(0, "bad-key");
  test::run_coro(ioc, [this] { return refused_key(this); }, 10s);
  EXPECT_NE(logs.text().find("kazoo rejected the API key"), std::string::npos);
  EXPECT_EQ(logs.text().find("bad-key"), std::string::npos);
  finish();
}

awaitable<void> connect_twice(ingest_fixture* f) {
  std::size_t answered = 0;
  EXPECT_TRUE(co_await eventually([&] { return f->ws.received().size() == 1; }));
  f->reply_to_subscribes(answered);
  EXPECT_TRUE(co_await eventually([&] { return f->reconciles() == 1; }));
  co_await pause(200ms);  // time for a second, redundant fetch to show up
  EXPECT_EQ(f->crossbar.users_requests, 1) << "one directory fetch per connect (before reconciling)";
  // A reconnect refreshes once more, again just before its reconciliation.
  f->ws.drop();
  answered = 0;
  EXPECT_TRUE(co_await eventually([&] { return f->ws.connections() == 2 && f->ws.received().size() >= 2; }));
  for (std::size_t i = 1; i < f->ws.received().size(); ++i) {
    auto j = nlohmann::json::parse(f->ws.received()[i]);
    nlohmann::json reply{{"action", "reply"}, {"request_id", j["request_id"]}, {"status", "success"},
                         {"data", {{"subscribed", {j["data"]["binding"]}}}}};
    f->ws.send_text(reply.dump());
  }
  EXPECT_TRUE(co_await eventually([&] { return f->reconciles() == 2; }));
  co_await pause(200ms);
  EXPECT_EQ(f->crossbar.users_requests, 2);
}

TEST_F(ingest_fixture, the_directory_is_fetched_once_per_connect) {
  // Wired as application.cpp wires it: refreshed before each reconciliation, told the accounts once
  // subscribed. Telling it the accounts used to wake its timer and fetch everything a second time.
  make_client();
  directory_refresher dir(ioc.get_executor(), cb, *tokens, std::chrono::hours(1), logs.logger());
  spawn_logged(ioc.get_executor(), dir.run(), "directory", logs.logger());
  client->before_reconcile = [&dir](std::string a) { return dir.refresh(std::move(a)); };
  client->on_subscribed = [&dir](const std::vector<std::string>& accounts) { dir.set_accounts(accounts); };
  test::run_coro(ioc, [this] { return connect_twice(this); }, 10s);
  dir.stop();
  finish();
}

}  // namespace
}  // namespace kazoo_bridge::kazoo
