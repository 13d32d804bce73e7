// What the authorization server refuses, over real HTTP: untrusted redirect URIs stay on our page,
// other errors go back with state and iss, non-admins never get `account`, throttling, a forged or
// missing CSRF token, Kazoo down, and a busy database (503, never a 4xx that would make Zapier drop a
// connection).
#include <sqlite3.h>

#include "oauth_fixture.hpp"

namespace kazoo_bridge::oauth::test {
namespace {

using kazoo_bridge::test::run_coro;

TEST_F(oauth_test, untrusted_client_or_redirect_uri_is_shown_on_our_page_never_redirected) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    auto mismatch = co_await get_login(authorize_query("calls", "s", "https://evil.example/cb"));
    EXPECT_EQ(mismatch.status, 400u);
    EXPECT_TRUE(mismatch.h("location").empty());
    EXPECT_NE(mismatch.body.find("redirect_uri is not registered"), std::string::npos);
    EXPECT_NE(mismatch.h("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(mismatch.body.find("evil.example"), std::string::npos);

    auto unknown = co_await get_login("/oauth/authorize?response_type=code&client_id=nope&state=s&redirect_uri=" +
                                      net::url_encode(redirect_uri));
    EXPECT_EQ(unknown.status, 400u);
    EXPECT_TRUE(unknown.h("location").empty());

    // Injection-like values are escaped, never interpreted.
    auto inj = co_await get_login(authorize_query("calls", "\"><script>alert(1)</script>"));
    EXPECT_EQ(inj.status, 200u);
    EXPECT_EQ(inj.body.find("<script>alert(1)"), std::string::npos);
    EXPECT_NE(inj.body.find("&quot;&gt;&lt;script&gt;"), std::string::npos);
  });
}

TEST_F(oauth_test, other_errors_go_back_to_the_client_with_state_and_iss) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    auto bad_scope = co_await get_login(authorize_query("calls superuser", "s1"));
    EXPECT_EQ(bad_scope.status, 302u);
    auto p = location_params(bad_scope.h("location"));
    EXPECT_EQ(p["error"], "invalid_scope");
    EXPECT_EQ(p["state"], "s1");
    EXPECT_EQ(p["iss"], issuer);
    EXPECT_TRUE(p.find("code") == p.end());

    // The user presses Cancel: access_denied.
    auto page = co_await get_login(authorize_query());
    auto deny = co_await post_login(page, "", "", "", "deny");
    EXPECT_EQ(deny.status, 303u);
    EXPECT_EQ(location_params(deny.h("location"))["error"], "access_denied");
  });
}

TEST_F(oauth_test, non_admins_never_get_the_account_scope) {
  start();
  run_coro(
      ioc,
      [&]() -> awaitable<void> {
        // bob asks only for `account`: invalid_scope, after authenticating.
        auto page = co_await get_login(authorize_query("account", "s2"));
        auto r = co_await post_login(page, "acme", "bob", "bob-secret-2");
        EXPECT_EQ(r.status, 303u);
        auto p = location_params(r.h("location"));
        EXPECT_EQ(p["error"], "invalid_scope");
        EXPECT_EQ(p["state"], "s2");
        EXPECT_EQ(p["iss"], issuer);

        // bob asks for `calls account`: he gets `calls` only.
        auto code = co_await login_for_code("bob", "bob-secret-2", "calls account");
        auto t = co_await exchange_code(code);
        EXPECT_EQ(t.status, 200u);
        EXPECT_EQ(t.j().value("scope", ""), "calls");
        auto who = co_await svc->authenticate(t.j().value("access_token", ""));
        EXPECT_TRUE(who && *who && !(*who)->who.admin);

        // alice (admin) gets it.
        auto code2 = co_await login_for_code("alice", "alice-secret-1", "calls account");
        auto t2 = co_await exchange_code(code2);
        EXPECT_EQ(t2.j().value("scope", ""), "calls account");
      },
      std::chrono::seconds(20));
}

TEST_F(oauth_test, brute_force_on_one_user_is_throttled_with_retry_after) {
  service_options o;
  o.throttle = {.per_ip = 100, .per_user = 3, .window_ms = 900'000};
  start(o);
  run_coro(
      ioc,
      [&]() -> awaitable<void> {
        auto page = co_await get_login(authorize_query());
        for (int i = 0; i < 3; ++i) {
          auto r = co_await post_login(page, "acme", "carol", "guess-" + std::to_string(i));
          EXPECT_EQ(r.status, 400u);
        }
        // Even the right password is not tried now: 429 with Retry-After, nothing sent to Kazoo.
        auto blocked = co_await post_login(page, "acme", "carol", "carol-secret-3");
        EXPECT_EQ(blocked.status, 429u);
        EXPECT_FALSE(blocked.h("retry-after").empty());
        EXPECT_GT(std::stoi(blocked.h("retry-after")), 800);
        EXPECT_NE(blocked.body.find("Too many failed sign-in attempts"), std::string::npos);
        // Another user from the same browser is not affected.
        auto other = co_await post_login(page, "acme", "alice", "alice-secret-1");
        EXPECT_EQ(other.status, 303u);
      },
      std::chrono::seconds(20));
  EXPECT_NE(metrics.render().find("kazoo_bridge_oauth_logins_total{result=\"throttled\"} 1"), std::string::npos);
}

TEST_F(oauth_test, a_login_without_its_csrf_token_or_cookie_is_refused) {
  start();
  run_coro(ioc, [&]() -> awaitable<void> {
    auto page = co_await get_login(authorize_query());
    // Tampered token.
    auto body = page.body;
    auto tok = hidden_value(body, "csrf_token");
    body.replace(body.find(tok), tok.size(), tok.substr(0, tok.size() - 2) + "AA");
    const reply forged_page{200, {}, body};
    auto forged = co_await post_login(forged_page, "acme", "alice", "alice-secret-1");
    EXPECT_EQ(forged.status, 403u);
    EXPECT_TRUE(forged.h("location").empty());
    // A cross-site POST arrives without the SameSite cookie.
    cookie.clear();
    auto no_cookie = co_await post_login(page, "acme", "alice", "alice-secret-1");
    EXPECT_EQ(no_cookie.status, 403u);
    // No token at all.
    auto f = form({{"response_type", "code"}, {"client_id", client_id}, {"redirect_uri", redirect_uri},
                   {"state", "x"}, {"code_challenge", challenge}, {"code_challenge_method", "S256"},
                   {"account", "acme"}, {"username", "alice"}, {"password", "alice-secret-1"}});
    const std::string authorize_path = "/oauth/authorize";
    const header_map form_ct{{"Content-Type", "application/x-www-form-urlencoded"}};
    auto none = co_await exchange(port, http::verb::post, authorize_path, f, form_ct);
    EXPECT_EQ(none.status, 403u);
  });
}

TEST_F(oauth_test, kazoo_unreachable_shows_a_try_again_page) {
  start({}, /*kazoo_down=*/true);
  run_coro(ioc, [&]() -> awaitable<void> {
    auto page = co_await get_login(authorize_query());
    auto r = co_await post_login(page, "acme", "alice", "alice-secret-1");
    EXPECT_EQ(r.status, 503u);
    EXPECT_NE(r.body.find("try again"), std::string::npos);
    EXPECT_TRUE(r.h("location").empty());
  });
}

TEST_F(oauth_test, a_busy_database_is_503_on_the_token_endpoint_never_4xx) {
  start();
  run_coro(
      ioc,
      [&]() -> awaitable<void> {
        auto code = co_await login_for_code();
        auto t = co_await exchange_code(code);
        const std::string rt = t.j().value("refresh_token", "");
        // Another process holds the write lock longer than our busy timeout.
        sqlite3* other = nullptr;
        EXPECT_EQ(sqlite3_open(dir.file("kb.db").c_str(), &other), SQLITE_OK);
        EXPECT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
        auto busy = co_await refresh(rt);
        EXPECT_EQ(busy.status, 503u);
        EXPECT_EQ(busy.j().value("error", ""), "temporarily_unavailable");
        EXPECT_EQ(busy.h("retry-after"), "5");
        EXPECT_EQ(busy.h("cache-control"), "no-store");
        sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(other);
        // Nothing was consumed: the same refresh token works once the database is free.
        auto ok = co_await refresh(rt);
        EXPECT_EQ(ok.status, 200u) << ok.body;
      },
      std::chrono::seconds(20));
}

}  // namespace
}  // namespace kazoo_bridge::oauth::test

namespace kazoo_bridge::oauth::test {
namespace {

TEST_F(oauth_test, expired_codes_and_codes_of_another_client_are_invalid_grant) {
  start();
  std::string problem;
  auto other = register_client(*st, "Other app", {redirect_uri}, false, false, problem);
  ASSERT_TRUE(other) << problem;
  run_coro(
      ioc,
      [&]() -> awaitable<void> {
        auto code = co_await login_for_code();
        // Another client presenting alice's code (with its own valid credentials).
        const kv stolen{{"grant_type", "authorization_code"}, {"code", code},  {"client_id", other->client_id},
                        {"client_secret", *other->client_secret}, {"code_verifier", verifier}};
        auto r = co_await token_request(stolen);
        EXPECT_EQ(r.status, 400u);
        EXPECT_EQ(r.j().value("error", ""), "invalid_grant");
        // The code lives 60 s.
        clock_offset_ms = 60'001;
        auto late = co_await exchange_code(code);
        EXPECT_EQ(late.status, 400u);
        EXPECT_EQ(late.j().value("error", ""), "invalid_grant");
        EXPECT_NE(late.j().value("error_description", "").find("expired"), std::string::npos);
      },
      std::chrono::seconds(20));
}

}  // namespace
}  // namespace kazoo_bridge::oauth::test
