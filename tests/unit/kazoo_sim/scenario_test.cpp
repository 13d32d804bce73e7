// The scenario library produces what Kazoo would put on the blackhole WebSocket (reference/kazoo.md §2).

#include <kazoo_sim/scenario.hpp>

#include <gtest/gtest.h>

#include <set>

namespace {

using kazoo_sim::flavour;

const std::string acme = "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d";
const std::string globex = "1b2c3d4e5f60718293a4b5c6d7e8f901";

const kazoo_sim::fixture& fixture() {
  static const auto f = kazoo_sim::load_fixture(KAZOO_SIM_DEFAULT_FIXTURE).value();
  return f;
}
const std::vector<kazoo_sim::scenario>& scenarios() {
  static const auto s = kazoo_sim::load_scenarios(KAZOO_SIM_DEFAULT_SCENARIOS_DIR).value();
  return s;
}
const kazoo_sim::scenario& by_name(const std::string& name) {
  for (const auto& s : scenarios()) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no scenario " + name);
}

// Shape check without <regex> (GCC 12 + ASan report false maybe-uninitialized warnings in it):
// 'h' in `shape` matches one lower-case hex digit, every other char itself.
bool shaped(const std::string& s, const std::string& shape) {
  if (s.size() != shape.size()) return false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const char c = s[k];
    if (shape[k] == 'h') {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    } else if (shape[k] != c) {
      return false;
    }
  }
  return true;
}
std::string hex(std::size_t n) { return std::string(n, 'h'); }

kazoo_sim::instance inst(std::uint64_t seed, flavour fl = flavour::kz43, std::string account = acme) {
  kazoo_sim::instance i;
  i.account_id = std::move(account);
  i.seed = seed;
  i.start_unix_ms = 1718000000000;  // 2024-06-10T06:13:20Z, Gregorian 63885219200 (§2.6)
  i.flavour_ = fl;
  return i;
}

TEST(Fixture, LoadsBothAccountsWithUsersAndDevices) {
  const auto& f = fixture();
  ASSERT_EQ(f.accounts.size(), 2U);
  const auto* a = f.find_account(acme);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "acme");
  EXPECT_EQ(a->realm, "acme.sip.example.net");
  EXPECT_EQ(a->api_key.size(), 64U);
  const auto* alice = a->find_user("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->extension, "1001");
  EXPECT_EQ(alice->priv_level, "admin");
  EXPECT_FALSE(alice->password.empty());
  const auto* dave = a->find_user("dave");
  ASSERT_NE(dave, nullptr);
  EXPECT_TRUE(dave->acdc_agent);
  const auto* bob_phone = a->first_device_of(a->find_user("bob")->id);
  ASSERT_NE(bob_phone, nullptr);
  EXPECT_EQ(bob_phone->sip_username, "user_bob02");
  ASSERT_NE(f.find_account(globex), nullptr);
  EXPECT_EQ(f.find_account(globex)->users.size(), 1U);
  EXPECT_EQ(f.find_account_by_name("globex"), f.find_account(globex));
  EXPECT_EQ(f.find_account_by_api_key(a->api_key), a);
  EXPECT_EQ(f.find_account("nope"), nullptr);
}

TEST(Fixture, MissingFileIsAnError) {
  EXPECT_FALSE(kazoo_sim::load_fixture("/nonexistent/account.json"));
  EXPECT_FALSE(kazoo_sim::load_scenario("/nonexistent/x.json"));
}

TEST(Scenarios, AllTwelveLoadSortedByName) {
  std::vector<std::string> names;
  for (const auto& s : scenarios()) {
    names.push_back(s.name);
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_TRUE(s.doc.contains("expect")) << s.name;
    EXPECT_TRUE(s.doc.contains("expect_call")) << s.name;
  }
  const std::vector<std::string> want = {
      "acdc_queue_answered", "blind_transfer", "click_to_call", "hold_unhold", "inbound_answered",
      "inbound_missed_voicemail", "internal", "outbound_pstn", "park_abandoned", "park_retrieve",
      "quickcall", "ring_group_lose_race"};
  EXPECT_EQ(names, want);
}

TEST(Expand, EveryPlaceholderResolvesInEveryScenarioAndFlavour) {
  for (const auto& s : scenarios()) {
    for (auto fl : {flavour::kz43, flavour::kzm}) {
      auto events = kazoo_sim::expand(s, fixture(), inst(7, fl));
      ASSERT_EQ(events.size(), s.doc["events"].size()) << s.name;
      for (const auto& e : events) {
        const auto text = e.data.dump();
        EXPECT_EQ(text.find("${"), std::string::npos) << s.name << " " << e.name << " " << text;
        EXPECT_EQ(e.call_id.find('{'), std::string::npos) << s.name << " " << e.call_id;
        EXPECT_EQ(e.data["call_id"], e.call_id);
        EXPECT_EQ(e.data["event_name"], e.name);
        EXPECT_EQ(e.account_id, acme);
        EXPECT_EQ(text.find("null"), std::string::npos) << "Kazoo drops undefined values: " << text;
      }
    }
  }
}

TEST(Expand, EventsAreSortedAndStartAtTheInstanceTime) {
  auto events = kazoo_sim::expand(by_name("park_retrieve"), fixture(), inst(1));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().at_unix_ms, 1718000000000);
  for (std::size_t k = 1; k < events.size(); ++k) EXPECT_LE(events[k - 1].at_unix_ms, events[k].at_unix_ms);
}

TEST(Expand, TwoSeedsGiveDisjointCallIdsAndOneSeedIsReproducible) {
  for (const auto& s : scenarios()) {
    std::set<std::string> one, two, again;
    for (const auto& e : kazoo_sim::expand(s, fixture(), inst(1))) one.insert(e.call_id);
    for (const auto& e : kazoo_sim::expand(s, fixture(), inst(2))) two.insert(e.call_id);
    for (const auto& e : kazoo_sim::expand(s, fixture(), inst(1))) again.insert(e.call_id);
    for (const auto& id : one) EXPECT_FALSE(two.contains(id)) << s.name << " " << id;
    EXPECT_EQ(one, again) << s.name;
  }
}

TEST(Expand, CallIdShapesFollowKazoo) {
  auto first_of = [](const std::string& scenario, const std::string& leg) {
    for (const auto& e : kazoo_sim::expand(by_name(scenario), fixture(), inst(3))) {
      if (e.leg == leg) return e.call_id;
    }
    return std::string{};
  };
  const std::string uuid = "hhhhhhhh-hhhh-4hhh-hhhh-hhhhhhhhhhhh";
  EXPECT_TRUE(shaped(first_of("internal", "A"), hex(14) + "@10.10.1.20")) << first_of("internal", "A");
  EXPECT_TRUE(shaped(first_of("internal", "B"), uuid)) << first_of("internal", "B");
  EXPECT_TRUE(shaped(first_of("quickcall", "Q"), uuid + "-quickcall"));
  EXPECT_TRUE(shaped(first_of("click_to_call", "L1"), "c2c-e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8-" + hex(10)));
  // ACDc agent leg: {md5(member call id)}-{agent id}-{8hex} (§2.5); md5 of the A-leg Call-ID.
  const auto agent = first_of("acdc_queue_answered", "G");
  EXPECT_TRUE(shaped(agent, hex(32) + "-8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a-" + hex(8))) << agent;
}

TEST(Expand, FlavoursDifferAsDocumented) {
  const auto& s = by_name("internal");
  auto kz43 = kazoo_sim::expand(s, fixture(), inst(5, flavour::kz43));
  auto kzm = kazoo_sim::expand(s, fixture(), inst(5, flavour::kzm));
  ASSERT_EQ(kz43.size(), kzm.size());
  for (std::size_t k = 0; k < kz43.size(); ++k) {
    EXPECT_EQ(kz43[k].data["app_name"], "ecallmgr");
    EXPECT_EQ(kz43[k].data["app_version"], "4.0.0");
    EXPECT_EQ(kzm[k].data["app_name"], "freeswitch");
    EXPECT_EQ(kzm[k].data["app_version"], "1.0");
    EXPECT_EQ(kz43[k].call_id, kzm[k].call_id) << "same seed, same Call-IDs";
    // KZM Timestamp = ceil(µs / 1e6) + Gregorian epoch; ecallmgr truncates (events at .5 s differ).
    EXPECT_GE(kzm[k].data["timestamp"].get<std::int64_t>(), kz43[k].data["timestamp"].get<std::int64_t>());
  }
  // 2024-06-10T06:13:20Z is Gregorian 63885219200 (§2.6).
  EXPECT_EQ(kz43.front().data["timestamp"], 63885219200);
  EXPECT_EQ(kz43.front().data["channel_created_time"].get<std::int64_t>() / 1000000, 1718000000);
  const auto& create_kzm = kzm.front().data;
  EXPECT_EQ(create_kzm["caller_destination_number"], "1002");
  EXPECT_FALSE(kz43.front().data.contains("caller_destination_number"));
  const auto& destroy_kzm = kzm[kzm.size() - 2].data;  // the A-leg DESTROY (routed CCVs)
  EXPECT_EQ(destroy_kzm["event_name"], "CHANNEL_DESTROY");
  EXPECT_EQ(destroy_kzm["custom_channel_vars"]["call_interaction_is_root"], true);
  EXPECT_EQ(destroy_kzm["custom_channel_vars"]["privacy_hide_name"], false);
  EXPECT_FALSE(kz43[kz43.size() - 2].data["custom_channel_vars"].contains("call_interaction_is_root"));

  // Recordings: CCV on 4.3, top-level array on mod_kazoo.
  const auto& out = by_name("outbound_pstn");
  auto last43 = kazoo_sim::expand(out, fixture(), inst(5, flavour::kz43)).back().data;
  auto lastm = kazoo_sim::expand(out, fixture(), inst(5, flavour::kzm)).back().data;
  EXPECT_TRUE(last43["custom_channel_vars"]["media_recordings"].is_array());
  EXPECT_FALSE(last43.contains("media_recordings"));
  EXPECT_TRUE(lastm["media_recordings"].is_array());
}

TEST(Expand, DurationsAreIntegersOrLegacyStrings) {
  const auto& s = by_name("inbound_answered");
  auto now = kazoo_sim::expand(s, fixture(), inst(5));
  auto i = inst(5);
  i.legacy_string_durations = true;
  auto old = kazoo_sim::expand(s, fixture(), i);
  const auto& a_destroy = now[5].data;
  ASSERT_EQ(a_destroy["event_name"], "CHANNEL_DESTROY");
  EXPECT_EQ(a_destroy["duration_seconds"], 66);
  EXPECT_EQ(a_destroy["billing_seconds"], 60);
  EXPECT_EQ(old[5].data["duration_seconds"], "66");
  EXPECT_EQ(old[5].data["billing_seconds"], "60");
  EXPECT_EQ(old[5].data["ringing_seconds"], "6");
}

TEST(Expand, ParkEventsHaveNoTimestampAndAStringSlot) {
  int parks = 0;
  for (const auto& name : {"park_retrieve", "park_abandoned"}) {
    for (auto fl : {flavour::kz43, flavour::kzm}) {
      for (const auto& e : kazoo_sim::expand(by_name(name), fixture(), inst(9, fl))) {
        if (!e.name.starts_with("PARK_")) continue;
        ++parks;
        EXPECT_FALSE(e.data.contains("timestamp")) << e.data.dump();
        EXPECT_FALSE(e.data.contains("call_direction"));
        EXPECT_FALSE(e.data.contains("channel_created_time"));
        EXPECT_TRUE(e.data["parking_slot"].is_string());
        EXPECT_EQ(e.data["app_name"], "callflow");
        EXPECT_TRUE(shaped(e.data["msg_id"].get<std::string>(), hex(32)));
      }
    }
  }
  EXPECT_EQ(parks, 2 * (3 + 2));
}

TEST(Expand, CarrierCreateHasNoCcvsButTheAccountComesFromTheDid) {
  auto events = kazoo_sim::expand(by_name("inbound_answered"), fixture(), inst(4));
  EXPECT_FALSE(events.front().data.contains("custom_channel_vars"));
  EXPECT_EQ(events.front().account_id, acme);
}

TEST(Expand, VarsRenameUsersSoAnotherAccountCanPlayAScenario) {
  auto i = inst(4, flavour::kz43, globex);
  i.vars = {{"bob", "gina"}};
  auto events = kazoo_sim::expand(by_name("inbound_answered"), fixture(), i);
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) {
    EXPECT_EQ(e.data.dump().find("${"), std::string::npos) << e.data.dump();
    EXPECT_EQ(e.account_id, globex);
  }
  EXPECT_EQ(events[1].data["custom_channel_vars"]["owner_id"], "0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7");
}

TEST(Expand, UnknownAccountGivesNothing) {
  EXPECT_TRUE(kazoo_sim::expand(by_name("internal"), fixture(), inst(1, flavour::kz43, "nope")).empty());
}

TEST(RoutingKey, EncodesTheCallIdLikeKzAmqpUtil) {
  EXPECT_EQ(kazoo_sim::encode_call_id("a84b4c76e66710@10.10.1.20"), "a84b4c76e66710%4010%2E10%2E1%2E20");
  EXPECT_EQ(kazoo_sim::encode_call_id("a b~c_d-e"), "a+b~c_d-e");
  kazoo_sim::timed_event e;
  e.account_id = acme;
  e.name = "CHANNEL_CREATE";
  e.call_id = "x@y";
  EXPECT_EQ(kazoo_sim::routing_key(e), "call." + acme + ".CHANNEL_CREATE.x%40y");
}

}  // namespace
