// REST hooks and GET /api/v1/events over real loopback HTTP: the real http_server and router, a real
// SQLite file read on a DB thread, the real subscription index, and a table of access tokens standing
// in for the oauth module's authenticate() (as v1_test.cpp does).
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <kazoo_bridge/api/hook_routes.hpp>
#include <kazoo_bridge/net/http_client.hpp>
#include <kazoo_bridge/net/http_server.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/hook_store.hpp>
#include <support/log_capture.hpp>
#include <support/run_coro.hpp>
#include <support/temp_dir.hpp>
#include <support/wait_until.hpp>

namespace kazoo_bridge::api {
namespace {

using namespace std::chrono_literals;
namespace http = net::http;
using json = nlohmann::json;

awaitable<result<std::optional<caller>>> lookup(std::shared_ptr<std::map<std::string, caller>> t, std::string token) {
  if (token == "flaky-token") co_return make_error_code(errc::unavailable);
  auto it = t->find(token);
  if (it == t->end()) co_return std::optional<caller>{};
  co_return std::optional<caller>{it->second};
}

caller user(std::string account, std::string id, std::vector<std::string> scopes, bool admin = false) {
  caller c;
  c.account_id = std::move(account);
  c.user_id = id;
  c.user_name = id + " Doe";
  c.extensions = {"101"};
  c.admin = admin;
  c.scopes = std::move(scopes);
  c.client_id = "zapier";
  c.grant_id = "grant-" + id;
  return c;
}

store::event_row event(std::string id, std::string type, std::string call_id, std::int64_t at, std::string user,
                       std::string direction = "inbound", std::string account = "acc1") {
  store::event_row e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.call_id = std::move(call_id);
  e.account_id = std::move(account);
  e.occurred_at_ms = at;
  e.direction = direction;
  e.user_id = user;
  e.payload = json{{"id", e.id},           {"type", e.type},       {"call_id", e.call_id},
                   {"account_id", e.account_id}, {"user_id", user}, {"from_user_id", nullptr},
                   {"direction", direction}, {"raw", {{"b", 1}, {"a", 2}}}}
                  .dump();
  return e;
}

// A scalar read on a second connection (what the delivery engine would see).
std::int64_t scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  return v;
}

class api_hooks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::database::open({.path = dir_.file("kb.db")});
    ASSERT_TRUE(db) << db.error().message();
    db_ = std::move(*db);
    hooks_ = std::make_unique<store::hook_store>(*db_);
    *tokens_ = {
        {"alice-token", user("acc1", "alice", {"calls"})},
        {"bob-token", user("acc1", "bob", {"calls"})},
        {"admin-token", user("acc1", "root", {"calls", "account"}, true)},
        {"fake-admin", user("acc1", "mallory", {"calls", "account"}, false)},
        {"dial-token", user("acc1", "alice", {"dial"})},
        {"other-token", user("acc2", "eve", {"calls", "account"}, true)},
    };
    options_.max_hooks_per_user = 3;
    options_.max_body_bytes = 1024;
  }

  void start() {
    add_hook_routes(router_, {.authenticate = [t = tokens_](std::string token) { return lookup(t, std::move(token)); },
                              .db_thread = db_thread_,
                              .hooks = *hooks_,
                              .index = index_,
                              .wake_delivery = [this] { ++wakes_; },
                              .log = log_.logger(),
                              .options = options_});
    net::server_options so;
    so.listen = "127.0.0.1:0";
    server_ = std::make_unique<net::http_server>(ioc_.get_executor(), so, router_, log_.logger());
    auto ep = server_->listen();
    ASSERT_TRUE(ep) << ep.error().message();
    port_ = ep->port();
    asio::co_spawn(ioc_, server_->run(), [this](std::exception_ptr) { run_finished_ = true; });
    started_ = true;
  }

  void TearDown() override {
    if (started_) {
      server_->stop();
      test::run_coro(ioc_, [this]() -> awaitable<void> {
        EXPECT_TRUE(co_await test::wait_until([this] { return run_finished_; }, 2s));
      });
    }
    db_thread_.join();
    for (const auto& [token, who] : *tokens_) EXPECT_FALSE(log_.contains(token)) << token;
    EXPECT_FALSE(log_.contains("whsec_")) << "a hook secret reached the log";
  }

  net::response send(http::verb method, std::string target, std::optional<std::string> token,
                     std::string body = {}) {
    if (!started_) start();
    net::response out;
    test::run_coro(ioc_, [&]() -> awaitable<void> {
      net::http_client client(ioc_.get_executor(), nullptr);
      net::client_request r;
      r.method = method;
      r.url = fmt::format("http://127.0.0.1:{}{}", port_, target);
      if (token) r.headers.emplace_back("Authorization", "Bearer " + *token);
      r.body = std::move(body);
      if (!r.body.empty()) r.content_type = "application/json";
      auto res = co_await client.send(std::move(r));
      if (!res) {
        ADD_FAILURE() << "request failed: " << res.error().message();
        co_return;
      }
      out = std::move(*res);
    });
    return out;
  }
  net::response get(std::string target, std::optional<std::string> token) {
    return send(http::verb::get, std::move(target), std::move(token));
  }
  net::response post(std::string target, std::optional<std::string> token, const json& body) {
    return send(http::verb::post, std::move(target), std::move(token), body.dump());
  }

  // Creates a hook and returns its JSON (the test fails when it is not 201).
  json create(const std::string& token, json body) {
    auto r = post("/api/v1/hooks", token, body);
    EXPECT_EQ(r.result(), http::status::created) << r.body();
    return json::parse(r.body(), nullptr, false);
  }

  std::size_t matches(const calls::lifecycle_event& e) {
    std::vector<const delivery::subscription*> out;
    index_.match(e, out);
    return out.size();
  }

  static json body(const net::response& r) { return json::parse(r.body(), nullptr, false); }

  kazoo_bridge::test::temp_dir dir_;
  std::unique_ptr<store::database> db_;
  std::unique_ptr<store::hook_store> hooks_;
  delivery::subscription_index index_;
  hook_options options_;
  int wakes_ = 0;
  asio::thread_pool db_thread_{1};
  asio::io_context ioc_;
  net::router router_;
  test::log_capture log_{"api"};
  std::shared_ptr<std::map<std::string, caller>> tokens_ = std::make_shared<std::map<std::string, caller>>();
  std::unique_ptr<net::http_server> server_;
  std::uint16_t port_ = 0;
  bool run_finished_ = false, started_ = false;
};

void expect_error(const net::response& r, http::status s, const std::string& error) {
  EXPECT_EQ(r.result(), s) << r.body();
  auto j = nlohmann::json::parse(r.body(), nullptr, false);
  EXPECT_EQ(j.value("error", ""), error) << r.body();
  EXPECT_FALSE(j.value("error_description", "").empty()) << r.body();
}

calls::lifecycle_event missed_for(std::string user, std::string account = "acc1") {
  calls::lifecycle_event e;
  e.id = "evt_x";
  e.type = "call.missed";
  e.call_id = "c";
  e.account_id = std::move(account);
  e.payload = {{"user_id", std::move(user)}, {"from_user_id", nullptr}, {"direction", "inbound"}};
  return e;
}

TEST_F(api_hooks, create_returns_the_secret_once_and_feeds_the_index) {
  auto h = create("alice-token", {{"targetUrl", "https://hooks.zapier.com/abc"}, {"event", "call.missed"}});
  const std::string id = h.value("id", "");
  EXPECT_TRUE(id.starts_with("hook_")) << h;
  EXPECT_EQ(id.size(), 5U + 32U);
  const std::string secret = h.value("secret", "");
  ASSERT_TRUE(secret.starts_with("whsec_")) << h;
  EXPECT_EQ(secret.size(), 6U + 44U) << "base64 of 32 bytes";
  EXPECT_EQ(h["target_url"], "https://hooks.zapier.com/abc");
  EXPECT_EQ(h["scope"], "user");
  EXPECT_EQ(h["status"], "active");
  EXPECT_EQ(h["filters"], (json{{"direction", nullptr}, {"user_id", nullptr}, {"include_internal", true}}));
  EXPECT_TRUE(h["created_at"].get<std::string>().ends_with("Z"));

  EXPECT_EQ(matches(missed_for("alice")), 1U) << "the pipeline sees it at once";
  EXPECT_EQ(matches(missed_for("bob")), 0U);

  auto got = get("/api/v1/hooks/" + id, "alice-token");
  ASSERT_EQ(got.result(), http::status::ok) << got.body();
  EXPECT_FALSE(body(got).contains("secret"));
  EXPECT_EQ(got[http::field::cache_control], "no-store");
  auto list = body(get("/api/v1/hooks", "alice-token"));
  ASSERT_EQ(list["data"].size(), 1U);
  EXPECT_FALSE(list["data"][0].contains("secret"));
  EXPECT_TRUE(list["data"][0].contains("disabled_reason"));
  EXPECT_TRUE(list["data"][0].contains("failing_since"));

  auto row = hooks_->get(id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->secret, secret) << "kept to sign deliveries";
  EXPECT_EQ((*row)->grant_id, "grant-alice");
  EXPECT_EQ((*row)->client_id, "zapier");
}

TEST_F(api_hooks, validation_errors_are_clear) {
  struct bad {
    json body;
    const char* error;
  };
  const std::vector<bad> cases = {
      {{{"event", "call.missed"}}, "invalid_request"},
      {{{"target_url", "ftp://x.example.com/"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "not a url"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "http://127.0.0.1:8080/x"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "https://10.1.2.3/x"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "https://[::1]/x"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "https://169.254.169.254/latest"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "https://localhost/x"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "https://u:p@x.example.com/"}, {"event", "call.missed"}}, "invalid_target"},
      {{{"target_url", "https://x.example.com/"}, {"event", "call.bogus"}}, "invalid_request"},
      {{{"target_url", "https://x.example.com/"}}, "invalid_request"},
      {{{"target_url", "https://x.example.com/"}, {"event", "*"}, {"scope", "team"}}, "invalid_request"},
      {{{"target_url", "https://x.example.com/"}, {"event", "*"}, {"filters", {{"colour", "red"}}}}, "invalid_request"},
      {{{"target_url", "https://x.example.com/"}, {"event", "*"}, {"filters", {{"direction", "sideways"}}}},
       "invalid_request"},
      {{{"target_url", "https://x.example.com/"}, {"event", "*"}, {"filters", {{"include_internal", "no"}}}},
       "invalid_request"},
      {{{"target_url", "https://x.example.com/"}, {"event", "*"}, {"filters", {{"user_id", "bob"}}}},
       "invalid_request"},
      {{{"target_url", "https://x.example.com/"}, {"event", "*"}, {"extra", 1}}, "invalid_request"},
      {{{"target_url", "https://x.example.com/"}, {"url", "https://y.example.com/"}, {"event", "*"}},
       "invalid_request"},
      {json::array(), "invalid_request"},
  };
  for (const auto& c : cases) {
    auto r = post("/api/v1/hooks", "alice-token", c.body);
    expect_error(r, http::status::bad_request, c.error);
  }
  expect_error(send(http::verb::post, "/api/v1/hooks", "alice-token", "{not json"), http::status::bad_request,
               "invalid_request");
  json big{{"target_url", "https://x.example.com/" + std::string(2000, 'a')}, {"event", "*"}};
  expect_error(post("/api/v1/hooks", "alice-token", big), http::status::payload_too_large, "invalid_request");
  EXPECT_EQ(index_.size(), 0U);
  EXPECT_TRUE(hooks_->list_by_account("acc1")->empty());
}

TEST_F(api_hooks, auth_and_scopes) {
  const json ok{{"target_url", "https://x.example.com/"}, {"event", "*"}};
  expect_error(post("/api/v1/hooks", std::nullopt, ok), http::status::unauthorized, "unauthorized");
  expect_error(post("/api/v1/hooks", "nope", ok), http::status::unauthorized, "invalid_token");
  expect_error(get("/api/v1/hooks", "flaky-token"), http::status::service_unavailable, "temporarily_unavailable");
  expect_error(post("/api/v1/hooks", "dial-token", ok), http::status::forbidden, "insufficient_scope");
  expect_error(get("/api/v1/events", "dial-token"), http::status::forbidden, "insufficient_scope");
  auto account = ok;
  account["scope"] = "account";
  auto r = post("/api/v1/hooks", "alice-token", account);
  expect_error(r, http::status::forbidden, "insufficient_scope");
  EXPECT_NE(std::string(r[http::field::www_authenticate]).find("scope=\"account\""), std::string::npos);
  expect_error(post("/api/v1/hooks", "fake-admin", account), http::status::forbidden, "insufficient_scope")
      ;  // the account scope without the Kazoo admin flag
  auto h = create("admin-token", account);
  EXPECT_EQ(h["scope"], "account");
  EXPECT_EQ(matches(missed_for("bob")), 1U) << "an account hook gets every user's calls";
  EXPECT_EQ(matches(missed_for("bob", "acc2")), 0U);
}

TEST_F(api_hooks, ownership_list_get_delete) {
  auto a = create("alice-token", {{"url", "https://x.example.com/a"}, {"event", "call.missed"}});
  auto b = create("bob-token", {{"hookUrl", "https://x.example.com/b"}, {"event", "*"}});
  const std::string aid = a["id"], bid = b["id"];
  auto mine = body(get("/api/v1/hooks", "alice-token"));
  ASSERT_EQ(mine["data"].size(), 1U);
  EXPECT_EQ(mine["data"][0]["id"], aid);
  auto all = body(get("/api/v1/hooks", "admin-token"));
  EXPECT_EQ(all["data"].size(), 2U) << "an account admin sees the account's hooks";
  EXPECT_EQ(body(get("/api/v1/hooks", "other-token"))["data"].size(), 0U);

  expect_error(get("/api/v1/hooks/" + bid, "alice-token"), http::status::not_found, "not_found");
  expect_error(get("/api/v1/hooks/" + aid, "other-token"), http::status::not_found, "not_found");
  expect_error(get("/api/v1/hooks/hook_nope", "alice-token"), http::status::not_found, "not_found");
  expect_error(send(http::verb::delete_, "/api/v1/hooks/" + bid, "alice-token"), http::status::not_found,
               "not_found");
  EXPECT_TRUE(*hooks_->get(bid)) << "another user's DELETE did nothing";

  // Pending deliveries of a deleted hook are cancelled.
  store::batch batch;
  batch.events = {event("evt_1", "call.missed", "c1", 1000, "alice")};
  batch.outbox = {{"evt_1", "hook:" + aid, "c1", 1000}};
  ASSERT_TRUE(db_->commit(batch));
  auto del = send(http::verb::delete_, "/api/v1/hooks/" + aid, "alice-token");
  EXPECT_EQ(del.result(), http::status::no_content) << del.body();
  EXPECT_TRUE(del.body().empty());
  EXPECT_FALSE(*hooks_->get(aid));
  EXPECT_EQ(matches(missed_for("alice")), 0U) << "out of the index";
  EXPECT_EQ(scalar(dir_.file("kb.db"), "SELECT count(*) FROM outbox WHERE status = 'cancelled'"), 1);
  expect_error(send(http::verb::delete_, "/api/v1/hooks/" + aid, "alice-token"), http::status::not_found,
               "not_found");
  // The admin may delete a user's hook of the account.
  EXPECT_EQ(send(http::verb::delete_, "/api/v1/hooks/" + bid, "admin-token").result(), http::status::no_content);
  EXPECT_EQ(index_.size(), 0U);
}

TEST_F(api_hooks, cap_per_user) {
  for (int i = 0; i < 3; ++i) create("alice-token", {{"target_url", "https://x.example.com/"}, {"event", "*"}});
  auto r = post("/api/v1/hooks", "alice-token", {{"target_url", "https://x.example.com/"}, {"event", "*"}});
  expect_error(r, http::status::bad_request, "too_many_hooks");
  EXPECT_NE(body(r)["error_description"].get<std::string>().find("at most 3"), std::string::npos);
  create("bob-token", {{"target_url", "https://x.example.com/"}, {"event", "*"}});
}

TEST_F(api_hooks, patch_re_enables_and_wakes_delivery) {
  auto h = create("alice-token", {{"target_url", "https://x.example.com/"}, {"event", "call.missed"}});
  const std::string id = h["id"];
  // Delivery disables a failing hook (its own SQL; here through the store and the index callback).
  ASSERT_TRUE(*hooks_->set_status(id, "disabled", 5000));
  index_.set_active(id, false);
  EXPECT_EQ(body(get("/api/v1/hooks/" + id, "alice-token"))["status"], "disabled");
  EXPECT_EQ(matches(missed_for("alice")), 0U);
  expect_error(send(http::verb::patch, "/api/v1/hooks/" + id, "alice-token", R"({"status":"paused"})"),
               http::status::bad_request, "invalid_request");
  expect_error(send(http::verb::patch, "/api/v1/hooks/" + id, "alice-token", R"({"target_url":"x"})"),
               http::status::bad_request, "invalid_request");
  expect_error(send(http::verb::patch, "/api/v1/hooks/" + id, "bob-token", R"({"status":"active"})"),
               http::status::not_found, "not_found");
  auto r = send(http::verb::patch, "/api/v1/hooks/" + id, "alice-token", R"({"status":"active"})");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(body(r)["status"], "active");
  EXPECT_EQ(matches(missed_for("alice")), 1U);
  EXPECT_EQ(wakes_, 1);
}

TEST_F(api_hooks, deliveries_newest_first) {
  auto h = create("alice-token", {{"target_url", "https://x.example.com/"}, {"event", "*"}});
  const std::string id = h["id"];
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("kb.db").c_str(), &raw), SQLITE_OK);
    const auto sql = fmt::format(
        "INSERT INTO hook_deliveries (hook_id, event_id, attempt, attempted_at_ms, duration_ms, outcome, status_code, "
        "error, response_snippet, next_retry_at_ms) VALUES ('{0}', 'evt_1', 1, 1700000000000, 20, 'retry', NULL, "
        "'timeout', NULL, 1700000060000), ('{0}', 'evt_1', 2, 1700000060000, 15, 'delivered', 200, NULL, 'ok', NULL)",
        id);
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  auto r = get("/api/v1/hooks/" + id + "/deliveries?limit=5", "alice-token");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  auto d = body(r)["data"];
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[0]["outcome"], "delivered");
  EXPECT_EQ(d[0]["status_code"], 200);
  EXPECT_TRUE(d[0]["next_retry_at"].is_null());
  EXPECT_EQ(d[1]["error"], "timeout");
  EXPECT_TRUE(d[1]["status_code"].is_null());
  EXPECT_EQ(d[1]["next_retry_at"], "2023-11-14T22:14:20Z");
  EXPECT_EQ(body(get("/api/v1/hooks/" + id + "/deliveries?limit=1", "alice-token"))["data"].size(), 1U);
  expect_error(get("/api/v1/hooks/" + id + "/deliveries?limit=0", "alice-token"), http::status::bad_request,
               "invalid_request");
  expect_error(get("/api/v1/hooks/" + id + "/deliveries", "bob-token"), http::status::not_found, "not_found");
}

TEST_F(api_hooks, replay_queues_only_what_the_hook_matches) {
  store::batch b;
  b.events = {event("evt_a1", "call.missed", "c1", 1'700'000'000'000, "alice"),
              event("evt_a2", "call.ended", "c1", 1'700'000'001'000, "alice"),
              event("evt_b1", "call.missed", "c2", 1'700'000'002'000, "bob"),
              event("evt_a3", "call.missed", "c3", 1'700'000'003'000, "alice")};
  ASSERT_TRUE(db_->commit(b));
  auto h = create("alice-token", {{"target_url", "https://x.example.com/"}, {"event", "call.missed"}});
  const std::string id = h["id"];
  const std::string path = "/api/v1/hooks/" + id + "/replay";
  auto r = post(path, "alice-token", {{"since", "2023-11-14T22:13:20Z"}, {"until", "2023-11-14T22:13:23Z"}});
  ASSERT_EQ(r.result(), http::status::accepted) << r.body();
  EXPECT_EQ(body(r)["queued"], 1) << "only alice's missed call in the range (not call.ended, not bob's)";
  EXPECT_EQ(wakes_, 1);
  r = post(path, "alice-token", {{"since", "2023-11-14T22:13:20Z"}});
  EXPECT_EQ(body(r)["queued"], 1) << "evt_a1 is still pending: only evt_a3 is new";
  r = post(path, "alice-token", {{"event_id", "evt_b1"}});
  EXPECT_EQ(body(r)["queued"], 0) << "bob's call is not alice's";
  EXPECT_EQ(scalar(dir_.file("kb.db"), "SELECT count(*) FROM outbox WHERE destination = 'hook:" + id + "'"), 2);
  expect_error(post(path, "alice-token", {{"since", "yesterday"}}), http::status::bad_request, "invalid_request");
  expect_error(post(path, "alice-token", json::object()), http::status::bad_request, "invalid_request");
  expect_error(post(path, "alice-token", {{"event_id", "evt_a1"}, {"since", "2023-11-14T22:13:20Z"}}),
               http::status::bad_request, "invalid_request");
  expect_error(post(path, "bob-token", {{"event_id", "evt_b1"}}), http::status::not_found, "not_found");
}

TEST_F(api_hooks, events_sample_real_events_newest_first_and_visible) {
  store::batch b;
  b.events = {event("evt_1", "call.missed", "c1", 1'700'000'000'000, "alice"),
              event("evt_2", "call.missed", "c2", 1'700'000'001'000, "bob"),
              event("evt_3", "call.missed", "c3", 1'700'000'002'000, "alice"),
              event("evt_4", "call.ended", "c3", 1'700'000'003'000, "alice"),
              event("evt_5", "call.missed", "x", 1'700'000'004'000, "eve", "inbound", "acc2")};
  b.parties = {{"c1", "alice"}, {"c2", "bob"}, {"c3", "alice"}, {"x", "eve"}};
  ASSERT_TRUE(db_->commit(b));
  auto r = get("/api/v1/events?type=call.missed", "alice-token");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  auto d = body(r)["data"];
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[0]["id"], "evt_3");
  EXPECT_EQ(d[1]["id"], "evt_1");
  EXPECT_NE(r.body().find(R"("raw":{"a":2,"b":1})"), std::string::npos) << "payload exactly as stored";
  d = body(get("/api/v1/events?type=call.missed&limit=10", "admin-token"))["data"];
  EXPECT_EQ(d.size(), 3U) << "an account admin sees every user's";
  d = body(get("/api/v1/events?limit=1", "alice-token"))["data"];
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0]["id"], "evt_4") << "no type: any type";
  expect_error(get("/api/v1/events?limit=101", "alice-token"), http::status::bad_request, "invalid_request");
  expect_error(get("/api/v1/events?type=call.nope", "alice-token"), http::status::bad_request, "invalid_request");
  expect_error(get("/api/v1/events?colour=red", "alice-token"), http::status::bad_request, "invalid_request");
}

TEST_F(api_hooks, events_sample_example_when_none) {
  auto r = get("/api/v1/events?type=call.answered", "alice-token");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  auto d = body(r)["data"];
  ASSERT_EQ(d.size(), 1U);
  const auto& e = d[0];
  EXPECT_EQ(e["example"], true);
  EXPECT_TRUE(e["id"].get<std::string>().starts_with("evt_example_"));
  EXPECT_TRUE(e["summary"].get<std::string>().starts_with("Example: ")) << e;
  EXPECT_EQ(e["type"], "call.answered");
  EXPECT_EQ(e["account_id"], "acc1");
  EXPECT_EQ(e["user_id"], "alice");
  for (const char* key : {"id", "type", "occurred_at", "account_id", "call_id", "direction", "from_number",
                          "from_name", "to_number", "to_name", "user_id", "user_name", "extension", "started_at",
                          "answered_at", "ended_at", "duration_s", "talk_s", "hangup_cause", "recording_url",
                          "park_slot", "queue_id", "summary", "raw"}) {
    EXPECT_TRUE(e.contains(key)) << key;
  }
  EXPECT_FALSE(e["answered_at"].is_null());
  EXPECT_TRUE(e["ended_at"].is_null());
}

}  // namespace
}  // namespace kazoo_bridge::api
