// Authorization request validation and scopes (RFC 6749 §3.1, §3.3, §4.1.2.1; RFC 7636; RFC 9700).
#include <gtest/gtest.h>

#include <kazoo_bridge/oauth/rules.hpp>

namespace kazoo_bridge::oauth {
namespace {

const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

client_info zapier() {
  return client_info{"cid", "Zapier", "hash", false, true,
                     {"https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/", "http://127.0.0.1:9000/cb"}};
}

param_list good() {
  return {{"response_type", "code"},
          {"client_id", "cid"},
          {"redirect_uri", "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/"},
          {"state", "xyz"},
          {"scope", "calls dial"},
          {"code_challenge", challenge},
          {"code_challenge_method", "S256"}};
}

param_list with(param_list p, const std::string& k, const std::string& v) {
  bool replaced = false;
  for (auto& [pk, pv] : p) {
    if (pk == k) {
      pv = v;
      replaced = true;
    }
  }
  if (!replaced) p.emplace_back(k, v);
  return p;
}

param_list without(param_list p, const std::string& k) {
  std::erase_if(p, [&](const auto& kv) { return kv.first == k; });
  return p;
}

param_list plus(param_list p, const std::string& k, const std::string& v) {
  p.emplace_back(k, v);
  return p;
}

enum class kind { ok, page, redirect };

struct authorize_case {
  const char* name;
  param_list params;
  bool known_client = true;
  bool public_client = false;
  bool pkce_required = true;
  kind expect = kind::ok;
  const char* error = "";
  bool state_echoed = true;
};

class oauth_authorize_validation : public ::testing::TestWithParam<authorize_case> {};

TEST_P(oauth_authorize_validation, table) {
  const auto& c = GetParam();
  std::optional<client_info> client;
  if (c.known_client) {
    client = zapier();
    client->is_public = c.public_client;
    client->pkce_required = c.pkce_required;
  }
  auto v = validate_authorize(c.params, client);
  switch (c.expect) {
    case kind::ok:
      ASSERT_TRUE(std::holds_alternative<authorize_request>(v)) << c.name;
      break;
    case kind::page: {
      ASSERT_TRUE(std::holds_alternative<page_error>(v)) << c.name;
      EXPECT_EQ(std::get<page_error>(v).error, c.error) << c.name;
      break;
    }
    case kind::redirect: {
      ASSERT_TRUE(std::holds_alternative<redirect_error>(v)) << c.name;
      const auto& e = std::get<redirect_error>(v);
      EXPECT_EQ(e.error, c.error) << c.name;
      EXPECT_EQ(e.redirect_uri, "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/") << c.name;
      EXPECT_EQ(e.state.has_value(), c.state_echoed) << c.name;
      if (e.state) {
        EXPECT_EQ(*e.state, "xyz") << c.name;
      }
      break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    table, oauth_authorize_validation,
    ::testing::Values(
        authorize_case{"valid", good()},
        authorize_case{"valid loopback URI", with(good(), "redirect_uri", "http://127.0.0.1:9000/cb")},
        authorize_case{"no scope = default", without(good(), "scope")},
        authorize_case{"empty scope = absent", with(good(), "scope", "")},
        authorize_case{"commas tolerated", with(good(), "scope", "calls,dial")},
        authorize_case{"confidential without PKCE when not required", without(without(good(), "code_challenge"),
                                                                              "code_challenge_method"),
                       true, false, false},
        // Never redirected: the client or redirect URI cannot be trusted (§4.1.2.1).
        authorize_case{"unknown client", good(), false, false, true, kind::page, "invalid_client"},
        authorize_case{"missing client_id", without(good(), "client_id"), true, false, true, kind::page,
                       "invalid_request"},
        authorize_case{"empty client_id", with(good(), "client_id", ""), true, false, true, kind::page,
                       "invalid_request"},
        authorize_case{"repeated client_id", plus(good(), "client_id", "cid"), true, false, true, kind::page,
                       "invalid_request"},
        authorize_case{"missing redirect_uri", without(good(), "redirect_uri"), true, false, true, kind::page,
                       "invalid_request"},
        authorize_case{"unregistered redirect_uri", with(good(), "redirect_uri", "https://evil.example/cb"), true,
                       false, true, kind::page, "invalid_request"},
        authorize_case{"prefix of a registered URI",
                       with(good(), "redirect_uri", "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/x"),
                       true, false, true, kind::page, "invalid_request"},
        authorize_case{"case differs", with(good(), "redirect_uri", "https://Zapier.com/dashboard/auth/oauth/return/App1CLIAPI/"),
                       true, false, true, kind::page, "invalid_request"},
        authorize_case{"repeated redirect_uri",
                       plus(good(), "redirect_uri", "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/"),
                       true, false, true, kind::page, "invalid_request"},
        // Redirected back with the error (and state).
        authorize_case{"missing response_type", without(good(), "response_type"), true, false, true, kind::redirect,
                       "invalid_request"},
        authorize_case{"token response_type", with(good(), "response_type", "token"), true, false, true,
                       kind::redirect, "unsupported_response_type"},
        authorize_case{"missing state", without(good(), "state"), true, false, true, kind::redirect, "invalid_request",
                       false},
        authorize_case{"repeated state", plus(good(), "state", "other"), true, false, true, kind::redirect,
                       "invalid_request", false},
        authorize_case{"repeated scope", plus(good(), "scope", "calls"), true, false, true, kind::redirect,
                       "invalid_request"},
        authorize_case{"unknown scope", with(good(), "scope", "calls admin"), true, false, true, kind::redirect,
                       "invalid_scope"},
        authorize_case{"injection in scope", with(good(), "scope", "calls'\"<script>"), true, false, true,
                       kind::redirect, "invalid_scope"},
        authorize_case{"oversized state", with(good(), "state", std::string(5000, 'a')), true, false, true,
                       kind::redirect, "invalid_request", false},
        authorize_case{"oversized other parameter", plus(good(), "nonce", std::string(5000, 'a')), true, false, true,
                       kind::redirect, "invalid_request"},
        authorize_case{"plain PKCE", with(good(), "code_challenge_method", "plain"), true, false, true,
                       kind::redirect, "invalid_request"},
        authorize_case{"challenge without method (= plain)", without(good(), "code_challenge_method"), true, false,
                       true, kind::redirect, "invalid_request"},
        authorize_case{"method without challenge", without(good(), "code_challenge"), true, false, true,
                       kind::redirect, "invalid_request"},
        authorize_case{"malformed challenge", with(good(), "code_challenge", "short"), true, false, true,
                       kind::redirect, "invalid_request"},
        authorize_case{"PKCE required by the client",
                       without(without(good(), "code_challenge"), "code_challenge_method"), true, false, true,
                       kind::redirect, "invalid_request"},
        authorize_case{"public client always needs PKCE",
                       without(without(good(), "code_challenge"), "code_challenge_method"), true, true, false,
                       kind::redirect, "invalid_request"}));

TEST(oauth_authorize, valid_request_carries_every_field) {
  auto v = validate_authorize(with(good(), "scope", "dial, calls calls"), zapier());
  ASSERT_TRUE(std::holds_alternative<authorize_request>(v));
  const auto& r = std::get<authorize_request>(v);
  EXPECT_EQ(r.client_id, "cid");
  EXPECT_EQ(r.state, "xyz");
  EXPECT_EQ(r.code_challenge, challenge);
  EXPECT_EQ(r.scopes, (std::vector<std::string>{"calls", "dial"}));
  EXPECT_EQ(r.scope_text, "dial, calls calls");
}

struct scope_case {
  const char* requested;
  bool admin;
  std::optional<std::string> granted;  // nullopt = invalid_scope
};

class oauth_scope_decision : public ::testing::TestWithParam<scope_case> {};

TEST_P(oauth_scope_decision, table) {
  const auto& c = GetParam();
  auto asked = parse_scopes(c.requested);
  ASSERT_TRUE(asked.has_value()) << c.requested;
  auto g = grant_scopes(*asked, c.admin);
  EXPECT_EQ(g.has_value(), c.granted.has_value()) << c.requested;
  if (g && c.granted) {
    EXPECT_EQ(join_scopes(*g), *c.granted) << c.requested;
  }
  if (g && !c.admin) {
    EXPECT_EQ(join_scopes(*g).find("account"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(table, oauth_scope_decision,
                         ::testing::Values(scope_case{"", false, "calls dial"}, scope_case{"", true, "calls dial"},
                                           scope_case{"calls", false, "calls"},
                                           scope_case{"account calls dial", true, "calls dial account"},
                                           scope_case{"account calls dial", false, "calls dial"},
                                           scope_case{"account,dial", false, "dial"},
                                           scope_case{"account", false, std::nullopt},
                                           scope_case{"account", true, "account"},
                                           scope_case{"  dial   dial ", false, "dial"}));

TEST(oauth_scopes, unknown_or_odd_scopes_are_refused) {
  EXPECT_FALSE(parse_scopes("calls admin"));
  EXPECT_FALSE(parse_scopes("CALLS"));  // scope tokens are case-sensitive (RFC 6749 §3.3)
  EXPECT_FALSE(parse_scopes("calls;dial"));
  EXPECT_TRUE(scopes_subset({"calls"}, {"calls", "dial"}));
  EXPECT_FALSE(scopes_subset({"account"}, {"calls", "dial"}));
}

TEST(oauth_clients, redirect_uri_registration_rules) {
  EXPECT_FALSE(redirect_uri_problem("https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/"));
  EXPECT_FALSE(redirect_uri_problem("http://127.0.0.1:9000/cb"));
  EXPECT_FALSE(redirect_uri_problem("http://localhost:9000"));
  EXPECT_TRUE(redirect_uri_problem("http://example.com/cb"));  // plain http off loopback
  EXPECT_TRUE(redirect_uri_problem("https://example.com/cb#frag"));
  EXPECT_TRUE(redirect_uri_problem("javascript:alert(1)"));
  EXPECT_TRUE(redirect_uri_problem("/relative"));
  EXPECT_TRUE(redirect_uri_problem(""));
}

}  // namespace
}  // namespace kazoo_bridge::oauth
