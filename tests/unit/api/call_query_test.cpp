// Query parameters of GET /api/v1/calls: what is accepted, what is refused with which reason.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <kazoo_bridge/api/call_query.hpp>
#include <kazoo_bridge/api/cursor.hpp>

namespace kazoo_bridge::api {
namespace {

using params = std::vector<std::pair<std::string, std::string>>;

call_list_query ok(const params& p) {
  auto r = parse_call_list_query(p);
  EXPECT_TRUE(r.query) << r.error;
  return r.query.value_or(call_list_query{});
}

std::string refused(const params& p) {
  auto r = parse_call_list_query(p);
  EXPECT_FALSE(r.query);
  EXPECT_FALSE(r.error.empty());
  return r.error;
}

TEST(CallQuery, DefaultsWithoutParameters) {
  auto q = ok({});
  EXPECT_EQ(q.limit, 50u);
  EXPECT_FALSE(q.since_ms || q.until_ms || q.direction || q.status || q.user_id || q.after);
}

TEST(CallQuery, EveryFilterIsParsed) {
  auto q = ok({{"since", "2026-11-21T10:00:00Z"}, {"until", "2026-11-21T11:00:00.500Z"},
               {"direction", "inbound"}, {"status", "ended"}, {"user_id", "u1"}, {"limit", "200"},
               {"unknown", "ignored"}});
  EXPECT_EQ(q.since_ms, 1'795'255'200'000);
  EXPECT_EQ(q.until_ms, 1'795'258'800'500);
  EXPECT_EQ(q.direction, "inbound");
  EXPECT_EQ(q.status, "ended");
  EXPECT_EQ(q.user_id, "u1");
  EXPECT_EQ(q.limit, 200u);
  // A '+' offset decoded to a space by the query encoding is taken back.
  EXPECT_EQ(ok({{"since", "2026-11-21T10:00:00 00:00"}}).since_ms, 1'795'255'200'000);
  // Empty values count as absent.
  EXPECT_FALSE(ok({{"status", ""}, {"cursor", ""}}).status);
}

TEST(CallQuery, BadValuesAreRefused) {
  EXPECT_NE(refused({{"direction", "sideways"}}).find("direction"), std::string::npos);
  EXPECT_NE(refused({{"status", "missed"}}).find("status"), std::string::npos);  // an event type, not a status
  EXPECT_NE(refused({{"since", "yesterday"}}).find("since"), std::string::npos);
  EXPECT_NE(refused({{"until", "2026-13-01T00:00:00Z"}}).find("until"), std::string::npos);
  EXPECT_NE(refused({{"since", "2026-11-21T12:00:00Z"}, {"until", "2026-11-21T11:00:00Z"}}).find("later"),
            std::string::npos);
  for (const char* limit : {"0", "201", "-1", "1e2", "ten", " 5", "99999999999999999999999"}) {
    EXPECT_NE(refused({{"limit", limit}}).find("limit"), std::string::npos) << limit;
  }
  EXPECT_NE(refused({{"status", "ended"}, {"status", "ringing"}}).find("more than once"), std::string::npos);
  EXPECT_NE(refused({{"user_id", std::string(129, 'u')}}).find("user_id"), std::string::npos);
  EXPECT_NE(refused({{"cursor", "%%%"}}).find("cursor"), std::string::npos);
}

TEST(CallQuery, SinceEqualToUntilIsAnEmptyWindowNotAnError) {
  auto q = ok({{"since", "2026-11-21T10:00:00Z"}, {"until", "2026-11-21T10:00:00Z"}});
  EXPECT_EQ(q.since_ms, q.until_ms);
}

TEST(CallQuery, CursorOnlyContinuesTheQueryItWasMadeFor) {
  auto first = ok({{"status", "ended"}, {"limit", "2"}});
  const auto text = encode_cursor({{1'700'000'000'000, "c9"}, filters_fingerprint(first)});
  auto next = ok({{"status", "ended"}, {"limit", "5"}, {"cursor", text}});  // another limit is fine
  ASSERT_TRUE(next.after);
  EXPECT_EQ(next.after->started_at_ms, 1'700'000'000'000);
  EXPECT_EQ(next.after->call_id, "c9");
  EXPECT_NE(refused({{"status", "answered"}, {"cursor", text}}).find("other filters"), std::string::npos);
  EXPECT_NE(refused({{"cursor", text}}).find("other filters"), std::string::npos);
}

TEST(CallQuery, FingerprintSeparatesFields) {
  call_list_query a, b;
  a.direction = "inbound";
  b.status = "inbound";
  EXPECT_NE(filters_fingerprint(a), filters_fingerprint(b));
  call_list_query c, d;
  c.user_id = "";
  EXPECT_NE(filters_fingerprint(c), filters_fingerprint(d));  // present-but-empty is not absent
}

}  // namespace
}  // namespace kazoo_bridge::api
