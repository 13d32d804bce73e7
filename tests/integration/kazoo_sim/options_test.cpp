// Pure pieces the loopback tests lean on: command line, Call-ID encoding, binding grammar.
#include <gtest/gtest.h>

#include "bindings.hpp"
#include "sim_options.hpp"
#include "text_util.hpp"

namespace kazoo_sim {
namespace {

TEST(sim_options, parses_modes_and_rejects_bad_values) {
  auto load = parse_options({"--load", "--calls", "500", "--rate", "50", "--duration", "30",
                             "--scenario", "internal", "--seed", "7", "--ws-listen", "127.0.0.1:0"});
  ASSERT_TRUE(std::holds_alternative<sim_options>(load));
  const auto& o = std::get<sim_options>(load);
  EXPECT_EQ(o.mode, run_mode::load);
  EXPECT_EQ(o.calls, 500u);
  EXPECT_EQ(o.rate, 50);
  EXPECT_EQ(o.scenario, "internal");
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(o.arrivals, arrival_kind::uniform);  // the default: the load of earlier benchmark runs
  EXPECT_EQ(std::get<sim_options>(parse_options({"--arrivals", "poisson"})).arrivals, arrival_kind::poisson);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_options({"--arrivals", "bursty"})));
  auto play = std::get<sim_options>(parse_options({"--play", "inbound_answered,park_retrieve", "--flavour", "kzm"}));
  EXPECT_EQ(play.play, (std::vector<std::string>{"inbound_answered", "park_retrieve"}));
  EXPECT_EQ(play.flavour_, flavour::kzm);
  auto limit = std::get<sim_options>(parse_options({"--rate-limit", "100:10"}));
  EXPECT_EQ(limit.rate_limit_burst, 100);
  EXPECT_EQ(limit.rate_limit_refill, 10);
  EXPECT_TRUE(std::holds_alternative<show_help>(parse_options({"--help"})));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_options({"--flavour", "kz5"})));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_options({"--calls", "zero"})));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_options({"--ws-listen", "nowhere"})));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_options({"--bogus"})));
}

TEST(routing_key, encodes_call_ids_like_kz_amqp_util) {
  EXPECT_EQ(encode_routing_segment("a84b4c76e66710@10.10.1.20"), "a84b4c76e66710%4010%2E10%2E1%2E20");
  EXPECT_EQ(encode_routing_segment("9d1c6b2e-27f3_x~y"), "9d1c6b2e-27f3_x~y");
  EXPECT_EQ(encode_routing_segment("a b/c"), "a+b%2Fc");
}

TEST(bindings, per_call_binding_matches_only_that_encoded_call) {
  auto r = expand_binding("call.*.abc%40host", "acct", {});
  ASSERT_TRUE(std::holds_alternative<std::vector<internal_binding>>(r));
  const auto& list = std::get<std::vector<internal_binding>>(r);
  ASSERT_EQ(list.size(), 9u);
  EXPECT_EQ(list[0].subscription_key, "call.acct.CHANNEL_CREATE.abc%40host");
  EXPECT_TRUE(matches_call_event(list[0], "acct", "CHANNEL_CREATE", "abc%40host"));
  EXPECT_FALSE(matches_call_event(list[0], "acct", "CHANNEL_CREATE", "other"));
  EXPECT_FALSE(matches_call_event(list[0], "other-acct", "CHANNEL_CREATE", "abc%40host"));
  // a raw Call-ID with dots splits into extra segments and is rejected (§1.5)
  EXPECT_EQ(std::get<std::string>(expand_binding("call.*.a@10.1.2.3", "acct", {})),
            "invalid format for call subscription : *.a@10.1.2.3");
  EXPECT_EQ(std::get<std::string>(expand_binding("conference.command", "acct", {})), "ConferenceId required");
}

}  // namespace
}  // namespace kazoo_sim
