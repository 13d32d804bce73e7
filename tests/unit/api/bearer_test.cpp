// RFC 6750 bearer credentials: what the Authorization header may hold, and the challenges we send.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <kazoo_bridge/api/bearer.hpp>

namespace kazoo_bridge::api {
namespace {

struct header_case {
  std::optional<std::string> value;
  authorization_kind kind;
  std::string token;
};

TEST(Bearer, ParsesTheAuthorizationHeaderPerRfc6750Section2_1) {
  const std::vector<header_case> cases{
      {std::nullopt, authorization_kind::none, ""},
      {"Bearer mF_9.B5f-4.1JqM", authorization_kind::bearer, "mF_9.B5f-4.1JqM"},  // RFC 6750 §2.1 example
      {"bearer abc", authorization_kind::bearer, "abc"},                            // scheme case-insensitive
      {"BEARER abc", authorization_kind::bearer, "abc"},
      {"Bearer   abc", authorization_kind::bearer, "abc"},                          // 1*SP
      {"  Bearer abc  ", authorization_kind::bearer, "abc"},                        // OWS around the value
      {"Bearer a+b/c~d==", authorization_kind::bearer, "a+b/c~d=="},                // every b64token char
      {"Bearer abc=", authorization_kind::bearer, "abc="},
      {"Basic dXNlcjpwYXNz", authorization_kind::other, ""},
      {"Digest username=\"x\"", authorization_kind::other, ""},
      {"Bearer", authorization_kind::malformed, ""},
      {"Bearer ", authorization_kind::malformed, ""},
      {"Bearer a b", authorization_kind::malformed, ""},          // trailing data
      {"Bearer =abc", authorization_kind::malformed, ""},         // '=' only at the end
      {"Bearer ab=c", authorization_kind::malformed, ""},
      {"Bearer ab\"c", authorization_kind::malformed, ""},
      {"Bearer ab,c", authorization_kind::malformed, ""},
      {"Bearer\tabc", authorization_kind::malformed, ""},         // SP, not HTAB, separates (§2.1)
      {"Bearerabc", authorization_kind::other, ""},               // another scheme's name
      {"", authorization_kind::malformed, ""},
      {"Bearer abc\xc3\xa9", authorization_kind::malformed, ""},  // non-ASCII
  };
  for (const auto& c : cases) {
    auto p = parse_authorization(c.value ? std::optional<std::string_view>(*c.value) : std::nullopt);
    EXPECT_EQ(p.kind, c.kind) << (c.value ? *c.value : "(no header)");
    EXPECT_EQ(p.token, c.token) << (c.value ? *c.value : "(no header)");
  }
}

TEST(Bearer, B64TokenSyntax) {
  EXPECT_TRUE(is_b64token("a"));
  EXPECT_TRUE(is_b64token("Zz09-._~+/"));
  EXPECT_TRUE(is_b64token("x=="));
  EXPECT_FALSE(is_b64token(""));
  EXPECT_FALSE(is_b64token("=="));
  EXPECT_FALSE(is_b64token("a=b"));
  EXPECT_FALSE(is_b64token("a b"));
  EXPECT_FALSE(is_b64token("a%20"));
}

TEST(Bearer, ChallengesCarryRealmErrorDescriptionAndScope) {
  // RFC 6750 §3: no authentication at all => realm only, no error code.
  EXPECT_EQ(www_authenticate({.realm = "kazoo-bridge", .error = {}, .error_description = {}, .scope = {}}),
            R"(Bearer realm="kazoo-bridge")");
  EXPECT_EQ(www_authenticate({.realm = "kazoo-bridge", .error = "invalid_token",
                              .error_description = "The access token expired", .scope = {}}),
            R"(Bearer realm="kazoo-bridge", error="invalid_token", error_description="The access token expired")");
  EXPECT_EQ(www_authenticate({.realm = "kazoo-bridge", .error = "insufficient_scope", .error_description = {},
                              .scope = "calls account"}),
            R"(Bearer realm="kazoo-bridge", error="insufficient_scope", scope="calls account")");
}

TEST(Bearer, ChallengeValuesNeverBreakTheQuotedString) {
  // §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E; a quote or a backslash
  // would end or escape the quoted-string, a CR/LF would split the header.
  auto v = www_authenticate(
      {.realm = "r\"ealm", .error = "invalid_token", .error_description = "bad \"x\"\\\r\nInjected: 1", .scope = {}});
  EXPECT_EQ(v, R"(Bearer realm="realm", error="invalid_token", error_description="bad xInjected: 1")");
}

}  // namespace
}  // namespace kazoo_bridge::api
