#include <gtest/gtest.h>

#include <kazoo_bridge/delivery/signature.hpp>

namespace kazoo_bridge::delivery {
namespace {

// The published Standard Webhooks test vector: standard-webhooks/standard-webhooks,
// libraries/python/tests/test_webhooks.py, test_sign_function (commit 33d368b2), the same vector
// as the JavaScript, Go, Rust and PHP reference libraries' sign tests.
constexpr std::string_view vector_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view vector_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t vector_ts = 1614265330;
constexpr std::string_view vector_body = R"({"test": 2432232314})";
constexpr std::string_view vector_signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(signature, reproduces_the_published_standard_webhooks_vector) {
  auto s = sign(vector_secret, vector_id, vector_ts, vector_body);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, vector_signature);
}

TEST(signature, the_whsec_prefix_is_optional_as_in_the_reference_libraries) {
  auto s = sign(vector_secret.substr(6), vector_id, vector_ts, vector_body);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, vector_signature);
}

TEST(signature, any_change_to_id_timestamp_or_body_changes_the_signature) {
  EXPECT_NE(*sign(vector_secret, "msg_other", vector_ts, vector_body), vector_signature);
  EXPECT_NE(*sign(vector_secret, vector_id, vector_ts + 1, vector_body), vector_signature);
  EXPECT_NE(*sign(vector_secret, vector_id, vector_ts, R"({"test": 2432232315})"), vector_signature);
}

TEST(signature, an_invalid_secret_is_refused) {
  EXPECT_FALSE(sign("whsec_not base64!", vector_id, vector_ts, vector_body).has_value());
  EXPECT_FALSE(sign("whsec_", vector_id, vector_ts, vector_body).has_value());
}

TEST(signature, base64_round_trips_every_padding_length) {
  struct row {
    std::string_view plain, encoded;
  };
  // RFC 4648 §10 test vectors.
  for (auto [plain, encoded] : {row{"", ""}, row{"f", "Zg=="}, row{"fo", "Zm8="}, row{"foo", "Zm9v"},
                                row{"foob", "Zm9vYg=="}, row{"fooba", "Zm9vYmE="}, row{"foobar", "Zm9vYmFy"}}) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto back = base64_decode(encoded);
    ASSERT_TRUE(back.has_value()) << encoded;
    EXPECT_EQ(*back, plain);
  }
  EXPECT_FALSE(base64_decode("abc").has_value());
}

}  // namespace
}  // namespace kazoo_bridge::delivery
