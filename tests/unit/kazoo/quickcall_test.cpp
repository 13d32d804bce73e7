#include <gtest/gtest.h>

#include <kazoo_bridge/kazoo/quickcall.hpp>

namespace kazoo_bridge::kazoo {
namespace {

TEST(quickcall_path, user_and_device_forms_with_encoded_number) {
  quickcall_request q{.account_id = "acc1",
                      .target = quickcall_target::user,
                      .target_id = "u1",
                      .number = "+15551234567",
                      .auto_answer = false,
                      .ring_timeout = std::chrono::seconds{30}};
  EXPECT_EQ(quickcall_path(q),
            "/accounts/acc1/users/u1/quickcall/%2B15551234567?auto_answer=false&timeout=30");
  q.target = quickcall_target::device;
  q.target_id = "d1";
  q.number = "101";
  q.auto_answer = true;
  q.ring_timeout = std::chrono::seconds{45};
  EXPECT_EQ(quickcall_path(q),
            "/accounts/acc1/devices/d1/quickcall/101?auto_answer=true&timeout=45");
  q.target_id = "a/b";  // never a path of its own
  EXPECT_EQ(quickcall_path(q),
            "/accounts/acc1/devices/a%2Fb/quickcall/101?auto_answer=true&timeout=45");
}

struct answer_case {
  unsigned status;
  const char* body;
  quickcall_answer expected;
};

class classify : public ::testing::TestWithParam<answer_case> {};

TEST_P(classify, maps_kazoo_answer) {
  const auto& c = GetParam();
  auto a = classify_quickcall(c.status, c.body);
  EXPECT_EQ(a.status, c.expected.status) << c.status << " " << c.body;
  EXPECT_EQ(a.call_id, c.expected.call_id) << c.body;
  EXPECT_EQ(a.message, c.expected.message) << c.body;
}

using qs = quickcall_status;
INSTANTIATE_TEST_SUITE_P(
    table, classify,
    ::testing::Values(
        // GET: 202 with the originate request in data (§5.4), hyphenated or normalised keys.
        answer_case{
            202,
            R"({"status":"success","data":{"Outbound-Call-ID":"abc-quickcall","Timeout":30}})",
            {qs::started, "abc-quickcall", ""}},
        answer_case{202,
                    R"({"status":"success","data":{"outbound_call_id":"def-quickcall"}})",
                    {qs::started, "def-quickcall", ""}},
        answer_case{200, R"({"status":"success","data":{}})", {qs::started, std::nullopt, ""}},
        answer_case{202, "not json", {qs::started, std::nullopt, ""}},
        answer_case{202, R"({"data":{"Outbound-Call-ID":""}})", {qs::started, std::nullopt, ""}},
        answer_case{
            404,
            R"({"status":"error","error":"404","message":"bad_identifier","data":{"message":"bad identifier","cause":"d9"}})",
            {qs::not_found, std::nullopt, "bad identifier"}},
        answer_case{
            403,
            R"({"status":"error","error":"403","message":"forbidden","data":{"message":"forbidden"}})",
            {qs::refused, std::nullopt, "forbidden"}},
        answer_case{
            400,
            R"({"status":"error","error":"400","message":"validation error","data":{"timeout":{"minimum":{"message":"must be more than 3"}}}})",
            {qs::refused, std::nullopt, "timeout: must be more than 3"}},
        answer_case{
            423,
            R"({"status":"error","message":"locked","data":{"account":{"disabled":{"message":"account disabled"}}}})",
            {qs::refused, std::nullopt, "account: account disabled"}},
        answer_case{
            401,
            R"({"status":"error","message":"invalid_credentials","data":{"message":"invalid credentials"}})",
            {qs::auth_expired, std::nullopt, "invalid credentials"}},
        answer_case{
            429,
            R"({"status":"error","message":"too_many_requests","data":{"message":"too many requests"}})",
            {qs::rate_limited, std::nullopt, "too many requests"}},
        answer_case{
            500,
            R"({"status":"error","message":"quickcall initiation failed","data":{"message":"quickcall initiation failed","error_message":"DESTINATION_OUT_OF_ORDER"}})",
            {qs::failed, std::nullopt, "quickcall initiation failed: DESTINATION_OUT_OF_ORDER"}},
        answer_case{
            500,
            R"({"status":"error","message":"unspecified_fault","data":{"message":"unspecified_fault"}})",
            {qs::failed, std::nullopt, "unspecified_fault"}},
        answer_case{500,
                    R"({"status":"error","message":"datastore_fault","data":{}})",
                    {qs::unavailable, std::nullopt, "datastore_fault"}},
        answer_case{503, "<html>Service Unavailable</html>", {qs::unavailable, std::nullopt, ""}},
        answer_case{502, "", {qs::unavailable, std::nullopt, ""}},
        answer_case{302, "", {qs::unavailable, std::nullopt, ""}}));

}  // namespace
}  // namespace kazoo_bridge::kazoo
