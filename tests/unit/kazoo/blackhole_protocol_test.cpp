#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/kazoo/blackhole_protocol.hpp>

namespace kazoo_bridge::kazoo {
namespace {

TEST(blackhole_protocol, subscribe_uses_the_singular_binding) {
  auto j = nlohmann::json::parse(subscribe_message("tok", "acc", "call.*.*", "r1"));
  EXPECT_EQ(j["action"], "subscribe");
  EXPECT_EQ(j["auth_token"], "tok");
  EXPECT_EQ(j["request_id"], "r1");
  EXPECT_EQ(j["data"]["account_id"], "acc");
  EXPECT_EQ(j["data"]["binding"], "call.*.*");
  EXPECT_FALSE(j["data"].contains("bindings"));  // documented but not implemented (§0 item 2)
}

TEST(blackhole_protocol, one_call_binding_and_optional_qubicle) {
  EXPECT_EQ(bindings_for(false), std::vector<std::string>{"call.*.*"});
  EXPECT_EQ(bindings_for(true).size(), 4u);
}

TEST(blackhole_protocol, replies_settle_subscriptions) {
  struct row {
    const char* binding;
    const char* status;
    const char* errors;
    subscription_book::outcome expected;
  };
  const row rows[] = {
      {"call.*.*", "success", "", subscription_book::outcome::subscribed},
      {"call.*.*", "error", "failed to authenticate token [redacted]", subscription_book::outcome::failed},
      {"call.*.*", "error", "unauthorized account id", subscription_book::outcome::failed},
      {"call.*.*", "error", "", subscription_book::outcome::failed},
      {"qubicle.queue", "error", "no available subscriptions to requested binding",
       subscription_book::outcome::not_offered},
      {"qubicle.queue", "error", "unauthorized account id", subscription_book::outcome::failed},
  };
  for (const auto& r : rows) {
    subscription_book book;
    book.sent("r1", "acc", r.binding);
    EXPECT_FALSE(book.complete());
    auto res = book.on_reply("r1", r.status, r.errors);
    EXPECT_EQ(res.what, r.expected) << r.binding << " " << r.errors;
    EXPECT_EQ(res.account_id, "acc");
    EXPECT_TRUE(book.complete());
    if (r.expected == subscription_book::outcome::failed) {
      EXPECT_FALSE(res.error.empty());
    }
  }
}

TEST(blackhole_protocol, unknown_request_ids_do_not_settle_anything) {
  subscription_book book;
  book.sent("r1", "a", "call.*.*");
  book.sent("r2", "b", "call.*.*");
  EXPECT_EQ(book.on_reply("zzz", "success", "").what, subscription_book::outcome::unknown_request);
  EXPECT_EQ(book.pending(), 2u);
  book.on_reply("r2", "success", "");
  book.on_reply("r2", "success", "");  // a repeated reply is not counted twice
  EXPECT_EQ(book.pending(), 1u);
}

TEST(reconnect_policy, backs_off_exponentially_and_resets_after_a_stable_connection) {
  net::backoff_policy b;
  b.initial = std::chrono::milliseconds(100);
  b.max = std::chrono::milliseconds(1000);
  b.multiplier = 2.0;
  b.jitter = 0.0;
  reconnect_policy p(b, std::chrono::seconds(60));
  EXPECT_EQ(p.on_disconnected(0, 0.5).count(), 100);
  EXPECT_EQ(p.on_disconnected(0, 0.5).count(), 200);
  EXPECT_EQ(p.on_disconnected(0, 0.5).count(), 400);
  EXPECT_EQ(p.on_disconnected(0, 0.5).count(), 800);
  EXPECT_EQ(p.on_disconnected(0, 0.5).count(), 1000);
  EXPECT_EQ(p.on_disconnected(0, 0.5).count(), 1000);
  // Subscribed but dropped again after 10 s: still backing off.
  p.on_subscribed(1'000);
  EXPECT_EQ(p.on_disconnected(11'000, 0.5).count(), 1000);
  // Subscribed for longer than stable_after: the next drop is retried at the initial delay.
  p.on_subscribed(20'000);
  EXPECT_EQ(p.on_disconnected(90'000, 0.5).count(), 100);
  EXPECT_EQ(p.on_disconnected(90'100, 0.5).count(), 200);
}

TEST(reconnect_policy, jitter_stays_within_bounds) {
  net::backoff_policy b;
  b.initial = std::chrono::milliseconds(1000);
  b.max = std::chrono::milliseconds(30000);
  b.jitter = 0.2;
  for (double r : {0.0, 0.25, 0.5, 0.75, 0.999}) {
    reconnect_policy p(b);
    auto d = p.on_disconnected(0, r).count();
    EXPECT_GE(d, 800) << r;
    EXPECT_LE(d, 1200) << r;
  }
}

}  // namespace
}  // namespace kazoo_bridge::kazoo
