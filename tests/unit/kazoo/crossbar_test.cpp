#include <gtest/gtest.h>

#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/kazoo/crossbar.hpp>

namespace kazoo_bridge::kazoo {
namespace {

// base64url of {"account_id":"a1","exp":1718003600}
constexpr const char* jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhY2NvdW50X2lkIjoiYTEiLCJleHAiOjE3MTgwMDM2MDB9.c2ln";

TEST(crossbar, reads_the_exp_claim_of_a_jwt) {
  EXPECT_EQ(jwt_expiry_ms(jwt), 1718003600000);
  EXPECT_FALSE(jwt_expiry_ms("not-a-jwt").has_value());
  EXPECT_FALSE(jwt_expiry_ms("a.!!!.c").has_value());
  EXPECT_FALSE(jwt_expiry_ms("a.eyJ4IjoxfQ.c").has_value());  // {"x":1}: no exp
}

TEST(crossbar, token_refresh_is_due_within_the_margin) {
  auth_token t{.token = "t", .account_id = "a", .owner_id = {}, .expires_at_ms = 10'000'000};
  EXPECT_FALSE(token_needs_refresh(t, 9'000'000, 300'000));
  EXPECT_TRUE(token_needs_refresh(t, 9'700'000, 300'000));
  EXPECT_TRUE(token_needs_refresh(t, 10'000'001, 0));
  EXPECT_TRUE(token_needs_refresh(auth_token{}, 0, 0));  // no token yet
}

TEST(crossbar, auth_response_becomes_a_token) {
  auto env = nlohmann::json::parse(std::string(R"({"auth_token":")") + jwt +
                                   R"(","status":"success","data":{"account_id":"a1","owner_id":"u1"}})");
  auto t = token_from_auth_response(env, 0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->account_id, "a1");
  EXPECT_EQ(t->owner_id, "u1");
  EXPECT_EQ(t->expires_at_ms, 1718003600000);

  // api_auth has no owner_id; an opaque token falls back to the default lifetime (§5.2).
  auto opaque = token_from_auth_response(
      nlohmann::json::parse(R"({"auth_token":"opaque","data":{"account_id":"a1"}})"), 1000);
  ASSERT_TRUE(opaque);
  EXPECT_FALSE(opaque->owner_id.has_value());
  EXPECT_EQ(opaque->expires_at_ms, 1000 + default_token_lifetime_ms);

  for (const char* bad : {R"({"data":{"account_id":"a1"}})", R"({"auth_token":"t"})",
                          R"({"auth_token":"t","data":{}})", R"({"auth_token":"t","data":[]})"}) {
    EXPECT_EQ(token_from_auth_response(nlohmann::json::parse(bad), 0).error(), errc::bad_payload) << bad;
  }
}

TEST(crossbar, responses_map_to_domain_errors) {
  struct row {
    unsigned status;
    bool auth;
    errc expected;
  };
  const row rows[] = {
      {401, false, errc::auth_expired}, {401, true, errc::auth_failed},  {404, true, errc::auth_failed},
      {404, false, errc::not_found},    {403, false, errc::forbidden},   {423, false, errc::forbidden},
      {429, false, errc::rate_limited}, {500, false, errc::unavailable}, {503, true, errc::unavailable},
      {400, false, errc::peer_error},   {400, true, errc::auth_failed},
  };
  for (const auto& r : rows) {
    auto res = classify_response(r.status, R"({"status":"error"})", r.auth);
    ASSERT_FALSE(res) << r.status;
    EXPECT_EQ(res.error(), r.expected) << r.status << " auth=" << r.auth;
  }
  EXPECT_EQ(classify_response(200, "<html>", false).error(), errc::bad_payload);
  EXPECT_EQ(classify_response(200, "[1]", false).error(), errc::bad_payload);
  auto ok = classify_response(202, R"({"status":"success","data":{}})", false);
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["status"], "success");
}

TEST(crossbar, pagination_follows_next_start_key_from_the_first_page) {
  auto env = nlohmann::json::parse(R"({"data":[],"next_start_key":"g2wAAAAB+/="})");
  EXPECT_EQ(next_page_path("/accounts/a/cdrs?page_size=100", env),
            "/accounts/a/cdrs?page_size=100&start_key=g2wAAAAB%2B%2F%3D");
  EXPECT_EQ(next_page_path("/accounts/a/users", env), "/accounts/a/users?start_key=g2wAAAAB%2B%2F%3D");
  EXPECT_FALSE(next_page_path("/x", nlohmann::json::parse(R"({"data":[]})")).has_value());
  EXPECT_FALSE(next_page_path("/x", nlohmann::json::parse(R"({"next_start_key":null})")).has_value());
  // Numeric keys exist too (older releases); they are sent as their JSON text.
  EXPECT_EQ(next_page_path("/x", nlohmann::json::parse(R"({"next_start_key":[63885219200]})")),
            "/x?start_key=%5B63885219200%5D");
}

TEST(crossbar, cdr_range_is_gregorian_and_clamped_to_the_maximum) {
  EXPECT_EQ(cdrs_path("acc", 1718000000, 1718000100),
            "/accounts/acc/cdrs?created_from=63885219200&created_to=63885219300&ascending=true&page_size=100");
  // A long outage cannot ask for more than 2,682,000 s (Crossbar answers 400 date_range otherwise).
  auto p = cdrs_path("acc", 0, 1718000000);
  EXPECT_NE(p.find("created_from=" + std::to_string(unix_to_gregorian_s(1718000000 - cdr_max_range_s))),
            std::string::npos)
      << p;
}

TEST(crossbar, user_auth_body_carries_md5_credentials_and_account_name) {
  // reference/kazoo.md §5.2: {"data":{"credentials":md5("user:password"),"account_name":...,"method":"md5"}}
  EXPECT_EQ(nlohmann::json::parse(user_auth_body("ac\"me", "82a2dc91686ec828a67152d45a5c5ef7")),
            nlohmann::json::parse(R"({"data":{"credentials":"82a2dc91686ec828a67152d45a5c5ef7",)"
                                  R"("account_name":"ac\"me","method":"md5"}})"));
}

TEST(crossbar, api_auth_body_uses_the_data_envelope) {
  EXPECT_EQ(nlohmann::json::parse(api_auth_body("k\"ey")), nlohmann::json::parse(R"({"data":{"api_key":"k\"ey"}})"));
}

}  // namespace
}  // namespace kazoo_bridge::kazoo
