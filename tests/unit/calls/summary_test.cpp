// The `summary` sentence (design.md example) and the deterministic ids.

#include "harness.hpp"

namespace kazoo_bridge::calls::test {
namespace {

nlohmann::json payload(const char* type) {
  return {{"type", type},          {"direction", "inbound"},   {"from_number", "+15551234567"},
          {"from_name", "Jane Roe"}, {"to_number", "101"},       {"to_name", "John Doe"},
          {"user_name", "John Doe"}, {"extension", "101"},       {"duration_s", 66},
          {"hangup_cause", "NORMAL_CLEARING"}, {"park_slot", "101"}, {"origin", nullptr}, {"end_detail", nullptr}};
}

TEST(Summary, MatchesTheDesignExample) {
  EXPECT_EQ(summary_for(payload("call.answered")),
            "Inbound call from +1 555 123 4567 (Jane Roe) answered by John Doe (ext 101)");
}

TEST(Summary, OneSentencePerType) {
  const std::vector<std::pair<const char*, const char*>> table = {
      {"call.started", "Inbound call from +1 555 123 4567 (Jane Roe) to 101 (John Doe)"},
      {"call.ringing", "Inbound call from +1 555 123 4567 (Jane Roe) ringing John Doe (ext 101)"},
      {"call.held", "Inbound call from +1 555 123 4567 (Jane Roe) put on hold"},
      {"call.unheld", "Inbound call from +1 555 123 4567 (Jane Roe) taken off hold"},
      {"call.transferred", "Inbound call from +1 555 123 4567 (Jane Roe) transferred to John Doe (ext 101)"},
      {"call.parked", "Inbound call from +1 555 123 4567 (Jane Roe) parked in slot 101"},
      {"call.retrieved", "Inbound call from +1 555 123 4567 (Jane Roe) retrieved from slot 101 by John Doe (ext 101)"},
      {"call.queue.entered", "Inbound call from +1 555 123 4567 (Jane Roe) entered a queue"},
      {"call.ended", "Inbound call from +1 555 123 4567 (Jane Roe) ended after 1 min 6 s (NORMAL_CLEARING)"},
      {"call.missed", "Missed call: Inbound call from +1 555 123 4567 (Jane Roe) to John Doe (ext 101)"},
  };
  for (const auto& [type, want] : table) {
    EXPECT_EQ(summary_for(payload(type)), want) << type;
  }

  auto out = payload("call.answered");
  out["direction"] = "outbound";
  out["from_number"] = "1001";
  out["from_name"] = "Alice Smith";
  out["to_number"] = "+15551234567";
  out["to_name"] = nullptr;
  // The user of an outbound call is the caller: it is the far end that rings and answers.
  EXPECT_EQ(summary_for(out), "Outbound call from Alice Smith (ext 1001) to +1 555 123 4567 answered");
  out["type"] = "call.ringing";
  EXPECT_EQ(summary_for(out), "Outbound call from Alice Smith (ext 1001) to +1 555 123 4567 ringing");
  out["type"] = "call.answered";
  out["origin"] = "click_to_call";
  EXPECT_EQ(summary_for(out).rfind("Click-to-call from Alice Smith (ext 1001) to +1 555 123 4567", 0), 0U);
  auto stale = payload("call.ended");
  stale["end_detail"] = "closed after 4 hours without a hang-up";
  EXPECT_EQ(summary_for(stale), "Inbound call from +1 555 123 4567 (Jane Roe) closed after 4 hours without a hang-up");
  EXPECT_EQ(summary_for(nlohmann::json::array()), "");
}

TEST(Summary, PrettyNumbers) {
  EXPECT_EQ(pretty_number("+15551234567"), "+1 555 123 4567");
  EXPECT_EQ(pretty_number("+442071234567"), "+442071234567");
  EXPECT_EQ(pretty_number("1001"), "1001");
}

TEST(EventId, DeterministicAndDistinct) {
  const auto a = make_event_id(acme, "call-1", "call.started", "");
  EXPECT_EQ(a, make_event_id(acme, "call-1", "call.started", ""));
  EXPECT_EQ(a.size(), 30U);
  EXPECT_TRUE(a.starts_with("evt_"));
  for (char c : a.substr(4)) {
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << a;
  }
  EXPECT_NE(a, make_event_id(globex, "call-1", "call.started", ""));
  EXPECT_NE(a, make_event_id(acme, "call-2", "call.started", ""));
  EXPECT_NE(a, make_event_id(acme, "call-1", "call.ended", ""));
  EXPECT_NE(make_event_id(acme, "call-1", "call.ringing", "leg-1"), make_event_id(acme, "call-1", "call.ringing", "leg-2"));
}

TEST(EventId, SameEventsGiveSameIdsAcrossTrackers) {
  harness one, two;
  one.feed_all(play("blind_transfer", 5));
  two.feed_all(play("blind_transfer", 5));
  ASSERT_EQ(one.events.size(), two.events.size());
  for (std::size_t k = 0; k < one.events.size(); ++k) {
    EXPECT_EQ(one.events[k].id, two.events[k].id);
  }
  harness other;
  other.feed_all(play("blind_transfer", 6));
  EXPECT_NE(one.events.front().id, other.events.front().id);
}

}  // namespace
}  // namespace kazoo_bridge::calls::test
