// The primitives behind PKCE, token storage and Kazoo credentials, against published vectors.
#include <gtest/gtest.h>

#include <set>

#include <kazoo_bridge/oauth/crypto.hpp>
#include <kazoo_bridge/oauth/rules.hpp>

namespace kazoo_bridge::oauth {
namespace {

TEST(oauth_crypto, pkce_s256_matches_rfc7636_appendix_b) {
  // RFC 7636 Appendix B: the verifier and the challenge a client and the server must agree on.
  EXPECT_EQ(pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_TRUE(pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
  EXPECT_FALSE(pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
}

TEST(oauth_crypto, hashes_match_known_vectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The reference/kazoo.md §5.2 example shape: md5 of "user:password", lower-case hex.
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  // RFC 4231 test case 2.
  EXPECT_EQ(base64(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");  // hex 5bdcc146...64ec3843
}

TEST(oauth_crypto, base64_variants_round_trip) {
  EXPECT_EQ(base64url(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(base64(std::string("\xfb\xff", 2)), "+/8=");
  std::string out;
  ASSERT_TRUE(base64_decode("Y2lkOmNzZWNyZXQ=", out));
  EXPECT_EQ(out, "cid:csecret");
  ASSERT_TRUE(base64_decode("Y2lkOmNzZWNyZXQ", out));  // padding optional
  EXPECT_EQ(out, "cid:csecret");
  EXPECT_FALSE(base64_decode("Y2lk*mNz", out));
  EXPECT_FALSE(base64_decode("Y", out));
}

TEST(oauth_crypto, random_tokens_are_256_bit_base64url_and_distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto t = random_token(32);
    EXPECT_EQ(t.size(), 43u);  // 32 bytes, unpadded base64url
    EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(random_hex(16).size(), 32u);
}

TEST(oauth_crypto, constant_time_compare) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
}

}  // namespace
}  // namespace kazoo_bridge::oauth
