// Crossbar subset (reference/kazoo.md §5): envelopes, auth, tokens, listings, CDR pagination.
#include "sim_fixture.hpp"
#include "text_util.hpp"

#include <set>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_sim::test {
namespace {

using kazoo_bridge::test::run_coro;

TEST_F(sim_test, user_auth_md5_sha_and_failures) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    auto put = [&](json data) { return http_call(api_port(), http::verb::put, "/v2/user_auth",
                                                 json{{"data", data}}.dump()); };
    const json arg1_ = json{{"credentials", md5_hex("alice:alice-secret-1")}, {"account_name", "acme"}};
    auto ok = co_await put(arg1_);
    EXPECT_EQ(ok.status, 201u);
    EXPECT_EQ(ok.body["status"], "success");
    EXPECT_EQ(ok.body["data"]["account_id"], acme_id);
    EXPECT_EQ(ok.body["data"]["owner_id"], "2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a");
    auto tok = ok.body["auth_token"].get<std::string>();
    EXPECT_EQ(std::count(tok.begin(), tok.end(), '.'), 2);  // JWT-looking
    auto claims = json::parse(base64url_decode(tok.substr(tok.find('.') + 1, tok.rfind('.') - tok.find('.') - 1)));
    EXPECT_GT(claims["exp"].get<std::int64_t>(), kazoo_bridge::now_unix_ms() / 1000 + 3500);

    const json arg2_ = json{{"credentials", sha1_hex("bob:bob-secret-2")}, {"method", "sha"},
                             {"account_realm", "acme.sip.example.net"}};
    auto sha = co_await put(arg2_);
    EXPECT_EQ(sha.status, 201u);
    const json arg3_ = json{{"credentials", md5_hex("gina:gina-secret-5")}, {"phone_number", "+12125550142"}};
    auto phone = co_await put(arg3_);
    EXPECT_EQ(phone.status, 201u);
    EXPECT_EQ(phone.body["data"]["account_id"], globex_id);

    const json arg4_ = json{{"credentials", md5_hex("alice:nope")}, {"account_name", "acme"}};
    auto wrong = co_await put(arg4_);
    EXPECT_EQ(wrong.status, 401u);
    EXPECT_EQ(wrong.body["error"], "401");
    EXPECT_EQ(wrong.body["message"], "invalid_credentials");
    EXPECT_EQ(wrong.body["status"], "error");
    const json arg5_ = json{{"credentials", md5_hex("alice:alice-secret-1")}, {"account_name", "nosuch"}};
    auto unknown = co_await put(arg5_);
    EXPECT_EQ(unknown.status, 400u);
    EXPECT_TRUE(unknown.body["data"].contains("account_name"));

    const json arg6_ = json{{"data", {{"api_key", "00"}}}};
    auto bad_key = co_await http_call(api_port(), http::verb::put, "/v2/api_auth",
                                      arg6_.dump());
    EXPECT_EQ(bad_key.status, 404u);
    EXPECT_EQ(bad_key.body["data"]["message"], "bad identifier");
  });
}

TEST_F(sim_test, listings_authorization_and_token_expiry) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    auto tok = co_await token();
    auto users = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/users", std::string(), tok);
    EXPECT_EQ(users.status, 200u);
    EXPECT_EQ(users.body["data"].size(), 4u);
    EXPECT_FALSE(users.body["data"][0].contains("password"));
    auto bob = co_await http_call(api_port(), http::verb::get,
                                  "/v2/accounts/" + acme_id + "/users/4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c", std::string(), tok);
    EXPECT_EQ(bob.body["data"]["username"], "bob");
    EXPECT_EQ(bob.body["data"]["caller_id"]["internal"]["number"], "1002");
    EXPECT_FALSE(bob.body["data"].contains("password"));
    auto bob_devices = co_await http_call(
        api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/users/4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c/devices", std::string(), tok);
    EXPECT_EQ(bob_devices.body["data"].size(), 1u);
    EXPECT_EQ(bob_devices.body["data"][0]["username"], "user_bob02");
    auto devices = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/devices", std::string(), tok);
    EXPECT_EQ(devices.body["data"].size(), 4u);
    auto missing = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/users/ffff", std::string(), tok);
    EXPECT_EQ(missing.status, 404u);

    auto none = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/users");
    EXPECT_EQ(none.status, 401u);
    auto other = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + globex_id + "/users", std::string(), tok);
    EXPECT_EQ(other.status, 403u);
    EXPECT_EQ(other.body["message"], "forbidden");

    auto fault = co_await http_call(api_port(), http::verb::post, "/sim/fault", R"({"kind":"expire_tokens"})");
    EXPECT_EQ(fault.status, 200u);
    auto expired = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/users", std::string(), tok);
    EXPECT_EQ(expired.status, 401u);
    EXPECT_EQ(expired.body["message"], "invalid_credentials");
    // ...and a new WebSocket needs a valid token too.
    ws_client c(co_await asio::this_coro::executor);
    EXPECT_TRUE(co_await c.connect(ws_port()));
    const json arg7_ = json{{"action", "subscribe"}, {"auth_token", tok},
                                         {"data", {{"account_id", acme_id}, {"binding", "call.*.*"}}}};
    auto reply = co_await c.request(arg7_);
    EXPECT_EQ(reply["data"]["errors"][0], "failed to authenticate token " + tok);
  });
}

TEST_F(sim_test, token_ttl_zero_expires_immediately) {
  sim_options o;
  o.token_ttl_s = 0;
  start(o);
  run_coro(ioc, [&]() -> awaitable<void> {
    auto tok = co_await token();
    EXPECT_FALSE(tok.empty());
    auto r = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/users", std::string(), tok);
    EXPECT_EQ(r.status, 401u);
  });
}

TEST_F(sim_test, rate_limit_answers_429) {
  sim_options o;
  o.rate_limit_burst = 3;
  o.rate_limit_refill = 0.001;
  start(o);
  run_coro(ioc, [&]() -> awaitable<void> {
    std::vector<unsigned> statuses;
    const std::vector<unsigned> expected_statuses = {401, 401, 401, 429, 429};
    for (int i = 0; i < 5; ++i) {
      auto r = co_await http_call(api_port(), http::verb::get, "/v2/accounts/" + acme_id + "/users");
      statuses.push_back(r.status);
      if (r.status == 429) {
        EXPECT_EQ(r.body["message"], "too_many_requests");
      }
    }
    EXPECT_EQ(statuses, expected_statuses);
  });
}

TEST_F(sim_test, cdrs_paginate_newest_first_and_reject_wide_ranges) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    const std::vector<std::string> bind4_{"call.CHANNEL_DESTROY.*"};
    auto c = co_await subscribed_client(bind4_);
    EXPECT_TRUE(c != nullptr);
    if (!c) co_return;
    const json arg8_ = json{{"scenario", "internal"}, {"speed", 1000}, {"count", 3}};
    auto played = co_await play(arg8_);
    EXPECT_EQ(played.status, 202u);
    std::size_t legs = 0;
    for (const auto& inst : played.body["instances"]) legs += inst["call_ids"].size();
    for (std::size_t i = 0; i < legs; ++i) {
      auto f = co_await c->read_json();
      EXPECT_EQ(f.value("name", ""), "CHANNEL_DESTROY");
    }
    auto tok = co_await token();
    std::vector<json> rows;
    std::string next;
    int pages = 0;
    do {
      std::string target = "/v2/accounts/" + acme_id + "/cdrs?page_size=2";
      if (!next.empty()) target += "&start_key=" + next;
      auto r = co_await http_call(api_port(), http::verb::get, target, std::string(), tok);
      EXPECT_EQ(r.status, 200u);
      EXPECT_LE(r.body["data"].size(), 2u);
      for (auto& row : r.body["data"]) rows.push_back(row);
      next = r.body.value("next_start_key", "");
      ++pages;
    } while (!next.empty() && pages < 20);
    EXPECT_EQ(rows.size(), legs);
    std::set<std::string> ids;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ids.insert(rows[i]["call_id"].get<std::string>());
      EXPECT_TRUE(rows[i]["timestamp"].is_string());
      EXPECT_TRUE(rows[i]["duration_seconds"].is_number_integer());
      EXPECT_EQ(rows[i]["id"].get<std::string>().substr(7), rows[i]["call_id"].get<std::string>());
      if (i > 0) {
        EXPECT_GE(std::stoll(rows[i - 1]["timestamp"].get<std::string>()),
                  std::stoll(rows[i]["timestamp"].get<std::string>()));
      }
    }
    EXPECT_EQ(ids.size(), legs);  // no row twice across pages

    auto now_g = kazoo_bridge::unix_to_gregorian_s(kazoo_bridge::now_unix_ms() / 1000);
    auto wide = co_await http_call(api_port(), http::verb::get,
                                   "/v2/accounts/" + acme_id + "/cdrs?created_from=" + std::to_string(now_g - 2682001) +
                                       "&created_to=" + std::to_string(now_g), std::string(), tok);
    EXPECT_EQ(wide.status, 400u);
    EXPECT_TRUE(wide.body["data"]["created_from"].contains("date_range"));
    auto asc = co_await http_call(api_port(), http::verb::get,
                                  "/v2/accounts/" + acme_id + "/cdrs?ascending=true&created_from=" +
                                      std::to_string(now_g - 3600) + "&created_to=" + std::to_string(now_g + 3600),
                                  std::string(), tok);
    EXPECT_EQ(asc.body["data"].size(), legs);
    EXPECT_LE(std::stoll(asc.body["data"][0]["timestamp"].get<std::string>()),
              std::stoll(asc.body["data"][legs - 1]["timestamp"].get<std::string>()));
  });
}

}  // namespace
}  // namespace kazoo_sim::test
