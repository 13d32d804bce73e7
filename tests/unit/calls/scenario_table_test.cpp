// Every scenario file x every flavour: the tracker must produce exactly the scenario's `expect` sequence and
// final `expect_call`, also when frames arrive shuffled within 1 s windows, twice, or across a restart.

#include "harness.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace kazoo_bridge::calls::test {
namespace {

using kazoo_sim::flavour;

struct variant {
  flavour fl;
  bool legacy;
  const char* label;
};
const variant variants[] = {{flavour::kz43, false, "kz43"}, {flavour::kzm, false, "kzm"},
                            {flavour::kz43, true, "kz43_legacy_durations"}, {flavour::kzm, true, "kzm_legacy_durations"}};

struct param {
  std::string scenario;
  variant v;
};

std::vector<param> all_params() {
  std::vector<param> out;
  for (const auto& s : scenarios()) {
    for (const auto& v : variants) out.push_back({s.name, v});
  }
  return out;
}

const char* payload_keys[] = {"id", "type", "occurred_at", "account_id", "call_id", "direction", "from_number",
                              "from_name", "to_number", "to_name", "user_id", "user_name", "extension", "started_at",
                              "answered_at", "ended_at", "duration_s", "talk_s", "hangup_cause", "recording_url",
                              "park_slot", "queue_id", "summary", "raw", "click_to_call", "origin"};

void check_payloads(const harness& h) {
  std::set<std::string> ids;
  for (const auto& e : h.events) {
    for (const char* k : payload_keys) {
      EXPECT_TRUE(e.payload.contains(k)) << e.type << " lacks " << k;
    }
    EXPECT_EQ(e.payload["id"], e.id);
    EXPECT_EQ(e.payload["type"], e.type);
    EXPECT_TRUE(e.id.starts_with("evt_") && e.id.size() == 30) << e.id;
    EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id << " for " << e.type;
    EXPECT_TRUE(e.payload["summary"].is_string() && !e.payload["summary"].get<std::string>().empty());
    EXPECT_TRUE(e.payload["raw"].is_object()) << e.type << ": raw = the Kazoo event behind it";
    EXPECT_EQ(e.account_id, acme);
  }
}

std::string dump_types(const harness& h) {
  std::string s;
  for (const auto& e : h.events) {
    s += e.type;
    if (!e.payload["user_name"].is_null()) s += "(" + e.payload["user_name"].get<std::string>() + ")";
    s += " ";
  }
  return s;
}

void check_expect_sequence(const harness& h, const kazoo_sim::scenario& s) {
  const auto& expect = s.doc["expect"];
  ASSERT_EQ(h.events.size(), expect.size()) << dump_types(h);
  for (std::size_t k = 0; k < expect.size(); ++k) {
    const auto& want = expect[k];
    const auto& got = h.events[k].payload;
    EXPECT_EQ(got["type"], want["type"]) << "#" << k << ": " << dump_types(h);
    if (want.contains("user")) {
      EXPECT_EQ(got["user_id"], user_id(acme, want["user"].get<std::string>())) << "#" << k << " " << dump_types(h);
    }
    for (const char* key : {"park_slot", "hangup_cause", "end_reason"}) {
      if (want.contains(key)) {
        EXPECT_EQ(got[key], want[key]) << "#" << k << " " << key;
      }
    }
    if (want.contains("recording")) {
      EXPECT_FALSE(got["recording_url"].is_null());
    }
  }
}

void check_expect_call(const harness& h, const kazoo_sim::scenario& s) {
  ASSERT_FALSE(h.events.empty());
  const auto* r = h.last_record(h.events.front().call_id);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, "ended");
  EXPECT_TRUE(r->ended_at_ms.has_value());
  const auto& want = s.doc["expect_call"];
  EXPECT_EQ(r->direction, want["direction"]);
  EXPECT_EQ(r->answered, want["answered"].get<bool>());
  // The record's snapshot is rendered as text without a DOM: it must be exactly the compact dump of
  // itself (keys sorted, nothing else) and name every key an event payload has, minus the event's own (id, type, occurred_at, summary, raw).
  const auto snapshot = nlohmann::json::parse(r->snapshot);
  EXPECT_EQ(r->snapshot, snapshot.dump());
  std::vector<std::string> record_keys, event_keys;
  for (const auto& [k, v] : snapshot.items()) record_keys.push_back(k);
  for (const auto& [k, v] : h.events.front().payload.items()) {
    if (k != "id" && k != "type" && k != "occurred_at" && k != "summary" && k != "raw") event_keys.push_back(k);
  }
  EXPECT_EQ(record_keys, event_keys);
  EXPECT_EQ(snapshot["direction"], want["direction"]);
  EXPECT_EQ(snapshot["click_to_call"], want["click_to_call"]);
  EXPECT_EQ(snapshot["origin"], want["origin"]);
  if (want.contains("user")) {
    EXPECT_EQ(r->user_id.value_or(""), user_id(acme, want["user"].get<std::string>()));
  }
  for (const char* key : {"from_number", "to_number", "hangup_cause", "duration_s", "talk_s"}) {
    if (want.contains(key)) {
      EXPECT_EQ(snapshot[key], want[key]) << key;
    }
  }
  // The ended event carries the same final numbers.
  const auto& ended = *std::find_if(h.events.begin(), h.events.end(),
                                    [](const lifecycle_event& e) { return e.type == "call.ended"; });
  EXPECT_FALSE(ended.payload["ended_at"].is_null());
  EXPECT_TRUE(ended.payload["duration_s"].is_number_integer());
}

class ScenarioTable : public ::testing::TestWithParam<param> {};

TEST_P(ScenarioTable, ProducesTheExpectedSequence) {
  const auto& p = GetParam();
  harness h;
  h.feed_all(play(p.scenario, 11, p.v.fl, p.v.legacy));
  check_expect_sequence(h, scenario(p.scenario));
  check_expect_call(h, scenario(p.scenario));
  check_payloads(h);
  EXPECT_EQ(h.t.active_calls(), 0U);
}

TEST_P(ScenarioTable, EveryFrameTwiceChangesNothing) {
  const auto& p = GetParam();
  harness h;
  for (const auto& e : play(p.scenario, 12, p.v.fl, p.v.legacy)) {
    // Two bindings matching one event (call.*.* and call.NAME.*) deliver it twice (§1.4).
    h.feed_text(envelope(e, "call.*.*"), e.at_unix_ms);
    h.feed_text(envelope(e, "call." + e.name + ".*"), e.at_unix_ms);
  }
  check_expect_sequence(h, scenario(p.scenario));
  check_expect_call(h, scenario(p.scenario));
}

TEST_P(ScenarioTable, ShuffledWithinOneSecondWindowsKeepsTheSameFacts) {
  const auto& p = GetParam();
  for (std::uint32_t round = 0; round < 6; ++round) {
    auto evs = play(p.scenario, 13 + round, p.v.fl, p.v.legacy);
    std::mt19937 rng(round * 7919U + 1U);
    auto begin = evs.begin();
    while (begin != evs.end()) {
      const auto window = (begin->at_unix_ms - t0) / 1000;
      auto end = std::find_if(begin, evs.end(), [&](const auto& e) { return (e.at_unix_ms - t0) / 1000 != window; });
      std::shuffle(begin, end, rng);
      begin = end;
    }
    harness h;
    for (const auto& e : evs) h.feed(e);
    const auto& expect = scenario(p.scenario).doc["expect"];
    std::multiset<std::string> want, got;
    for (const auto& w : expect) {
      want.insert(w["type"].get<std::string>() + "/" +
                  (w.contains("user") ? user_id(acme, w["user"].get<std::string>()) : std::string{"*"}));
    }
    for (const auto& e : h.events) {
      const bool pinned = std::any_of(expect.begin(), expect.end(),
                                      [&](const auto& w) { return w["type"] == e.type && w.contains("user"); });
      const auto& uid = e.payload["user_id"];
      got.insert(e.type + "/" + (!pinned ? std::string{"*"} : uid.is_string() ? uid.get<std::string>() : "null"));
    }
    EXPECT_EQ(got, want) << "round " << round << ": " << dump_types(h);
    ASSERT_FALSE(h.events.empty());
    EXPECT_EQ(h.events.front().type, "call.started");
    EXPECT_EQ(std::count_if(h.events.begin(), h.events.end(), [](const auto& e) { return e.type == "call.ended"; }), 1);
    check_expect_call(h, scenario(p.scenario));
  }
}

TEST_P(ScenarioTable, RestoreMidCallContinuesWithoutASecondStart) {
  const auto& p = GetParam();
  const auto evs = play(p.scenario, 14, p.v.fl, p.v.legacy);
  const auto half = evs.size() / 2;
  harness before;
  for (std::size_t k = 0; k < half; ++k) before.feed(evs[k]);
  // What the store holds: the latest record of every call that has not ended.
  std::map<std::string, call_record> open;
  for (const auto& r : before.records) open[r.call_id] = r;
  harness after;
  for (const auto& [id, r] : open) {
    if (r.status != "ended") after.t.restore(r);
  }
  EXPECT_EQ(after.t.active_calls(), before.t.active_calls());
  for (std::size_t k = half; k < evs.size(); ++k) after.feed(evs[k]);
  harness whole;
  whole.events = before.events;
  for (const auto& e : after.events) whole.events.push_back(e);
  whole.records = after.records;
  check_expect_sequence(whole, scenario(p.scenario));
  check_expect_call(whole, scenario(p.scenario));
  // Re-deriving the whole call in a fresh tracker yields the very same ids (dedupe after a restart).
  harness again;
  again.feed_all(evs);
  ASSERT_EQ(again.events.size(), whole.events.size());
  for (std::size_t k = 0; k < again.events.size(); ++k) {
    EXPECT_EQ(again.events[k].id, whole.events[k].id);
  }
}

INSTANTIATE_TEST_SUITE_P(AllScenarios, ScenarioTable, ::testing::ValuesIn(all_params()),
                         [](const auto& test_info) { return test_info.param.scenario + "_" + test_info.param.v.label; });

}  // namespace
}  // namespace kazoo_bridge::calls::test
