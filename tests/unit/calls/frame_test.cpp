// parse_frame on the real envelope and on everything a broken or hostile peer may send (§1.3, §1.4).

#include "harness.hpp"

namespace kazoo_bridge::calls::test {
namespace {

struct bad_case {
  const char* label;
  std::string text;
  const char* reason_contains;
};

TEST(ParseFrame, RejectsMalformedInputWithAReason) {
  const std::string garbage{"\x00\xff\xfe{\x01\x80", 6};
  const std::vector<bad_case> cases = {
      {"invalid JSON", R"({"action":"event",)", "invalid JSON"},
      {"binary garbage", garbage, "invalid JSON"},
      {"invalid UTF-8 in a string", "{\"action\":\"event\",\"name\":\"\xff\"}", "invalid JSON"},
      {"array", R"([{"action":"event"}])", "not a JSON object"},
      {"string", R"("hello")", "not a JSON object"},
      {"empty", "", "invalid JSON"},
      {"missing data", R"({"action":"event","name":"CHANNEL_CREATE"})", "without data"},
      {"empty data", R"({"action":"event","name":"CHANNEL_CREATE","data":{}})", "without data"},
      {"data not an object", R"({"action":"event","name":"CHANNEL_CREATE","data":[1]})", "without data"},
      {"unknown event name", R"({"action":"event","name":"CHANNEL_FOO","data":{"call_id":"x"}})",
       "unknown event name CHANNEL_FOO"},
      {"no call_id", R"({"action":"event","name":"CHANNEL_CREATE","data":{"msg_id":"1"}})", "without call_id"},
      {"old name/args envelope", R"({"name":"CHANNEL_CREATE","args":{"Call-ID":"x"}})", "missing action"},
      {"unknown action", R"({"action":"subscribe","data":{}})", "unknown action"},
  };
  for (const auto& c : cases) {
    std::string reason;
    auto f = parse_frame(c.text, &reason);
    EXPECT_FALSE(f) << c.label;
    if (!f) {
      EXPECT_EQ(f.error(), make_error_code(errc::bad_payload)) << c.label;
    }
    EXPECT_NE(reason.find(c.reason_contains), std::string::npos) << c.label << ": " << reason;
    EXPECT_FALSE(parse_frame(c.text)) << c.label << " (without reason)";
  }
}

TEST(ParseFrame, ParsesTheRealEventEnvelope) {
  // §2.6.2, abridged.
  const std::string text = R"({"action":"event","subscribed_key":"call.*.*",
    "subscription_key":"call.8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d.CHANNEL_CREATE.*","name":"CHANNEL_CREATE",
    "routing_key":"call.8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d.CHANNEL_CREATE.a84b4c76e66710%4010%2E10%2E1%2E20",
    "data":{"app_name":"ecallmgr","event_name":"CHANNEL_CREATE","call_id":"a84b4c76e66710@10.10.1.20",
            "msg_id":"1718000000412233","timestamp":63885219200}})";
  auto f = parse_frame(text);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, frame_kind::event);
  EXPECT_EQ(f->name, "CHANNEL_CREATE");
  EXPECT_EQ(f->subscribed_key, "call.*.*");
  EXPECT_EQ(f->account_id, acme);
  EXPECT_EQ(f->data["call_id"], "a84b4c76e66710@10.10.1.20");
}

TEST(ParseFrame, KeepsDataExactlyAsReceivedForRaw) {
  // design.md: `raw` is "the Kazoo event(s) behind this one, as received": the very bytes, including
  // members the tracker does not read and escapes it would render differently.
  const std::string data = R"({"app_name":"ecallmgr", "event_name":"CHANNEL_ANSWER","call_id":"leg-1",)"
                           R"("caller_id_name":"Ren\u00e9e","custom_channel_vars":{"account_id":"a1","x":"y"},)"
                           R"("switch_hostname":"fs1.example.net","msg_id":"1718000000412233"})";
  const std::string text = R"({"action":"event","subscribed_key":"call.*.*","name":"CHANNEL_ANSWER",)"
                           R"("routing_key":"call.a1.CHANNEL_ANSWER.leg-1","data":)" + data + "}";
  auto f = parse_frame(text);
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->data_text);
  EXPECT_EQ(*f->data_text, data);
  // What the tracker reads is decoded; the rest stays in the text only.
  EXPECT_EQ(f->data["caller_id_name"], "Ren\u00e9e");
  EXPECT_EQ(f->data["custom_channel_vars"]["x"], "y") << "CCVs are kept whole";
  EXPECT_FALSE(f->data.contains("switch_hostname"));
  lifecycle_event e;
  e.payload = {{"id", "evt_1"}, {"type", "call.answered"}};
  e.raw = f->data_text;
  const auto payload = nlohmann::json::parse(payload_text(e));
  EXPECT_EQ(payload["raw"], nlohmann::json::parse(data));
  EXPECT_EQ(payload["id"], "evt_1");
  EXPECT_NE(payload_text(e).find(data), std::string::npos) << "raw is spliced byte for byte";
  e.raw = nullptr;
  EXPECT_TRUE(nlohmann::json::parse(payload_text(e))["raw"].is_null());
}

TEST(ParseFrame, AccountFallsBackToTheSubscriptionKey) {
  auto f = parse_frame(R"({"action":"event","subscription_key":"call.)" + acme +
                       R"(.PARK_PARKED.*","name":"PARK_PARKED","data":{"call_id":"x","parking_slot":"101"}})");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->account_id, acme);
}

TEST(ParseFrame, RepliesComeBackAsReplies) {
  auto ok = parse_frame(R"({"action":"reply","request_id":"r-1","status":"success","data":{"subscribed":["call.*.*"]}})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->kind, frame_kind::reply);
  EXPECT_EQ(ok->request_id, "r-1");
  EXPECT_EQ(ok->status, "success");
  EXPECT_EQ(ok->data["subscribed"][0], "call.*.*");
  auto err = parse_frame(
      R"({"action":"reply","request_id":"r-9","status":"error","data":{"errors":["failed to authenticate token x"]}})");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, "error");
  auto pong = parse_frame(R"({"action":"reply","request_id":"r-3","status":"success","data":{}})");
  ASSERT_TRUE(pong);
  EXPECT_TRUE(pong->data.empty());
  // A reply fed to the tracker is ignored.
  tracker t;
  tracker_output out;
  t.on_event(*ok, t0, out);
  EXPECT_TRUE(out.events.empty());
}

TEST(ParseFrame, EveryScenarioFrameParses) {
  for (const auto& s : scenarios()) {
    for (const auto& e : play(s.name, 3)) {
      auto f = parse_frame(envelope(e));
      ASSERT_TRUE(f) << s.name << " " << e.name;
      EXPECT_EQ(f->name, e.name);
      EXPECT_EQ(f->account_id, acme);
    }
  }
}

}  // namespace
}  // namespace kazoo_bridge::calls::test
