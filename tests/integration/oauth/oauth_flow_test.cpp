// The whole authorization-code flow over loopback HTTP against kazoo-sim's Crossbar: login page, a wrong
// password, the right one, 303 with code + state + iss, code exchange with PKCE, refresh with rotation,
// a concurrent refresh inside the grace window, reuse after it (family revoked), revocation,
// introspection, code reuse (tokens revoked), and no secret in any log line.
#include "oauth_fixture.hpp"

namespace kazoo_bridge::oauth::test {
namespace {

using kazoo_bridge::test::run_coro;

TEST_F(oauth_test, full_authorization_code_flow) {
  start();
  std::vector<std::string> secrets{"alice-secret-1", "wrong-password-9", client_secret};
  run_coro(
      ioc,
      [&]() -> awaitable<void> {
        // 1. The login page: our HTML, the app's name and scopes, locked-down headers, a CSRF cookie.
        auto page = co_await get_login(authorize_query());
        EXPECT_EQ(page.status, 200u);
        EXPECT_EQ(page.h("content-type"), "text/html; charset=utf-8");
        EXPECT_NE(page.h("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
        EXPECT_NE(page.h("content-security-policy").find("form-action 'self' https://zapier.com"), std::string::npos);
        EXPECT_EQ(page.h("referrer-policy"), "no-referrer");
        EXPECT_EQ(page.h("cache-control"), "no-store");
        EXPECT_EQ(page.h("x-frame-options"), "DENY");
        EXPECT_NE(page.h("set-cookie").find("HttpOnly"), std::string::npos);
        EXPECT_NE(page.h("set-cookie").find("SameSite=Strict"), std::string::npos);
        EXPECT_NE(page.body.find("<html lang=\"en\">"), std::string::npos);
        EXPECT_NE(page.body.find("Sign in to Acme Voice"), std::string::npos);
        EXPECT_NE(page.body.find("<strong>Zapier</strong>"), std::string::npos);
        EXPECT_NE(page.body.find("Place calls from your phone"), std::string::npos);
        EXPECT_EQ(page.body.find("every user of your account"), std::string::npos);  // not asked
        EXPECT_NE(page.body.find("<label for=\"password\">"), std::string::npos);
        EXPECT_EQ(page.body.find("<script"), std::string::npos);
        EXPECT_FALSE(hidden_value(page.body, "csrf_token").empty());

        // 2. A wrong password: the form again with a clear message, no redirect.
        auto wrong = co_await post_login(page, "acme", "alice", "wrong-password-9");
        EXPECT_EQ(wrong.status, 400u);
        EXPECT_TRUE(wrong.h("location").empty());
        EXPECT_NE(wrong.body.find("user name or password is wrong"), std::string::npos);
        EXPECT_NE(wrong.body.find("value=\"alice\""), std::string::npos);  // user name kept
        EXPECT_EQ(wrong.body.find("wrong-password-9"), std::string::npos);  // password never echoed

        // 3. The right one (alice is an account admin): 303 to the registered URI with code, state, iss.
        auto ok = co_await post_login(wrong, "acme", "Alice", "alice-secret-1");
        EXPECT_EQ(ok.status, 303u) << ok.body;
        auto loc = ok.h("location");
        EXPECT_EQ(loc.rfind(redirect_uri + "?", 0), 0u) << loc;
        auto p = location_params(loc);
        EXPECT_EQ(p["state"], "st-123");
        EXPECT_EQ(p["iss"], issuer);
        const std::string code = p["code"];
        EXPECT_EQ(code.size(), 43u);
        secrets.push_back(code);

        // 4. Code exchange, client_secret_post + PKCE.
        auto t1 = co_await exchange_code(code);
        EXPECT_EQ(t1.status, 200u) << t1.body;
        EXPECT_EQ(t1.h("cache-control"), "no-store");
        EXPECT_EQ(t1.h("pragma"), "no-cache");
        auto j1 = t1.j();
        EXPECT_EQ(j1.value("token_type", ""), "Bearer");
        EXPECT_EQ(j1.value("expires_in", 0), 3600);
        EXPECT_EQ(j1.value("scope", ""), "calls dial");
        const std::string at1 = j1.value("access_token", ""), rt1 = j1.value("refresh_token", "");
        EXPECT_EQ(at1.size(), 43u);
        EXPECT_EQ(rt1.size(), 43u);
        secrets.insert(secrets.end(), {at1, rt1});

        // The identity captured at login, as the API sees it.
        auto who = co_await svc->authenticate(at1);
        EXPECT_TRUE(who && *who);
        if (who && *who) {
          const auto& a = **who;
          EXPECT_EQ(a.who.account_id, "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d");
          EXPECT_EQ(a.who.account_name, "acme");
          EXPECT_EQ(a.who.user_id, "2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a");
          EXPECT_EQ(a.who.user_name, "Alice Smith");
          EXPECT_EQ(a.who.email, "alice@acme.example.com");
          EXPECT_EQ(a.who.extensions, std::vector<std::string>{"1001"});
          EXPECT_TRUE(a.who.admin);
          EXPECT_EQ(a.scopes, (std::vector<std::string>{"calls", "dial"}));
          EXPECT_EQ(a.client_id, client_id);
        }

        // 5. Refresh: a new pair; Zapier's stale `Authorization: Bearer` is ignored.
        const kv f2{{"grant_type", "refresh_token"}, {"refresh_token", rt1}, {"client_id", client_id},
                    {"client_secret", client_secret}};
        const header_map stale{{"Authorization", "Bearer " + at1}};
        auto t2 = co_await token_request(f2, stale);
        EXPECT_EQ(t2.status, 200u) << t2.body;
        const std::string at2 = t2.j().value("access_token", ""), rt2 = t2.j().value("refresh_token", "");
        EXPECT_NE(rt2, rt1);
        secrets.insert(secrets.end(), {at2, rt2});

        // 6. A concurrent refresh with the previous token inside the grace window still succeeds.
        clock_offset_ms = 30'000;
        auto t3 = co_await refresh(rt1);
        EXPECT_EQ(t3.status, 200u) << t3.body;
        const std::string rt3 = t3.j().value("refresh_token", "");
        secrets.push_back(rt3);
        EXPECT_NE(rt3, rt2);

        // 7. The previous token after the window: reuse detected, the whole family revoked.
        clock_offset_ms = 61'000 + 1;
        auto t4 = co_await refresh(rt1);
        EXPECT_EQ(t4.status, 400u);
        EXPECT_EQ(t4.j().value("error", ""), "invalid_grant");
        auto t5 = co_await refresh(rt2);
        EXPECT_EQ(t5.status, 400u) << "the family is revoked";
        auto gone = co_await svc->authenticate(at2);
        EXPECT_TRUE(gone && !*gone);

        // 8. A second grant: introspection, then revocation (RFC 7009) ends it.
        clock_offset_ms = 0;
        auto code2 = co_await login_for_code();
        secrets.push_back(code2);
        auto g2 = co_await exchange_code(code2);
        EXPECT_EQ(g2.status, 200u) << g2.body;
        const std::string at6 = g2.j().value("access_token", ""), rt6 = g2.j().value("refresh_token", "");
        secrets.insert(secrets.end(), {at6, rt6});
        const kv i1_f{{"token", at6}};
        auto i1 = co_await post_form("/oauth/introspect", i1_f);
        EXPECT_EQ(i1.status, 200u);
        EXPECT_EQ(i1.j().value("active", false), true);
        EXPECT_EQ(i1.j().value("scope", ""), "calls dial");
        EXPECT_EQ(i1.j().value("client_id", ""), client_id);
        EXPECT_EQ(i1.j().value("sub", ""), "2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a");
        EXPECT_EQ(i1.j().value("token_type", ""), "Bearer");
        EXPECT_EQ(i1.j().value("iss", ""), issuer);
        const kv rv_f{{"token", rt6}, {"token_type_hint", "refresh_token"}};
        auto rv = co_await post_form("/oauth/revoke", rv_f);
        EXPECT_EQ(rv.status, 200u);
        const kv i2_f{{"token", at6}};
        auto i2 = co_await post_form("/oauth/introspect", i2_f);
        EXPECT_EQ(i2.j(), json({{"active", false}})) << "revoking the refresh token ends its access tokens";
        const kv rv2_f{{"token", "never-issued"}};
        auto rv2 = co_await post_form("/oauth/revoke", rv2_f);
        EXPECT_EQ(rv2.status, 200u) << "unknown tokens are answered 200 (RFC 7009 §2.2)";
        auto again = co_await refresh(rt6);
        EXPECT_EQ(again.status, 400u);

        // 9. Code reuse: refused, and every token issued from the code is revoked.
        auto code3 = co_await login_for_code();
        secrets.push_back(code3);
        auto g3 = co_await exchange_code(code3);
        EXPECT_EQ(g3.status, 200u);
        const std::string at7 = g3.j().value("access_token", "");
        secrets.push_back(at7);
        auto reuse = co_await exchange_code(code3);
        EXPECT_EQ(reuse.status, 400u);
        EXPECT_EQ(reuse.j().value("error", ""), "invalid_grant");
        const kv i3_f{{"token", at7}};
        auto i3 = co_await post_form("/oauth/introspect", i3_f);
        EXPECT_EQ(i3.j().value("active", true), false);

        // 10. Metadata (RFC 8414) matches what we serve.
        const std::string md_target = "/.well-known/oauth-authorization-server", no_body;
        const header_map no_headers;
        auto md = co_await exchange(port, http::verb::get, md_target, no_body, no_headers);
        EXPECT_EQ(md.status, 200u);
        auto m = md.j();
        EXPECT_EQ(m.value("issuer", ""), issuer);
        EXPECT_EQ(m.value("token_endpoint", ""), issuer + "/oauth/token");
        EXPECT_EQ(m["code_challenge_methods_supported"], json::array({"S256"}));
        EXPECT_EQ(m.value("authorization_response_iss_parameter_supported", false), true);
        EXPECT_EQ(m["response_types_supported"], json::array({"code"}));
      },
      std::chrono::seconds(30));

  // The logs of the whole flow (service, server, Crossbar client) never contain a secret.
  const auto text = logs.text();
  EXPECT_NE(text.find("oauth login ok"), std::string::npos);
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    EXPECT_EQ(text.find(s), std::string::npos) << "a secret leaked into the logs";
  }
  EXPECT_EQ(text.find(md5_hex("alice:alice-secret-1")), std::string::npos);
  EXPECT_NE(metrics.render().find("kazoo_bridge_oauth_tokens_issued_total{grant_type=\"refresh_token\"} 2"),
            std::string::npos)
      << metrics.render();
}

TEST_F(oauth_test, basic_client_authentication_and_pkce_failures) {
  start();
  run_coro(
      ioc,
      [&]() -> awaitable<void> {
        auto code = co_await login_for_code();
        // Wrong verifier: invalid_grant, and the code is still good for the real client.
        const kv bad_f{{"grant_type", "authorization_code"}, {"code", code}, {"client_id", client_id},
                       {"client_secret", client_secret}, {"code_verifier", std::string(43, 'x')}};
        auto bad = co_await token_request(bad_f);
        EXPECT_EQ(bad.status, 400u);
        EXPECT_EQ(bad.j().value("error", ""), "invalid_grant");
        // Wrong secret via Basic: 401 + WWW-Authenticate.
        const kv code_f{{"grant_type", "authorization_code"}, {"code", code}, {"code_verifier", verifier}};
        const header_map wrong_basic{{"Authorization", "Basic " + base64(client_id + ":nope")}};
        auto basic_bad = co_await token_request(code_f, wrong_basic);
        EXPECT_EQ(basic_bad.status, 401u);
        EXPECT_EQ(basic_bad.j().value("error", ""), "invalid_client");
        EXPECT_NE(basic_bad.h("www-authenticate").find("Basic realm="), std::string::npos);
        // Right secret via Basic, redirect_uri omitted (OAuth 2.1): tokens.
        const header_map right_basic{{"Authorization", "Basic " + base64(client_id + ":" + client_secret)}};
        auto ok = co_await token_request(code_f, right_basic);
        EXPECT_EQ(ok.status, 200u) << ok.body;
        // Not a form body: invalid_request.
        const std::string token_path = "/oauth/token", json_body = R"({"grant_type":"refresh_token"})";
        const header_map json_ct{{"Content-Type", "application/json"}};
        auto js = co_await exchange(port, http::verb::post, token_path, json_body, json_ct);
        EXPECT_EQ(js.status, 400u);
        EXPECT_EQ(js.j().value("error", ""), "invalid_request");
      },
      std::chrono::seconds(20));
}

}  // namespace
}  // namespace kazoo_bridge::oauth::test
