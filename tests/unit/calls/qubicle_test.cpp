// Qubicle queue events (reference/kazoo.md §4.3) mixed into a real call's channel events.

#include <gtest/gtest.h>

#include "harness.hpp"

namespace kazoo_bridge::calls::test {
namespace {

std::string qubicle(const std::string& event, nlohmann::json data, const std::string& account = acme,
                    const std::string& queue = "q1") {
  return nlohmann::json{{"action", "event"},
                        {"subscribed_key", "qubicle.queue"},
                        {"subscription_key", "qubicle.queue." + account + ".*"},
                        {"name", event},
                        {"routing_key", "qubicle.queue." + account + "." + queue},
                        {"data", std::move(data)}}
      .dump();
}

std::string a_leg(const std::vector<kazoo_sim::timed_event>& evs) { return evs.front().call_id; }

TEST(qubicle, frames_parse_with_category_and_account) {
  std::string reason;
  auto f = parse_frame(qubicle("join", {{"call_id", "x"}, {"queue_id", "q1"}}), &reason);
  ASSERT_TRUE(f) << reason;
  EXPECT_EQ(f->name, "qubicle.queue.join");
  EXPECT_EQ(f->account_id, acme);
  // Queue statistics carry no call: still a valid frame (not "malformed"), the tracker ignores it.
  auto stats = parse_frame(qubicle("create", {{"queue_id", "q1"}, {"stats", {{"recipient_count", 2}}}}), &reason);
  ASSERT_TRUE(stats) << reason;
}

TEST(qubicle, join_delivered_give_entered_and_answered_by_the_agent) {
  harness h;
  auto evs = play("inbound_answered", 7);
  h.feed(evs.front());  // the carrier A-leg appears
  const auto call = a_leg(evs);
  h.feed_text(qubicle("join", {{"call_id", call}, {"queue_id", "q1"}}), t0 + 500);
  h.feed_text(qubicle("join", {{"call_id", call}, {"queue_id", "q1"}}), t0 + 600);  // repeated: nothing new
  h.feed_text(qubicle("delivered", {{"call_id", call}, {"recipient_id", user_id(acme, "bob")}}), t0 + 900);
  for (std::size_t i = 1; i < evs.size(); ++i) h.feed(evs[i]);
  auto types = h.types_of(call);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.queue.entered"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.queue.answered"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.queue.abandoned"), 0);
  EXPECT_EQ(types.back(), "call.ended");
  for (const auto& e : h.events) {
    if (e.type == "call.queue.entered") {
      EXPECT_EQ(e.payload["queue_id"], "q1");
    }
    if (e.type == "call.queue.answered") {
      EXPECT_EQ(e.payload["user_id"], user_id(acme, "bob"));
      EXPECT_EQ(e.payload["queue_id"], "q1");
    }
  }
}

TEST(qubicle, leaving_unanswered_is_abandoned_once) {
  harness h;
  auto evs = play("inbound_missed_voicemail", 9);
  h.feed(evs.front());
  const auto call = a_leg(evs);
  h.feed_text(qubicle("join", {{"session", {{"call_id", call}}}, {"queue_id", "q2"}}), t0 + 500);
  h.feed_text(qubicle("leave", {{"call_id", call}, {"reason", "caller_hangup"}}), t0 + 5000);
  for (std::size_t i = 1; i < evs.size(); ++i) h.feed(evs[i]);
  auto types = h.types_of(call);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.queue.entered"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.queue.abandoned"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.ended"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "call.missed"), 1);
}

TEST(qubicle, queue_events_of_unknown_calls_or_other_accounts_do_nothing) {
  harness h;
  auto evs = play("inbound_answered", 11);
  h.feed(evs.front());
  const auto before = h.events.size();
  h.feed_text(qubicle("join", {{"call_id", "never-seen"}}), t0 + 100);
  h.feed_text(qubicle("join", {{"call_id", a_leg(evs)}}, globex), t0 + 100);  // wrong account
  h.feed_text(qubicle("create", {{"queue_id", "q1"}}), t0 + 100);
  EXPECT_EQ(h.events.size(), before);
}

}  // namespace
}  // namespace kazoo_bridge::calls::test
