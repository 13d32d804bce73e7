// Token endpoint rules: client authentication, request shape, code checks, refresh rotation decisions.
#include <gtest/gtest.h>

#include <kazoo_bridge/oauth/crypto.hpp>
#include <kazoo_bridge/oauth/rules.hpp>

namespace kazoo_bridge::oauth {
namespace {

const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

std::string basic(const std::string& id_secret) { return "Basic " + base64(id_secret); }

struct client_case {
  const char* name;
  param_list body;
  std::string authorization;
  std::optional<std::string> client_id;  // nullopt = error expected
  std::optional<std::string> secret;
  unsigned status = 0;
  const char* error = "";
};

class oauth_client_extraction : public ::testing::TestWithParam<client_case> {};

TEST_P(oauth_client_extraction, table) {
  const auto& c = GetParam();
  auto r = extract_client(c.body, c.authorization);
  if (c.client_id) {
    ASSERT_TRUE(std::holds_alternative<client_credentials>(r)) << c.name << ": " << std::get<token_error>(r).description;
    EXPECT_EQ(std::get<client_credentials>(r).client_id, *c.client_id) << c.name;
    EXPECT_EQ(std::get<client_credentials>(r).secret, c.secret) << c.name;
  } else {
    ASSERT_TRUE(std::holds_alternative<token_error>(r)) << c.name;
    EXPECT_EQ(std::get<token_error>(r).status, c.status) << c.name;
    EXPECT_EQ(std::get<token_error>(r).error, c.error) << c.name;
    EXPECT_EQ(std::get<token_error>(r).www_authenticate, c.status == 401) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    table, oauth_client_extraction,
    ::testing::Values(
        client_case{"post", {{"client_id", "cid"}, {"client_secret", "s"}}, "", "cid", "s"},
        client_case{"basic", {}, basic("cid:s"), "cid", "s"},
        client_case{"basic form-urlencoded (RFC 6749 §2.3.1)", {}, basic("c%3Aid:s%2B%25"), "c:id", "s+%"},
        client_case{"basic with matching body client_id", {{"client_id", "cid"}}, basic("cid:s"), "cid", "s"},
        client_case{"stale Bearer ignored (Zapier refresh)", {{"client_id", "cid"}, {"client_secret", "s"}},
                    "Bearer old-access-token", "cid", "s"},
        client_case{"public client: id only", {{"client_id", "cid"}}, "", "cid", std::nullopt},
        client_case{"empty secret counts as absent", {{"client_id", "cid"}, {"client_secret", ""}}, "", "cid",
                    std::nullopt},
        client_case{"two methods", {{"client_secret", "s"}}, basic("cid:s"), std::nullopt, std::nullopt, 400,
                    "invalid_request"},
        client_case{"body id differs from basic", {{"client_id", "other"}}, basic("cid:s"), std::nullopt,
                    std::nullopt, 400, "invalid_request"},
        client_case{"repeated client_id", {{"client_id", "cid"}, {"client_id", "cid"}}, "", std::nullopt,
                    std::nullopt, 400, "invalid_request"},
        client_case{"malformed basic", {}, "Basic !!!", std::nullopt, std::nullopt, 401, "invalid_client"},
        client_case{"basic without colon", {}, basic("cids"), std::nullopt, std::nullopt, 401, "invalid_client"},
        client_case{"no client at all", {{"grant_type", "refresh_token"}}, "", std::nullopt, std::nullopt, 401,
                    "invalid_client"}));

TEST(oauth_client_auth, secrets_are_compared_by_hash) {
  client_info conf{"cid", "Zapier", sha256_hex("s3cret"), false, true, {}};
  client_info pub{"pid", "SPA", "", true, true, {}};
  EXPECT_FALSE(authenticate_client({"cid", "s3cret", false}, conf));
  EXPECT_TRUE(authenticate_client({"cid", "wrong", false}, conf));
  EXPECT_TRUE(authenticate_client({"cid", std::nullopt, false}, conf));
  EXPECT_TRUE(authenticate_client({"nope", "s3cret", false}, std::nullopt));
  EXPECT_FALSE(authenticate_client({"pid", std::nullopt, false}, pub));
  EXPECT_TRUE(authenticate_client({"pid", "x", false}, pub));
  auto e = authenticate_client({"cid", "wrong", true}, conf);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 401u);
  EXPECT_TRUE(e->www_authenticate);
  EXPECT_EQ(e->error, "invalid_client");
}

struct request_case {
  const char* name;
  param_list body;
  const char* error;  // "" = valid
};

class oauth_token_request : public ::testing::TestWithParam<request_case> {};

TEST_P(oauth_token_request, table) {
  const auto& c = GetParam();
  auto r = validate_token_request(c.body);
  if (std::string(c.error).empty()) {
    EXPECT_TRUE(std::holds_alternative<token_grant>(r)) << c.name;
  } else {
    ASSERT_TRUE(std::holds_alternative<token_error>(r)) << c.name;
    EXPECT_EQ(std::get<token_error>(r).error, c.error) << c.name;
    EXPECT_EQ(std::get<token_error>(r).status, 400u) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    table, oauth_token_request,
    ::testing::Values(
        request_case{"code", {{"grant_type", "authorization_code"}, {"code", "c"}}, ""},
        request_case{"code + verifier + redirect", {{"grant_type", "authorization_code"}, {"code", "c"},
                     {"redirect_uri", "https://x/cb"}, {"code_verifier", verifier}}, ""},
        request_case{"empty verifier = absent (Zapier)", {{"grant_type", "authorization_code"}, {"code", "c"},
                     {"code_verifier", ""}}, ""},
        request_case{"refresh", {{"grant_type", "refresh_token"}, {"refresh_token", "r"}}, ""},
        request_case{"refresh narrower scope", {{"grant_type", "refresh_token"}, {"refresh_token", "r"},
                     {"scope", "calls"}}, ""},
        request_case{"no grant_type", {{"code", "c"}}, "invalid_request"},
        request_case{"password grant", {{"grant_type", "password"}}, "unsupported_grant_type"},
        request_case{"client_credentials", {{"grant_type", "client_credentials"}}, "unsupported_grant_type"},
        request_case{"missing code", {{"grant_type", "authorization_code"}}, "invalid_request"},
        request_case{"repeated code", {{"grant_type", "authorization_code"}, {"code", "c"}, {"code", "d"}},
                     "invalid_request"},
        request_case{"repeated grant_type", {{"grant_type", "authorization_code"}, {"grant_type", "refresh_token"},
                     {"code", "c"}}, "invalid_request"},
        request_case{"short verifier", {{"grant_type", "authorization_code"}, {"code", "c"},
                     {"code_verifier", "abc"}}, "invalid_request"},
        request_case{"verifier with bad characters", {{"grant_type", "authorization_code"}, {"code", "c"},
                     {"code_verifier", std::string(50, 'a') + "+/="}}, "invalid_request"},
        request_case{"oversized code", {{"grant_type", "authorization_code"}, {"code", std::string(3000, 'c')}},
                     "invalid_request"},
        request_case{"missing refresh_token", {{"grant_type", "refresh_token"}}, "invalid_request"},
        request_case{"refresh unknown scope", {{"grant_type", "refresh_token"}, {"refresh_token", "r"},
                     {"scope", "everything"}}, "invalid_scope"}));

struct code_case {
  const char* name;
  code_state code;
  code_grant grant;
  std::string client;
  std::int64_t now;
  code_verdict expect;
};

class oauth_code_check : public ::testing::TestWithParam<code_case> {};

TEST_P(oauth_code_check, table) {
  const auto& c = GetParam();
  EXPECT_EQ(check_code(c.code, c.grant, c.client, c.now), c.expect) << c.name;
}

const code_state pkce_code{"cid", "https://x/cb", challenge, 60'000, false};
const code_state plain_code{"cid", "https://x/cb", "", 60'000, false};

INSTANTIATE_TEST_SUITE_P(
    table, oauth_code_check,
    ::testing::Values(
        code_case{"pkce ok", pkce_code, {"c", "https://x/cb", verifier}, "cid", 1000, code_verdict::ok},
        code_case{"redirect omitted (OAuth 2.1)", pkce_code, {"c", std::nullopt, verifier}, "cid", 1000,
                  code_verdict::ok},
        code_case{"no pkce ok", plain_code, {"c", std::nullopt, std::nullopt}, "cid", 1000, code_verdict::ok},
        code_case{"reused beats everything", {"cid", "https://x/cb", challenge, 60'000, true},
                  {"c", std::nullopt, verifier}, "other", 99'000, code_verdict::reused},
        code_case{"expired at 60 s", pkce_code, {"c", std::nullopt, verifier}, "cid", 60'000, code_verdict::expired},
        code_case{"wrong client", pkce_code, {"c", std::nullopt, verifier}, "other", 1000, code_verdict::wrong_client},
        code_case{"wrong redirect", pkce_code, {"c", "https://x/cb2", verifier}, "cid", 1000,
                  code_verdict::wrong_redirect},
        code_case{"verifier missing", pkce_code, {"c", std::nullopt, std::nullopt}, "cid", 1000,
                  code_verdict::pkce_missing},
        code_case{"wrong verifier", pkce_code, {"c", std::nullopt, std::string(43, 'a')}, "cid", 1000,
                  code_verdict::pkce_mismatch},
        code_case{"downgrade", plain_code, {"c", std::nullopt, verifier}, "cid", 1000, code_verdict::pkce_downgrade}));

struct refresh_case {
  const char* name;
  refresh_state rt;
  std::string client;
  std::int64_t now;
  refresh_verdict expect;
};

class oauth_refresh_decision : public ::testing::TestWithParam<refresh_case> {};

TEST_P(oauth_refresh_decision, table) {
  const auto& c = GetParam();
  EXPECT_EQ(decide_refresh(c.rt, c.client, c.now, 60'000), c.expect) << c.name;
}

constexpr std::int64_t day = 86'400'000;

INSTANTIATE_TEST_SUITE_P(
    table, oauth_refresh_decision,
    ::testing::Values(
        refresh_case{"fresh token rotates", {"cid", 90 * day, std::nullopt, std::nullopt}, "cid", day,
                     refresh_verdict::rotate},
        refresh_case{"concurrent refresh inside the grace window", {"cid", 90 * day, std::nullopt, day}, "cid",
                     day + 30'000, refresh_verdict::grace_reissue},
        refresh_case{"grace window edge (60 s) still inside", {"cid", 90 * day, std::nullopt, day}, "cid",
                     day + 60'000, refresh_verdict::grace_reissue},
        refresh_case{"reuse after the window revokes the family", {"cid", 90 * day, std::nullopt, day}, "cid",
                     day + 60'001, refresh_verdict::reuse_detected},
        refresh_case{"revoked", {"cid", 90 * day, day, std::nullopt}, "cid", 2 * day, refresh_verdict::revoked},
        refresh_case{"expired", {"cid", 90 * day, std::nullopt, std::nullopt}, "cid", 90 * day,
                     refresh_verdict::expired},
        refresh_case{"another client", {"cid", 90 * day, std::nullopt, std::nullopt}, "evil", day,
                     refresh_verdict::wrong_client}));

}  // namespace
}  // namespace kazoo_bridge::oauth
