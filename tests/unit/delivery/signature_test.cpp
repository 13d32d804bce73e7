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

TEST(signature, a_signer_reproduces_the_vector_on_every_call) {
  auto s = signer::make(vector_secret);
  ASSERT_TRUE(s.has_value());
  // The second and third calls restart the MAC from the stored key: a context left in the state of
  // the previous call would give a different signature.
  for (int i = 0; i < 3; ++i) {
    auto v = s->sign(vector_id, vector_ts, vector_body);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, vector_signature) << "call " << i;
  }
}

TEST(signature, a_signer_agrees_with_sign_for_other_inputs_and_copies_keep_the_key) {
  auto s = signer::make(vector_secret);
  ASSERT_TRUE(s.has_value());
  // A 5,000-byte body (Python's hmac module gives the expected value) through both paths.
  const std::string big(5000, 'x');
  constexpr std::string_view big_signature = "v1,+4fqSnlnvbj/bo0ZODKQK21opaiye4OZ1Qp4cFNy61Q=";
  EXPECT_EQ(*s->sign("msg_other", 1, big), big_signature);
  EXPECT_EQ(*sign(vector_secret, "msg_other", 1, big), big_signature);
  signer copy = *s;
  signer moved = std::move(*s);
  EXPECT_EQ(*copy.sign(vector_id, vector_ts, vector_body), vector_signature);
  EXPECT_EQ(*moved.sign(vector_id, vector_ts, vector_body), vector_signature);
  auto other = signer::make("whsec_" + base64_encode("another key"));
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(*other->sign(vector_id, vector_ts, vector_body), vector_signature);
  *other = copy;
  EXPECT_EQ(*other->sign(vector_id, vector_ts, vector_body), vector_signature);
}

TEST(signature, a_signer_refuses_an_invalid_secret) {
  EXPECT_FALSE(signer::make("whsec_not base64!").has_value());
  EXPECT_FALSE(signer::make("whsec_").has_value());
}

TEST(signature, a_key_longer_than_a_hash_block_signs_as_the_reference_does) {
  // 600-byte key: longer than SHA-256's 64-byte block, so HMAC hashes it first (RFC 2104 §2), and
  // longer than the implementation's stack buffer. Expected value from Python's hmac module:
  // base64(hmac.new(b"k" * 600, b"<id>.<ts>.<body>", hashlib.sha256).digest()).
  const std::string long_secret = "whsec_" + base64_encode(std::string(600, 'k'));
  constexpr std::string_view expected = "v1,yMkqdWI3o44e0q5Q+YzjCHtdGztmN2ja1V2IL9YfAf0=";
  auto direct = sign(long_secret, vector_id, vector_ts, vector_body);
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(*direct, expected);
  auto via_signer = signer::make(long_secret);
  ASSERT_TRUE(via_signer.has_value());
  EXPECT_EQ(*via_signer->sign(vector_id, vector_ts, vector_body), expected);
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
