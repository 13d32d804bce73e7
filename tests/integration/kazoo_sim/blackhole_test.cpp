// The blackhole protocol table of reference/kazoo.md §1.2-§1.7, checked over a real socket.
#include "sim_fixture.hpp"

namespace kazoo_sim::test {
namespace {

using kazoo_bridge::test::run_coro;

std::string first_error(const json& reply) {
  if (!reply.contains("data") || !reply["data"].contains("errors")) return "<no errors>";
  return reply["data"]["errors"][0].get<std::string>();
}

json subscribe(const std::string& token, const std::string& account, const std::string& binding) {
  return json{{"action", "subscribe"}, {"auth_token", token}, {"request_id", "r-1"},
              {"data", {{"account_id", account}, {"binding", binding}}}};
}

TEST_F(sim_test, protocol_error_strings_match_kazoo) {
  start();
  struct row {
    std::string name;
    json request;  // "{TOKEN}" in auth_token is replaced by a valid token
    std::string error;
  };
  std::vector<row> table = {
      {"no token", json{{"action", "subscribe"}, {"data", {{"account_id", acme_id}, {"binding", "call.*.*"}}}},
       "authentication token required"},
      {"unknown token", subscribe("not-a-token", acme_id, "call.*.*"),
       "failed to authenticate token not-a-token"},
      {"token not a string", json{{"action", "subscribe"}, {"auth_token", 42}, {"data", {{"binding", "x"}}}},
       "invalid authentication token format"},
      {"no data", json{{"action", "subscribe"}, {"auth_token", "{TOKEN}"}},
       "missing required keys in data object"},
      {"plural bindings ignored",
       json{{"action", "subscribe"}, {"auth_token", "{TOKEN}"},
            {"data", {{"account_id", acme_id}, {"bindings", json::array({"call.*.*"})}}}},
       "missing required keys : binding"},
      {"unknown event", subscribe("{TOKEN}", acme_id, "call.CHANNEL_FOO.*"), "event CHANNEL_FOO not supported"},
      {"short call binding", subscribe("{TOKEN}", acme_id, "call.*"), "invalid format for call subscription : *"},
      {"qubicle without module", subscribe("{TOKEN}", acme_id, "qubicle.queue"),
       "no available subscriptions to requested binding"},
      {"other account", subscribe("{TOKEN}", globex_id, "call.*.*"), "unauthorized account id"},
  };
  run_coro(ioc, [&]() -> awaitable<void> {
    auto tok = co_await token();
    for (auto& r : table) {
      // A fresh socket per row: authentication happens once per socket.
      ws_client c(co_await asio::this_coro::executor);
      EXPECT_TRUE(co_await c.connect(ws_port())) << r.name;
      if (r.request.value("auth_token", json()) == "{TOKEN}") r.request["auth_token"] = tok;
      auto reply = co_await c.request(r.request);
      EXPECT_EQ(reply.value("action", ""), "reply") << r.name;
      EXPECT_EQ(reply.value("status", ""), "error") << r.name;
      EXPECT_EQ(first_error(reply), r.error) << r.name;
    }
  });
}

TEST_F(sim_test, subscribe_expands_call_wildcard_and_authenticates_once) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    auto tok = co_await token();
    ws_client c(co_await asio::this_coro::executor);
    EXPECT_TRUE(co_await c.connect(ws_port()));
    auto reply = co_await c.request(subscribe(tok, acme_id, "call.*.*"));
    EXPECT_EQ(reply["status"], "success");
    EXPECT_EQ(reply["request_id"], "r-1");
    EXPECT_EQ(reply["data"]["subscribed"].size(), 9u);  // one per expanded call event
    // Later messages are not authenticated again: a bogus token is ignored (§1.7).
    const json arg1_ = json{{"action", "subscribe"}, {"auth_token", "expired-or-bogus"},
                                          {"data", {{"account_id", acme_id}, {"binding", "call.CHANNEL_CREATE.*"}}}};
    auto second = co_await c.request(arg1_);
    EXPECT_EQ(second["status"], "success");
    EXPECT_EQ(second["data"]["subscribed"].size(), 10u);
    EXPECT_EQ(second["request_id"].get<std::string>().size(), 32u);  // invented when absent
    const json arg2_ = json{{"action", "ping"}, {"request_id", "p"}};
    auto ping = co_await c.request(arg2_);
    EXPECT_EQ(ping["status"], "success");
    EXPECT_EQ(ping["data"], json::object());  // bh_ping not loaded by default
    const json arg3_ = json{{"action", "unsubscribe"},
                                         {"data", {{"account_id", acme_id}, {"binding", "call.*.*"}}}};
    auto unsub = co_await c.request(arg3_);
    EXPECT_EQ(unsub["status"], "success");
    EXPECT_EQ(unsub["data"]["unsubscribed"].size(), 9u);
    EXPECT_EQ(unsub["data"]["subscribed"], json::array({"call.CHANNEL_CREATE.*"}));
    // Invalid JSON crashes the Kazoo socket process: the connection goes away.
    EXPECT_TRUE(co_await c.send_text("{not json"));
    auto after = co_await c.read_text();
    EXPECT_FALSE(after.has_value());
  });
}

TEST_F(sim_test, ping_pong_and_qubicle_when_enabled) {
  sim_options o;
  o.bh_ping = true;
  o.qubicle = true;
  start(o);
  run_coro(ioc, [&]() -> awaitable<void> {
    auto tok = co_await token();
    ws_client c(co_await asio::this_coro::executor);
    EXPECT_TRUE(co_await c.connect(ws_port()));
    const json arg4_ = json{{"action", "ping"}, {"auth_token", tok}};
    auto ping = co_await c.request(arg4_);
    EXPECT_EQ(ping["data"], json({{"response", "pong"}}));
    auto q = co_await c.request(subscribe(tok, acme_id, "qubicle.queue"));
    EXPECT_EQ(q["status"], "success");
  });
}

TEST_F(sim_test, subprotocol_header_is_rejected_with_400) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    stream.expires_after(std::chrono::seconds(5));
    co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ws_port()),
                                  use_nothrow);
    http::request<http::empty_body> req{http::verb::get, "/anything", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(http::field::sec_websocket_version, "13");
    req.set(http::field::sec_websocket_protocol, "kazoo");
    co_await http::async_write(stream, req, use_nothrow);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    auto [ec, n] = co_await http::async_read(stream, buf, res, use_nothrow);
    EXPECT_FALSE(ec);
    EXPECT_EQ(res.result_int(), 400u);
  });
}

TEST_F(sim_test, events_have_kazoo_envelope_and_overlapping_bindings_duplicate) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind1_{"call.*.*", "call.CHANNEL_CREATE.*"};
    auto c = co_await subscribed_client(bind1_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    const json arg5_ = json{{"scenario", "inbound_answered"}, {"speed", 1000}};
    auto played = co_await play(arg5_);
    EXPECT_EQ(played.status, 202u);
    auto a_leg = played.body["instances"][0]["call_ids"][0].get<std::string>();
    std::map<std::string, int> create_keys;
    int destroys = 0;
    while (destroys < 2) {
      auto f = co_await c->read_json();
      if (f.is_null()) break;
      EXPECT_EQ(f["action"], "event");
      EXPECT_TRUE(f.contains("data") && f["data"].is_object());
      EXPECT_EQ(f["data"]["event_name"], f["name"]);
      auto name = f["name"].get<std::string>();
      auto sub_key = f["subscription_key"].get<std::string>();
      EXPECT_EQ(sub_key.rfind("call." + acme_id + ".", 0), 0u) << sub_key;
      if (name == "CHANNEL_CREATE") ++create_keys[f["subscribed_key"].get<std::string>()];
      if (name == "CHANNEL_DESTROY") ++destroys;
      if (f["data"]["call_id"] == a_leg) {
        // routing_key carries the Call-ID encoded by kz_amqp_util:encode ('@' -> %40, '.' -> %2E)
        auto rk = f["routing_key"].get<std::string>();
        EXPECT_EQ(rk.find('@'), std::string::npos) << rk;
        EXPECT_NE(rk.find("%40"), std::string::npos) << rk;
        EXPECT_EQ(rk.rfind("call." + acme_id + "." + name + ".", 0), 0u) << rk;
      }
    }
    EXPECT_EQ(destroys, 2);
    // Every CHANNEL_CREATE arrived once per matching binding.
    EXPECT_GE(create_keys["call.*.*"], 2);
    EXPECT_EQ(create_keys["call.*.*"], create_keys["call.CHANNEL_CREATE.*"]);
  });
}

TEST_F(sim_test, events_reach_only_subscribers_of_their_account) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    auto globex_key = sim->fixture_data().accounts.at(1).api_key;
    const std::vector<std::string> bind2_{"call.*.*"};
    auto other = co_await subscribed_client(bind2_, globex_id, globex_key);
    const std::vector<std::string> bind3_{"call.*.*"};
    auto acme = co_await subscribed_client(bind3_);
    EXPECT_TRUE(other && acme);
    if (!other || !acme) co_return;
    const json arg7_ = json{{"scenario", "internal"}, {"speed", 1000}};
    co_await play(arg7_);
    auto f = co_await acme->read_json();
    EXPECT_EQ(f.value("action", ""), "event");
    // The globex session sees nothing of acme's call (a short deadline, not a sleep).
    auto none = co_await other->read_text(std::chrono::milliseconds(300));
    EXPECT_FALSE(none.has_value());
  });
}

}  // namespace
}  // namespace kazoo_sim::test
