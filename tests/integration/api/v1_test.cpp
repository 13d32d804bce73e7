// /api/v1 over real loopback HTTP: the real http_server and router, a real SQLite file read on a
// DB thread, and a table of access tokens standing in for the oauth module's authenticate().
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <kazoo_bridge/api/v1_routes.hpp>
#include <kazoo_bridge/net/http_client.hpp>
#include <kazoo_bridge/net/http_server.hpp>
#include <kazoo_bridge/store/call_history.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <support/log_capture.hpp>
#include <support/run_coro.hpp>
#include <support/temp_dir.hpp>
#include <support/wait_until.hpp>

namespace kazoo_bridge::api {
namespace {

using namespace std::chrono_literals;
namespace http = net::http;
using json = nlohmann::json;

// --- the token table (a test double of the oauth module: real lookups, no network) ---

struct token_table {
  std::map<std::string, caller> tokens;
  std::set<std::string> failing;  // tokens whose check fails (the token store is unavailable)
  int calls = 0;
};

awaitable<result<std::optional<caller>>> lookup(std::shared_ptr<token_table> t, std::string token) {
  ++t->calls;
  if (t->failing.count(token)) co_return make_error_code(errc::unavailable);
  auto it = t->tokens.find(token);
  if (it == t->tokens.end()) co_return std::optional<caller>{};
  co_return std::optional<caller>{it->second};
}

caller user(std::string account, std::string id, std::vector<std::string> scopes, bool admin = false) {
  caller c;
  c.account_id = std::move(account);
  c.account_name = c.account_id == "acc1" ? "ACME" : "Other Co";
  c.user_id = id;
  c.user_name = id + " Doe";
  c.email = id + "@example.com";
  c.extensions = {"101", "1101"};
  c.admin = admin;
  c.scopes = std::move(scopes);
  return c;
}

store::call_row call(std::string id, std::int64_t started, std::string account = "acc1") {
  store::call_row c;
  c.call_id = std::move(id);
  c.account_id = std::move(account);
  c.status = "ended";
  c.direction = "inbound";
  c.started_at_ms = started;
  c.updated_at_ms = started;
  c.ended_at_ms = started + 1000;
  c.snapshot = fmt::format(R"({{"call_id":"{}","from_number":"+15551234567","started_at":"x","user_id":null}})",
                           c.call_id);
  c.state = "{}";
  return c;
}

store::event_row event(std::string id, std::string call_id, std::int64_t at, std::string payload) {
  store::event_row e;
  e.id = std::move(id);
  e.type = "call.started";
  e.call_id = std::move(call_id);
  e.account_id = "acc1";
  e.occurred_at_ms = at;
  e.direction = "inbound";
  e.payload = std::move(payload);
  return e;
}

class api_v1 : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::database::open({.path = dir_.file("kb.db")});
    ASSERT_TRUE(db) << db.error().message();
    db_ = std::move(*db);
    history_ = std::make_unique<store::call_history>(*db_);
    tokens_->tokens = {
        {"alice-token", user("acc1", "alice", {"calls"})},
        {"bob-token", user("acc1", "bob", {"calls", "dial"})},
        {"admin-token", user("acc1", "root", {"calls", "account"}, true)},
        {"dial-token", user("acc1", "alice", {"dial"})},
        {"other-admin", user("acc2", "eve", {"calls", "account"}, true)},
    };
    tokens_->failing = {"flaky-token"};
    // acc1: 7 calls; alice is a party of the odd ones, bob of c2; acc2: x1.
    store::batch b;
    for (int i = 1; i <= 7; ++i) {
      b.calls.push_back(call("c" + std::to_string(i), 1'700'000'000'000 + i * 1000));
      if (i % 2 == 1) b.parties.push_back({"c" + std::to_string(i), "alice"});
    }
    b.parties.push_back({"c2", "bob"});
    b.calls.push_back(call("x1", 1'700'000'100'000, "acc2"));
    b.parties.push_back({"x1", "eve"});
    b.events = {event("e2", "c3", 1'700'000'003'500, R"({"z":0,"id":"e2","raw":{"b":1,"a":[1,2]}})"),
                event("e1", "c3", 1'700'000'003'000, R"({"id":"e1","type":"call.started"})")};
    ASSERT_TRUE(db_->commit(b)) << db_->last_error();

    add_v1_routes(router_, {.authenticate = [t = tokens_](std::string token) { return lookup(t, std::move(token)); },
                            .db_thread = db_thread_,
                            .history = *history_,
                            .log = log_.logger(),
                            .options = {}});
    net::server_options so;
    so.listen = "127.0.0.1:0";
    server_ = std::make_unique<net::http_server>(ioc_.get_executor(), so, router_, log_.logger());
    auto ep = server_->listen();
    ASSERT_TRUE(ep) << ep.error().message();
    port_ = ep->port();
    asio::co_spawn(ioc_, server_->run(), [this](std::exception_ptr) { run_finished_ = true; });
  }

  void TearDown() override {
    server_->stop();
    test::run_coro(ioc_, [this]() -> awaitable<void> {
      EXPECT_TRUE(co_await test::wait_until([this] { return run_finished_; }, 2s));
    });
    db_thread_.join();
    // Secrets never reach the log (style guide B.7).
    for (const auto& [token, who] : tokens_->tokens) EXPECT_FALSE(log_.contains(token)) << token;
    EXPECT_FALSE(log_.contains("flaky-token"));
  }

  // GET `target` with an optional Authorization header value; the response, or a failed test.
  net::response get(std::string target, std::optional<std::string> authorization = std::nullopt,
                    std::vector<std::pair<std::string, std::string>> extra = {}) {
    net::response out;
    test::run_coro(ioc_, [&]() -> awaitable<void> {
      net::http_client client(ioc_.get_executor(), nullptr);
      net::client_request r;
      r.url = fmt::format("http://127.0.0.1:{}{}", port_, target);
      if (authorization) r.headers.emplace_back("Authorization", *authorization);
      for (auto& h : extra) r.headers.push_back(h);
      auto res = co_await client.send(std::move(r));
      if (!res) {
        ADD_FAILURE() << "request failed: " << res.error().message();
        co_return;
      }
      out = std::move(*res);
    });
    return out;
  }

  static json body(const net::response& r) { return json::parse(r.body(), nullptr, false); }

  static std::vector<std::string> call_ids(const json& page) {
    std::vector<std::string> out;
    for (const auto& c : page["data"]) out.push_back(c.value("call_id", ""));
    return out;
  }

  // Walks every page; returns the call ids in order.
  std::vector<std::string> walk(const std::string& token, const std::string& query) {
    std::vector<std::string> all;
    std::string next;
    for (int pages = 0; pages < 20; ++pages) {
      auto target = "/api/v1/calls?" + query + (next.empty() ? "" : "&cursor=" + next);
      auto r = get(target, "Bearer " + token);
      EXPECT_EQ(r.result(), http::status::ok) << r.body();
      auto j = body(r);
      for (auto& id : call_ids(j)) all.push_back(id);
      if (j["next_cursor"].is_null()) return all;
      next = j["next_cursor"].get<std::string>();
    }
    ADD_FAILURE() << "pagination did not end";
    return all;
  }

  kazoo_bridge::test::temp_dir dir_;
  std::unique_ptr<store::database> db_;
  std::unique_ptr<store::call_history> history_;
  asio::thread_pool db_thread_{1};
  asio::io_context ioc_;
  net::router router_;
  test::log_capture log_{"api"};
  std::shared_ptr<token_table> tokens_ = std::make_shared<token_table>();
  std::unique_ptr<net::http_server> server_;
  std::uint16_t port_ = 0;
  bool run_finished_ = false;
};

void expect_error(const net::response& r, http::status s, const std::string& error) {
  EXPECT_EQ(r.result(), s) << r.body();
  auto j = nlohmann::json::parse(r.body(), nullptr, false);
  EXPECT_EQ(j.value("error", ""), error) << r.body();
  EXPECT_TRUE(j.contains("error_description")) << r.body();
  EXPECT_EQ(r[http::field::content_type], "application/json");
}

TEST_F(api_v1, missing_token_gets_the_bare_bearer_challenge) {
  for (const char* target : {"/api/v1/me", "/api/v1/calls", "/api/v1/calls/c1"}) {
    auto r = get(target);
    expect_error(r, http::status::unauthorized, "unauthorized");
    EXPECT_EQ(r[http::field::www_authenticate], R"(Bearer realm="kazoo-bridge")") << target;
  }
  // Another scheme is no bearer token either (RFC 6750 §3.1).
  auto basic = get("/api/v1/me", "Basic YWxpY2U6c2VjcmV0");
  expect_error(basic, http::status::unauthorized, "unauthorized");
  EXPECT_EQ(basic[http::field::www_authenticate], R"(Bearer realm="kazoo-bridge")");
  EXPECT_EQ(tokens_->calls, 0) << "nothing to look up";
}

TEST_F(api_v1, unknown_token_is_invalid_token) {
  auto r = get("/api/v1/calls", "Bearer not-a-real-token");
  expect_error(r, http::status::unauthorized, "invalid_token");
  const std::string challenge(r[http::field::www_authenticate]);
  EXPECT_TRUE(challenge.starts_with(R"(Bearer realm="kazoo-bridge", error="invalid_token", error_description=")"))
      << challenge;
}

TEST_F(api_v1, malformed_header_and_query_token_are_invalid_request) {
  auto r = get("/api/v1/me", "Bearer two tokens");
  expect_error(r, http::status::bad_request, "invalid_request");
  EXPECT_NE(std::string(r[http::field::www_authenticate]).find(R"(error="invalid_request")"), std::string::npos);
  // RFC 6750 §2.3 / RFC 9700: never from the URL, even with a valid header beside it.
  auto q = get("/api/v1/me?access_token=alice-token", "Bearer alice-token");
  expect_error(q, http::status::bad_request, "invalid_request");
  auto only_q = get("/api/v1/calls?access_token=alice-token");
  expect_error(only_q, http::status::bad_request, "invalid_request");
  EXPECT_EQ(tokens_->calls, 0) << "a refused request never reaches the token store";
}

TEST_F(api_v1, scope_without_calls_is_forbidden_with_insufficient_scope) {
  auto r = get("/api/v1/calls", "Bearer dial-token");
  expect_error(r, http::status::forbidden, "insufficient_scope");
  const std::string challenge(r[http::field::www_authenticate]);
  EXPECT_NE(challenge.find(R"(error="insufficient_scope")"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find(R"(scope="calls")"), std::string::npos) << challenge;
  expect_error(get("/api/v1/calls/c1", "Bearer dial-token"), http::status::forbidden, "insufficient_scope");
  // /me needs no particular scope: it is the connection test.
  EXPECT_EQ(get("/api/v1/me", "Bearer dial-token").result(), http::status::ok);
}

TEST_F(api_v1, token_store_failure_is_503_with_retry_after) {
  auto r = get("/api/v1/me", "Bearer flaky-token");
  expect_error(r, http::status::service_unavailable, "temporarily_unavailable");
  EXPECT_EQ(r[http::field::retry_after], "5");
  EXPECT_TRUE(log_.contains("cannot check an access token"));
}

TEST_F(api_v1, me_describes_the_connected_user_and_account) {
  auto r = get("/api/v1/me", "bearer bob-token");  // the scheme is case-insensitive
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(r[http::field::cache_control], "no-store");
  auto j = body(r);
  EXPECT_EQ(j, json({{"id", "bob"},
                     {"name", "bob Doe"},
                     {"email", "bob@example.com"},
                     {"extensions", {"101", "1101"}},
                     {"account_id", "acc1"},
                     {"account_name", "ACME"},
                     {"admin", false},
                     {"scopes", {"calls", "dial"}}}));
}

TEST_F(api_v1, a_user_sees_their_own_calls_and_an_admin_the_whole_account) {
  EXPECT_EQ(walk("alice-token", "limit=200"), (std::vector<std::string>{"c7", "c5", "c3", "c1"}));
  EXPECT_EQ(walk("bob-token", ""), std::vector<std::string>{"c2"});
  EXPECT_EQ(walk("admin-token", ""), (std::vector<std::string>{"c7", "c6", "c5", "c4", "c3", "c2", "c1"}));
  EXPECT_EQ(walk("other-admin", ""), std::vector<std::string>{"x1"});
  EXPECT_EQ(walk("admin-token", "user_id=bob"), std::vector<std::string>{"c2"});
}

TEST_F(api_v1, pagination_walk_with_a_cursor) {
  auto first = get("/api/v1/calls?limit=3", "Bearer admin-token");
  ASSERT_EQ(first.result(), http::status::ok) << first.body();
  auto j = body(first);
  EXPECT_EQ(call_ids(j), (std::vector<std::string>{"c7", "c6", "c5"}));
  ASSERT_TRUE(j["next_cursor"].is_string());
  // A call record carries the snapshot keys plus status and answered.
  const auto& c7 = j["data"][0];
  EXPECT_EQ(c7["from_number"], "+15551234567");
  EXPECT_EQ(c7["status"], "ended");
  EXPECT_EQ(c7["answered"], false);
  EXPECT_EQ(c7["account_id"], "acc1");
  EXPECT_EQ(walk("admin-token", "limit=3"), (std::vector<std::string>{"c7", "c6", "c5", "c4", "c3", "c2", "c1"}));
  // The cursor belongs to its filters; a mangled one is refused.
  const auto cursor = j["next_cursor"].get<std::string>();
  expect_error(get("/api/v1/calls?status=ringing&cursor=" + cursor, "Bearer admin-token"), http::status::bad_request,
               "invalid_request");
  expect_error(get("/api/v1/calls?cursor=" + cursor.substr(1), "Bearer admin-token"), http::status::bad_request,
               "invalid_request");
}

TEST_F(api_v1, bad_query_parameters_are_400) {
  for (const char* q : {"direction=up", "status=missed", "since=yesterday", "limit=0", "limit=201",
                        "since=2026-11-21T12:00:00Z&until=2026-11-21T11:00:00Z"}) {
    expect_error(get(std::string("/api/v1/calls?") + q, "Bearer alice-token"), http::status::bad_request,
                 "invalid_request");
  }
}

TEST_F(api_v1, one_call_with_its_timeline_exactly_as_stored) {
  auto r = get("/api/v1/calls/c3", "Bearer alice-token");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  // The payloads are spliced byte for byte (key order kept), oldest first.
  EXPECT_NE(r.body().find(R"("events":[{"id":"e1","type":"call.started"},{"z":0,"id":"e2","raw":{"b":1,"a":[1,2]}}])"),
            std::string::npos)
      << r.body();
  auto j = body(r);
  EXPECT_EQ(j["call_id"], "c3");
  EXPECT_EQ(j["status"], "ended");
  ASSERT_EQ(j["events"].size(), 2u);
}

TEST_F(api_v1, calls_not_visible_are_404_never_403) {
  expect_error(get("/api/v1/calls/x1", "Bearer admin-token"), http::status::not_found, "not_found");  // acc2
  expect_error(get("/api/v1/calls/c2", "Bearer alice-token"), http::status::not_found, "not_found");  // bob's
  expect_error(get("/api/v1/calls/nope", "Bearer admin-token"), http::status::not_found, "not_found");
  EXPECT_EQ(get("/api/v1/calls/c2", "Bearer bob-token").result(), http::status::ok);
  EXPECT_EQ(get("/api/v1/calls/c2", "Bearer admin-token").result(), http::status::ok);
}

}  // namespace
}  // namespace kazoo_bridge::api
