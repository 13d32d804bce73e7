#include <kazoo_bridge/api/hook_routes.hpp>

#include <gtest/gtest.h>

namespace kazoo_bridge::api {
namespace {

using json = nlohmann::json;

TEST(HookSpec, AcceptsEveryAliasAndDefaults) {
  for (const char* key : {"target_url", "targetUrl", "url", "hookUrl"}) {
    auto r = parse_hook_spec({{key, "https://hooks.zapier.com/x"}, {"event", "call.missed"}}, false);
    ASSERT_TRUE(r.spec) << key << ": " << r.description;
    EXPECT_EQ(r.spec->target_url, "https://hooks.zapier.com/x");
    EXPECT_EQ(r.spec->scope, "user");
    EXPECT_FALSE(r.spec->filters.direction);
    EXPECT_TRUE(r.spec->filters.include_internal);
  }
  auto same = parse_hook_spec({{"url", "https://a.example.com/"}, {"hookUrl", "https://a.example.com/"},
                               {"event", "*"}}, false);
  EXPECT_TRUE(same.spec) << "the same URL under two aliases is fine";
}

TEST(HookSpec, FiltersParsedAndRefused) {
  auto r = parse_hook_spec({{"target_url", "https://a.example.com/"},
                            {"event", "*"},
                            {"scope", "account"},
                            {"filters", {{"direction", "inbound"}, {"user_id", "u1"}, {"include_internal", false}}}},
                           false);
  ASSERT_TRUE(r.spec) << r.description;
  EXPECT_EQ(r.spec->filters.direction, "inbound");
  EXPECT_EQ(r.spec->filters.user_id, "u1");
  EXPECT_FALSE(r.spec->filters.include_internal);
  auto bad = parse_hook_spec({{"target_url", "https://a.example.com/"}, {"event", "*"}, {"filters", {{"type", 1}}}},
                             false);
  EXPECT_FALSE(bad.spec);
  EXPECT_EQ(bad.error, "invalid_request");
  EXPECT_NE(bad.description.find("unknown filter \"type\""), std::string::npos) << bad.description;
  auto none = parse_hook_spec({{"target_url", "https://a.example.com/"}, {"event", "*"},
                               {"filters", {{"direction", "internal"}, {"include_internal", false}}}},
                              false);
  EXPECT_FALSE(none.spec) << "a filter that can never match is refused";
}

TEST(HookSpec, TargetTable) {
  struct row {
    const char* url;
    bool ok_public, ok_private;
  };
  const row rows[] = {
      {"https://hooks.zapier.com/hooks/standard/1/2/", true, true},
      {"http://crm.example.com:8080/in", true, true},
      {"https://8.8.8.8/x", true, true},
      {"wss://hooks.example.com/", false, false},
      {"ftp://hooks.example.com/", false, false},
      {"https://user:pw@hooks.example.com/", false, false},
      {"/relative", false, false},
      {"", false, false},
      {"http://127.0.0.1:9000/x", false, true},
      {"http://localhost/x", false, true},
      {"http://app.localhost/x", false, true},
      {"http://10.0.0.1/", false, true},
      {"http://172.16.5.4/", false, true},
      {"http://172.32.0.1/", true, true},
      {"http://192.168.1.1/", false, true},
      {"http://169.254.169.254/", false, true},
      {"http://100.64.0.1/", false, true},
      {"http://0.0.0.0/", false, true},
      {"http://[::1]/", false, true},
      {"http://[fd00::1]/", false, true},
      {"http://[fe80::1]/", false, true},
      {"http://[::ffff:127.0.0.1]/", false, true},
      {"http://[2001:db8::1]/", true, true},
      {"http://224.0.0.1/", false, true},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(target_problem(r.url, false).empty(), r.ok_public) << r.url << ": " << target_problem(r.url, false);
    EXPECT_EQ(target_problem(r.url, true).empty(), r.ok_private) << r.url;
  }
  EXPECT_FALSE(target_problem("https://a.example.com/" + std::string(2100, 'a'), false).empty());
}

TEST(HookSpec, FiltersColumnRoundTripAndSubscription) {
  delivery::subscription_filters f;
  f.direction = "outbound";
  f.include_internal = false;
  const auto text = filters_text(f);
  EXPECT_EQ(json::parse(text), (json{{"direction", "outbound"}, {"user_id", nullptr}, {"include_internal", false}}));
  auto back = filters_from_text(text);
  EXPECT_EQ(back.direction, "outbound");
  EXPECT_FALSE(back.user_id);
  EXPECT_FALSE(back.include_internal);
  EXPECT_TRUE(filters_from_text("not json").include_internal);

  store::hook_row h;
  h.id = "hook_1";
  h.account_id = "acc";
  h.user_id = "u";
  h.event = "call.missed";
  h.scope = "user";
  h.filters = text;
  h.status = "disabled";
  h.secret = "whsec_x";
  auto s = subscription_of(h);
  EXPECT_EQ(s.id, "hook_1");
  EXPECT_FALSE(s.active);
  EXPECT_EQ(s.filters.direction, "outbound");
  auto j = hook_json(h);
  EXPECT_FALSE(j.contains("secret"));
  EXPECT_EQ(j["filters"]["direction"], "outbound");
}

TEST(HookSpec, ExampleEventsCarryEveryKeyForEveryType) {
  caller c;
  c.account_id = "acc";
  c.user_id = "u1";
  c.user_name = "Bob Jones";
  c.extensions = {"1002"};
  for (auto type : calls::event_types) {
    auto e = example_event(type, c);
    EXPECT_EQ(e["type"], type);
    EXPECT_EQ(e["example"], true);
    EXPECT_TRUE(e["id"].get<std::string>().starts_with("evt_example_"));
    EXPECT_TRUE(e["summary"].get<std::string>().starts_with("Example: ")) << e["summary"];
    EXPECT_GT(e["summary"].get<std::string>().size(), 12U);
    for (const char* key : {"occurred_at", "account_id", "call_id", "direction", "from_number", "from_name",
                            "to_number", "to_name", "user_id", "user_name", "extension", "started_at",
                            "answered_at", "ended_at", "duration_s", "talk_s", "hangup_cause", "recording_url",
                            "park_slot", "queue_id", "raw", "click_to_call", "origin", "end_reason", "from_user_id"}) {
      EXPECT_TRUE(e.contains(key)) << type << " " << key;
    }
  }
  EXPECT_EQ(example_event("*", c)["type"], "call.missed");
  EXPECT_FALSE(example_event("call.parked", c)["park_slot"].is_null());
  EXPECT_FALSE(example_event("call.ended", c)["duration_s"].is_null());
}

}  // namespace
}  // namespace kazoo_bridge::api
