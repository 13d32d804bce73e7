// Tracker behaviour beyond the scenario table: out-of-order and never-seen legs, stale calls, hidden
// internal calls, account isolation, late events after the end.

#include "harness.hpp"

#include <algorithm>

namespace kazoo_bridge::calls::test {
namespace {

std::vector<kazoo_sim::timed_event> move_before(std::vector<kazoo_sim::timed_event> evs, const std::string& leg,
                                                const std::string& first, const std::string& then) {
  auto a = std::find_if(evs.begin(), evs.end(), [&](const auto& e) { return e.leg == leg && e.name == then; });
  auto b = std::find_if(evs.begin(), evs.end(), [&](const auto& e) { return e.leg == leg && e.name == first; });
  auto moved = *b;
  evs.erase(b);
  evs.insert(a, moved);
  return evs;
}

TEST(Tracker, DestroyBeforeCreateOfALosingLeg) {
  // Bob's LOSE_RACE DESTROY overtakes his CREATE (different producers, §3.2 item 5).
  auto evs = move_before(play("ring_group_lose_race", 21), "B1", "CHANNEL_DESTROY", "CHANNEL_CREATE");
  harness h;
  h.feed_all(evs);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.ringing", "call.answered",
                                                 "call.ended"}));
  EXPECT_EQ(h.events[3].payload["user_id"], user_id(acme, "carol"));
}

TEST(Tracker, AnswerBeforeCreateAndBridgeBeforeAnswer) {
  auto evs = play("internal", 22);
  evs = move_before(evs, "B", "CHANNEL_ANSWER", "CHANNEL_CREATE");
  evs = move_before(evs, "A", "CHANNEL_BRIDGE", "CHANNEL_ANSWER");
  harness h;
  h.feed_all(evs);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.answered", "call.ended"}));
  EXPECT_EQ(h.events[2].payload["user_id"], user_id(acme, "bob"));
}

TEST(Tracker, DestroyOfANeverSeenChannelDoesNotCrash) {
  auto evs = play("inbound_missed_voicemail", 23);
  harness h;
  h.feed(evs.back());  // only the A-leg's DESTROY
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ended", "call.missed"}));
  EXPECT_EQ(h.events[1].payload["hangup_cause"], "NORMAL_CLEARING");
  // The rest of the call arrives late: the ended call's ids are remembered, nothing new happens.
  for (std::size_t k = 0; k + 1 < evs.size(); ++k) h.feed(evs[k]);
  EXPECT_EQ(h.events.size(), 3U);
  EXPECT_EQ(h.t.active_calls(), 0U);
}

TEST(Tracker, UnansweredRingGroupIsMissedForTheFirstRungUser) {
  auto evs = play("ring_group_lose_race", 24);
  // Drop Carol's answer and bridge: both legs time out.
  std::vector<kazoo_sim::timed_event> kept;
  for (auto e : evs) {
    if (e.name == "CHANNEL_ANSWER" || e.name == "CHANNEL_BRIDGE") continue;
    if (e.name == "CHANNEL_DESTROY") {
      e.data["billing_seconds"] = 0;
      e.data["disposition"] = "NO_ANSWER";
      e.data["hangup_cause"] = "NO_ANSWER";
    }
    kept.push_back(e);
  }
  harness h;
  h.feed_all(kept);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.ringing", "call.ended",
                                                 "call.missed"}));
  EXPECT_EQ(h.events.back().payload["user_id"], user_id(acme, "bob"));
}

TEST(Tracker, StaleCallIsClosedOnceWithoutAHangupCause) {
  tracker_options o;
  o.stale_call_timeout_ms = 4 * 3600 * 1000;
  harness h(o);
  auto evs = play("inbound_answered", 25);
  evs.erase(std::remove_if(evs.begin(), evs.end(), [](const auto& e) { return e.name == "CHANNEL_DESTROY"; }),
            evs.end());
  h.feed_all(evs);
  const auto last = evs.back().at_unix_ms;
  h.tick(last + o.stale_call_timeout_ms - 1);
  EXPECT_EQ(h.events.size(), 3U) << "not stale yet";
  EXPECT_EQ(h.t.active_calls(), 1U);
  h.tick(last + o.stale_call_timeout_ms);
  ASSERT_EQ(h.events.size(), 4U);
  const auto& ended = h.events.back().payload;
  EXPECT_EQ(ended["type"], "call.ended");
  EXPECT_TRUE(ended["hangup_cause"].is_null());
  EXPECT_EQ(ended["end_reason"], "stale_timeout");
  EXPECT_NE(ended["summary"].get<std::string>().find("closed after 4 hours without a hang-up"), std::string::npos)
      << ended["summary"];
  EXPECT_EQ(h.t.active_calls(), 0U);
  h.tick(last + 3 * o.stale_call_timeout_ms);
  EXPECT_EQ(h.events.size(), 4U) << "ended exactly once";
  EXPECT_EQ(h.last_record(ended["call_id"])->status, "ended");
}

TEST(Tracker, StaleTextNamesTheConfiguredSpan) {
  const std::vector<std::pair<std::int64_t, std::string>> table = {
      {3600 * 1000, "closed after 1 hour without"},  {90 * 60 * 1000, "closed after 90 minutes without"},
      {60 * 1000, "closed after 1 minute without"},  {45 * 1000, "closed after 45 seconds without"},
      {2 * 3600 * 1000, "closed after 2 hours without"}};
  for (const auto& [ms, want] : table) {
    tracker_options o;
    o.stale_call_timeout_ms = ms;
    harness h(o);
    auto evs = play("inbound_answered", 27);
    h.feed(evs[0]);
    h.tick(evs[0].at_unix_ms + ms);
    ASSERT_FALSE(h.events.empty());
    EXPECT_NE(h.events.back().payload["end_detail"].get<std::string>().find(want), std::string::npos)
        << h.events.back().payload["end_detail"];
  }
}

TEST(Tracker, StaleUnansweredInboundIsAlsoMissed) {
  harness h;
  auto evs = play("inbound_missed_voicemail", 26);
  h.feed(evs[0]);
  h.feed(evs[1]);
  h.tick(evs[1].at_unix_ms + 5 * 3600 * 1000);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.ended", "call.missed"}));
}

TEST(Tracker, TombstonesExpire) {
  tracker_options o;
  o.tombstone_ms = 1000;
  harness h(o);
  auto evs = play("internal", 27);
  h.feed_all(evs);
  ASSERT_EQ(h.events.size(), 4U);
  h.feed(evs.back());  // duplicate DESTROY after the end: ignored
  EXPECT_EQ(h.events.size(), 4U);
  h.tick(evs.back().at_unix_ms + 2000);
  h.feed(evs.back());  // long after: a new (lone) channel, not a crash
  EXPECT_GE(h.events.size(), 4U);
}

TEST(Tracker, InternalCallsCanBeDroppedEntirely) {
  tracker_options o;
  o.include_internal_calls = false;
  harness h(o);
  h.feed_all(play("internal", 28));
  EXPECT_TRUE(h.events.empty());
  EXPECT_TRUE(h.records.empty());
  EXPECT_EQ(h.t.active_calls(), 0U);
  // Other calls still flow.
  h.feed_all(play("outbound_pstn", 28));
  EXPECT_EQ(h.types(), (std::vector<std::string>{"call.started", "call.ringing", "call.answered", "call.ended"}));
  harness with;
  with.feed_all(play("internal", 28));
  EXPECT_EQ(with.events.size(), 4U);
}

TEST(Tracker, AccountsNeverMix) {
  harness h;
  auto a = play("inbound_answered", 29);
  auto g = play("inbound_answered", 29, kazoo_sim::flavour::kz43, false, globex, {{"bob", "gina"}});
  // Same seed => same Call-IDs in both accounts; interleave them.
  ASSERT_EQ(a.front().call_id, g.front().call_id);
  for (std::size_t k = 0; k < a.size(); ++k) {
    h.feed(a[k]);
    h.feed(g[k]);
  }
  std::vector<std::string> acme_types, globex_types;
  for (const auto& e : h.events) {
    (e.account_id == acme ? acme_types : globex_types).push_back(e.type);
    EXPECT_EQ(e.payload["account_id"], e.account_id);
    if (e.type == "call.answered") {
      EXPECT_EQ(e.payload["user_id"], e.account_id == acme ? user_id(acme, "bob") : user_id(globex, "gina"));
    }
  }
  const std::vector<std::string> want = {"call.started", "call.ringing", "call.answered", "call.ended"};
  EXPECT_EQ(acme_types, want);
  EXPECT_EQ(globex_types, want);
  std::set<std::string> ids;
  for (const auto& e : h.events) {
    EXPECT_TRUE(ids.insert(e.id).second) << "ids differ per account";
  }
}

TEST(Tracker, WithoutADirectoryCalleeIdsNameThePeople) {
  tracker t;  // no set_directory
  tracker_output out;
  for (const auto& e : play("inbound_answered", 30)) {
    auto f = parse_frame(envelope(e));
    ASSERT_TRUE(f);
    t.on_event(*f, e.at_unix_ms, out);
  }
  ASSERT_EQ(out.events.size(), 4U);
  const auto& ringing = out.events[1].payload;
  EXPECT_EQ(ringing["user_id"], user_id(acme, "bob"));  // owner_id CCV of the B-leg
  EXPECT_EQ(ringing["user_name"], "Bob Jones");          // callee_id_name
  EXPECT_EQ(ringing["extension"], "1002");
}

TEST(Tracker, PayloadTimesAndNumbers) {
  harness h;
  h.feed_all(play("inbound_answered", 31));
  ASSERT_EQ(h.events.size(), 4U);
  const auto& started = h.events[0].payload;
  EXPECT_EQ(started["started_at"], "2024-06-10T06:13:20Z");
  EXPECT_EQ(started["from_number"], "+15551234567");
  EXPECT_EQ(started["from_name"], "Jane Roe");
  EXPECT_EQ(started["to_number"], "+14155550199");
  EXPECT_TRUE(started["answered_at"].is_null());
  EXPECT_TRUE(started["duration_s"].is_null());
  const auto& answered = h.events[2].payload;
  EXPECT_EQ(answered["answered_at"], "2024-06-10T06:13:26Z");
  EXPECT_EQ(answered["to_number"], "1002");
  EXPECT_EQ(answered["to_name"], "Bob Jones");
  EXPECT_EQ(answered["summary"], "Inbound call from +1 555 123 4567 (Jane Roe) answered by Bob Jones (ext 1002)");
  EXPECT_EQ(answered["raw"]["event_name"], "CHANNEL_ANSWER");
  const auto& ended = h.events[3].payload;
  EXPECT_EQ(ended["ended_at"], "2024-06-10T06:14:26Z");
  EXPECT_EQ(ended["duration_s"], 66);
  EXPECT_EQ(ended["talk_s"], 60);
  EXPECT_EQ(ended["raw"]["event_name"], "CHANNEL_DESTROY");
}

TEST(Tracker, RecordsFollowTheCall) {
  harness h;
  auto evs = play("park_retrieve", 32);
  std::vector<std::string> statuses;
  for (const auto& e : evs) {
    h.feed(e);
    if (const auto* r = h.last_record(h.events.empty() ? "" : h.events.front().call_id)) {
      if (statuses.empty() || statuses.back() != r->status) statuses.push_back(r->status);
    }
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"ringing", "answered", "parked", "answered", "ended"}));
}

TEST(Tracker, PerCallStateStaysSmall) {
  harness h;
  auto evs = play("click_to_call", 33);
  evs.erase(std::remove_if(evs.begin(), evs.end(), [](const auto& e) { return e.name == "CHANNEL_DESTROY"; }),
            evs.end());
  h.feed_all(evs);
  ASSERT_EQ(h.t.active_calls(), 1U);
  // The restore state is the per-call memory in serialized form: no raw events kept.
  const auto size = h.records.back().state.size();
  EXPECT_LT(size, 2048U) << h.records.back().state;
}

}  // namespace
}  // namespace kazoo_bridge::calls::test
