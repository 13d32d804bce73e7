// reconcile() after a reconnect (reference/kazoo.md §5.8): live channels + CDRs replace lost events.

#include "harness.hpp"

namespace kazoo_bridge::calls::test {
namespace {

// A CDR row as Crossbar lists it (§5.6: many numbers are strings) for every DESTROY of a play.
std::vector<cdr> cdrs_of(const std::vector<kazoo_sim::timed_event>& evs) {
  std::vector<cdr> out;
  for (const auto& e : evs) {
    if (e.name != "CHANNEL_DESTROY") continue;
    const auto& d = e.data;
    const auto ccv = d.value("custom_channel_vars", nlohmann::json::object());
    nlohmann::json row = {
        {"id", "202406-" + e.call_id},
        {"call_id", e.call_id},
        {"caller_id_number", d.value("caller_id_number", "")},
        {"caller_id_name", d.value("caller_id_name", "")},
        {"callee_id_number", d.value("callee_id_number", "")},
        {"callee_id_name", d.value("callee_id_name", "")},
        {"duration_seconds", d["duration_seconds"]},
        {"billing_seconds", d["billing_seconds"]},
        {"timestamp", std::to_string(d["timestamp"].get<std::int64_t>())},
        {"unix_timestamp", std::to_string(e.at_unix_ms / 1000)},
        {"hangup_cause", d.value("hangup_cause", "")},
        {"disposition", d.value("disposition", "")},
        {"other_leg_call_id", d.value("other_leg_call_id", "")},
        {"owner_id", ccv.value("owner_id", "")},
        {"authorizing_id", ccv.value("authorizing_id", "")},
        {"direction", d.value("call_direction", "")},
        {"request", d.value("request", "")},
        {"bridge_id", ccv.value("bridge_id", "")},
        {"interaction_id", ccv.value("call_interaction_id", "")},
        {"recording_url", ""},
        {"media_recordings", nlohmann::json::array()}};
    out.push_back(cdr_from_json(row));
  }
  return out;
}

// GET /channels rows for the legs of a play that are live after `upto` events.
std::vector<live_channel> live_of(const std::vector<kazoo_sim::timed_event>& evs, std::size_t upto) {
  std::map<std::string, nlohmann::json> rows;
  for (std::size_t k = 0; k < upto; ++k) {
    const auto& e = evs[k];
    if (e.name.starts_with("PARK_")) continue;
    if (e.name == "CHANNEL_DESTROY") {
      rows.erase(e.call_id);
      continue;
    }
    auto& r = rows[e.call_id];
    const auto ccv = e.data.value("custom_channel_vars", nlohmann::json::object());
    r["uuid"] = e.call_id;
    r["direction"] = e.data.value("call_direction", "");
    r["answered"] = r.value("answered", false) || e.name == "CHANNEL_ANSWER";
    r["owner_id"] = ccv.value("owner_id", "");
    r["authorizing_id"] = ccv.value("authorizing_id", "");
    r["authorizing_type"] = ccv.value("authorizing_type", "");
    r["other_leg"] = e.data.value("other_leg_call_id", "");
    r["destination"] = e.data.value("request", "");
    r["timestamp"] = e.data["timestamp"];
    if (ccv.contains("bridge_id")) r["bridge_id"] = ccv["bridge_id"];
  }
  std::vector<live_channel> out;
  for (const auto& [id, r] : rows) out.push_back(live_channel_from_json(r, acme));
  return out;
}

void run(harness& h, const std::vector<live_channel>& live, const std::vector<cdr>& cdrs, std::int64_t now) {
  tracker_output out;
  h.t.reconcile(acme, live, cdrs, now, out);
  h.collect(out, now);
}

// Bob answered and parked the caller while we were away: the caller's leg is still up (live), Bob's leg
// ended (CDR, billing > 0). That is an answered call, not a missed one (found by the e2e stall test).
TEST(Reconcile, LegAnsweredWhileAwayOfAStillLiveCallIsAnswered) {
  harness h;
  auto evs = play("park_abandoned", 43);
  h.feed_all({evs.begin(), evs.begin() + 2});  // started, ringing Bob; then the socket stalls
  ASSERT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing"}));
  std::vector<kazoo_sim::timed_event> away(evs.begin(), evs.begin() + 7);  // up to PARK_PARKED
  run(h, live_of(away, away.size()), cdrs_of(away), evs[6].at_unix_ms + 100);
  ASSERT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.answered"}));
  EXPECT_EQ(h.events.back().payload["user_id"], user_id(acme, "bob"));
  // The caller gives up in the parking slot after we are back.
  for (std::size_t i = 7; i < evs.size(); ++i) h.feed(evs[i]);
  auto types = h.types();
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.ended"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.missed"), 0);
  // Reconciling the same state again changes nothing.
  const auto n = h.events.size();
  run(h, live_of(evs, evs.size()), cdrs_of(evs), evs.back().at_unix_ms + 1000);
  EXPECT_EQ(h.events.size(), n);
}

// After a restart the tracker is empty; calls that ended shortly before the stop are remembered from the
// store so that a CDR window overlapping them does not report them a second time.
TEST(Reconcile, CallsRememberedAsEndedAtStartUpAreNotSynthesizedAgain) {
  auto evs = play("park_retrieve", 44);
  harness before;
  before.feed_all(evs);
  const auto types = before.types();
  ASSERT_EQ(std::count(types.begin(), types.end(), "call.ended"), 1);
  harness after;  // a new process
  for (const auto& r : before.records) after.t.remember_ended(acme, r.call_id, evs.back().at_unix_ms);
  run(after, {}, cdrs_of(evs), evs.back().at_unix_ms + 60000);
  EXPECT_TRUE(after.events.empty()) << after.events.size() << " events reported again";
  // Without the memory the same CDRs do report the call (so the test above can fail).
  harness fresh;
  run(fresh, {}, cdrs_of(evs), evs.back().at_unix_ms + 60000);
  EXPECT_FALSE(fresh.events.empty());
}

TEST(Reconcile, TrackedCallGoneFromLiveEndsOnceWithCdrData) {
  harness h;
  auto evs = play("inbound_answered", 41);
  h.feed_all({evs.begin(), evs.begin() + 5});  // up to the BRIDGE; then the socket drops
  ASSERT_EQ(h.events.size(), 3U);
  const auto now = evs.back().at_unix_ms + 5000;
  run(h, {}, cdrs_of(evs), now);
  ASSERT_EQ(h.events.size(), 4U);
  const auto& ended = h.events.back().payload;
  EXPECT_EQ(ended["type"], "call.ended");
  EXPECT_EQ(ended["hangup_cause"], "NORMAL_CLEARING");
  EXPECT_EQ(ended["duration_s"], 66);
  EXPECT_EQ(ended["ended_at"], "2024-06-10T06:14:26Z");
  EXPECT_EQ(ended["raw"]["call_id"], evs.front().call_id) << "raw = the CDR row";
  run(h, {}, cdrs_of(evs), now + 1000);
  EXPECT_EQ(h.events.size(), 4U) << "reconcile twice -> no duplicates";
  // The events that were lost arrive late after all: ignored.
  for (std::size_t k = 5; k < evs.size(); ++k) h.feed(evs[k]);
  EXPECT_EQ(h.events.size(), 4U);
}

TEST(Reconcile, TrackedUnansweredInboundWithoutCdrIsEndedAndMissed) {
  harness h;
  auto evs = play("inbound_missed_voicemail", 42);
  h.feed_all({evs.begin(), evs.begin() + 2});
  run(h, {}, {}, evs.back().at_unix_ms);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.ended", "call.missed"}));
  EXPECT_TRUE(h.events[2].payload["hangup_cause"].is_null());
}

TEST(Reconcile, AnsweredWhileAwayIsNotMissed) {
  harness h;
  auto evs = play("inbound_answered", 43);
  h.feed_all({evs.begin(), evs.begin() + 2});  // started + ringing, then disconnected
  run(h, {}, cdrs_of(evs), evs.back().at_unix_ms + 1000);
  // The answer is reported too (a Zap on call.answered still fires), by the person in the CDR.
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.answered", "call.ended"}));
  EXPECT_EQ(h.events[2].payload["user_id"], user_id(acme, "bob"));
  EXPECT_EQ(h.last_record(evs.front().call_id)->answered, true);
  // Reconciling again reports nothing new.
  const auto n = h.events.size();
  run(h, {}, cdrs_of(evs), evs.back().at_unix_ms + 2000);
  EXPECT_EQ(h.events.size(), n);
}

TEST(Reconcile, StillLiveCallIsLeftAlone) {
  harness h;
  auto evs = play("hold_unhold", 44);
  h.feed_all({evs.begin(), evs.begin() + 5});
  run(h, live_of(evs, 5), {}, evs[4].at_unix_ms + 1000);
  EXPECT_EQ(h.events.size(), 3U);
  EXPECT_EQ(h.t.active_calls(), 1U);
  h.feed_all({evs.begin() + 5, evs.end()});
  EXPECT_EQ(h.types().back(), "call.ended");
}

TEST(Reconcile, UnknownLiveChannelsStartCalls) {
  harness h;
  auto evs = play("inbound_answered", 45);
  const auto live = live_of(evs, 5);  // answered and bridged while we were not connected
  ASSERT_EQ(live.size(), 2U);
  // Older than the defer window (5 s): started at once (a fresher one waits for its frames, below).
  run(h, live, {}, evs[4].at_unix_ms + 10000);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.answered"}));
  EXPECT_EQ(h.events[1].payload["user_id"], user_id(acme, "bob"));
  EXPECT_EQ(h.events[0].call_id, evs.front().call_id);
  run(h, live, {}, evs[4].at_unix_ms + 11000);
  EXPECT_EQ(h.events.size(), 2U) << "reconcile twice -> no duplicates";
  // Then the live feed goes on and ends the call once.
  h.feed_all({evs.begin() + 5, evs.end()});
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.answered", "call.ended"}));
}

// A call that starts right at a reconnect: the /channels snapshot already shows its legs, but their
// first frames (read after the subscribe) reach the tracker after the reconciliation. They must still
// give the live events (call.ringing included), once, not a snapshot-made call without ringing.
TEST(Reconcile, FreshUnknownLiveChannelWaitsForItsOwnFrames) {
  harness h;
  auto evs = play("inbound_answered", 47);
  const auto now = evs[1].at_unix_ms + 300;  // both legs created, the B-leg ringing
  const auto live = live_of(evs, 2);
  ASSERT_EQ(live.size(), 2U);
  run(h, live, {}, now);
  EXPECT_TRUE(h.events.empty()) << h.events.size() << " events made from the snapshot at once";
  h.feed_all(evs);  // the frames that were in flight, then the rest of the call
  h.tick(now + 2500);  // the wait is over: the channels are known, nothing is made from the snapshot
  h.tick(now + 10000);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.answered", "call.ended"}));
}

TEST(Reconcile, FreshUnknownLiveChannelWithoutFramesStartsACallAfterTheWait) {
  harness h;
  auto evs = play("inbound_answered", 48);
  const auto now = evs[1].at_unix_ms + 300;  // both legs up, ringing; these two frames were lost
  const auto live = live_of(evs, 2);
  ASSERT_EQ(live.size(), 2U);
  run(h, live, {}, now);
  EXPECT_TRUE(h.events.empty());
  h.tick(now + 1000);
  EXPECT_TRUE(h.events.empty()) << "still waiting for its frames";
  h.tick(now + 2000);
  ASSERT_EQ(h.types(), (std::vector<std::string>{"call.started"}));
  EXPECT_EQ(h.events[0].call_id, evs.front().call_id);
  // A second reconcile and later ticks do not start it again; the live feed goes on and ends it once.
  run(h, live, {}, now + 3000);
  h.tick(now + 6000);
  EXPECT_EQ(h.events.size(), 1U);
  h.feed_all({evs.begin() + 2, evs.end()});
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.answered", "call.ended"}));
  EXPECT_EQ(h.events[1].payload["user_id"], user_id(acme, "bob"));
}

TEST(Reconcile, CdrOnlyMissedCallIsSynthesized) {
  harness h;
  auto evs = play("inbound_missed_voicemail", 46);
  const auto cdrs = cdrs_of(evs);
  run(h, {}, cdrs, evs.back().at_unix_ms + 60000);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ended", "call.missed"}));
  const auto& missed = h.events.back().payload;
  EXPECT_EQ(missed["direction"], "inbound");
  EXPECT_EQ(missed["from_number"], "+15551234567");
  EXPECT_EQ(missed["user_id"], user_id(acme, "bob")) << "the user whose phone rang";
  EXPECT_EQ(missed["started_at"], "2024-06-10T06:13:20Z");
  EXPECT_EQ(h.events[0].call_id, evs.front().call_id);
  run(h, {}, cdrs, evs.back().at_unix_ms + 70000);
  EXPECT_EQ(h.events.size(), 3U) << "reconcile twice -> no duplicates";
}

TEST(Reconcile, CdrOnlyAnsweredCallHasAnAnswer) {
  harness h;
  auto evs = play("internal", 47);
  run(h, {}, cdrs_of(evs), evs.back().at_unix_ms + 60000);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.answered", "call.ended"}));
  EXPECT_EQ(h.events[1].payload["user_id"], user_id(acme, "bob"));
  EXPECT_EQ(h.events.back().payload["direction"], "internal");
}

TEST(Reconcile, OtherAccountsAreUntouched) {
  harness h;
  auto g = play("inbound_answered", 48, kazoo_sim::flavour::kz43, false, globex, {{"bob", "gina"}});
  h.feed_all({g.begin(), g.begin() + 3});
  run(h, {}, {}, g.back().at_unix_ms);  // reconcile of acme with nothing live
  EXPECT_EQ(h.t.active_calls(), 1U);
  EXPECT_EQ(h.events.size(), 3U) << "started, ringing, answered of the globex call; nothing from the reconcile";
}

TEST(CrossbarRows, ParseStringsAndIntegers) {
  auto c = cdr_from_json(nlohmann::json::parse(R"({"call_id":"a","duration_seconds":"65","billing_seconds":60,
    "timestamp":"63885219265","hangup_cause":"NORMAL_CLEARING","media_recordings":["r.mp3"],
    "custom_channel_vars":{"authorizing_type":"device","bridge_id":"a"}})"));
  EXPECT_EQ(c.duration_seconds, 65);
  EXPECT_EQ(c.billing_seconds, 60);
  EXPECT_EQ(c.ended_unix_s, 1718000065);
  EXPECT_EQ(c.media_recordings, std::vector<std::string>{"r.mp3"});
  EXPECT_EQ(c.authorizing_type, "device");
  EXPECT_EQ(c.bridge_id, "a");
  auto l = live_channel_from_json(nlohmann::json::parse(R"({"uuid":"u","answered":true,"direction":"inbound",
    "timestamp":63885219200})"), acme);
  EXPECT_EQ(l.uuid, "u");
  EXPECT_TRUE(l.answered);
  EXPECT_EQ(l.account_id, acme);
  EXPECT_EQ(l.timestamp, 63885219200);
  EXPECT_EQ(cdr_from_json(nlohmann::json::array()).call_id, "");
}

}  // namespace
}  // namespace kazoo_bridge::calls::test
