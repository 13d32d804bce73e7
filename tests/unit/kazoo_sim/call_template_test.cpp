// Load mode's pre-expanded scenarios (tools/kazoo-sim/src/call_template.hpp) must put on the wire
// exactly what expand() gives for the same instance, and call_state's DOM-free path must answer
// /channels and /cdrs exactly as the DOM path does.

#include "call_template.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "bindings.hpp"
#include "call_state.hpp"
#include "hub.hpp"

namespace {

using kazoo_sim::call_template;
using kazoo_sim::flavour;
using nlohmann::json;

const std::string acme = "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d";

const kazoo_sim::fixture& fixture() {
  static const auto f = kazoo_sim::load_fixture(KAZOO_SIM_DEFAULT_FIXTURE).value();
  return f;
}
const std::vector<kazoo_sim::scenario>& scenarios() {
  static const auto s = kazoo_sim::load_scenarios(KAZOO_SIM_DEFAULT_SCENARIOS_DIR).value();
  return s;
}

kazoo_sim::instance make_instance(std::uint64_t seed, std::int64_t start_ms, flavour f) {
  kazoo_sim::instance i;
  i.account_id = acme;
  i.seed = seed;
  i.start_unix_ms = start_ms;
  i.flavour_ = f;
  return i;
}

const char* name_of(flavour f) { return f == flavour::kz43 ? "kz43" : "kzm"; }

// Seeds and starts unlike build()'s own check: a second boundary (…999 ms), a month change, the
// load generator's seed formula.
struct probe {
  std::uint64_t seed;
  std::int64_t start_ms;
};
const std::vector<probe> probes = {
    {1 * 1000003ULL + 0, 1'763'766'399'999},
    {1 * 1000003ULL + 7, 1'764'547'199'500},
    {42 * 1000003ULL + 12345, 1'735'689'600'000},
};

TEST(call_template, every_bundled_scenario_and_flavour_renders_what_expand_gives) {
  ASSERT_GE(scenarios().size(), 12u);
  for (const auto& s : scenarios()) {
    for (auto f : {flavour::kz43, flavour::kzm}) {
      std::string why;
      auto t = call_template::build(s, fixture(), acme, f, &why);
      ASSERT_TRUE(t.has_value()) << s.name << " " << name_of(f) << ": " << why;
      for (const auto& p : probes) {
        auto want = kazoo_sim::expand(s, fixture(), make_instance(p.seed, p.start_ms, f));
        auto v = t->instantiate(p.seed, p.start_ms);
        ASSERT_EQ(t->events().size(), want.size()) << s.name;
        for (std::size_t k = 0; k < want.size(); ++k) {
          const auto& e = t->events()[k];
          SCOPED_TRACE(s.name + " " + name_of(f) + " event " + std::to_string(k) + " " + want[k].name);
          EXPECT_EQ(e.name, want[k].name);
          EXPECT_EQ(e.account_id, want[k].account_id);
          EXPECT_EQ(v.call_ids.at(e.leg), want[k].call_id);
          EXPECT_EQ("call." + e.account_id + "." + e.name + "." + v.encoded_call_ids.at(e.leg),
                    kazoo_sim::routing_key(want[k]));
          EXPECT_EQ(p.start_ms + e.at_ms, want[k].at_unix_ms);
          std::size_t msg_id_at = 0;
          auto text = t->render(v, k, &msg_id_at);
          // Byte for byte, and as JSON (the daemon parses it).
          EXPECT_EQ(text, want[k].data.dump());
          EXPECT_EQ(json::parse(text), want[k].data);
          if (e.channel) {
            ASSERT_NE(msg_id_at, std::string::npos);
            EXPECT_EQ(text.substr(msg_id_at, 16), want[k].data["msg_id"].get<std::string>());
          } else {
            EXPECT_EQ(msg_id_at, std::string::npos);  // PARK_*: random hex msg_id, not a time (§2.4)
          }
        }
      }
    }
  }
}

TEST(call_template, instances_differ_by_seed_like_expand) {
  const auto& s = scenarios().front();
  auto t = call_template::build(s, fixture(), acme, flavour::kz43).value();
  auto a = t.instantiate(1000003ULL, 1'763'766'000'000);
  auto b = t.instantiate(1000004ULL, 1'763'766'000'000);
  ASSERT_FALSE(a.call_ids.empty());
  EXPECT_NE(a.call_ids, b.call_ids);
  EXPECT_NE(t.render(a, 0), t.render(b, 0));
}

TEST(call_template, literal_reproduces_its_one_instance) {
  const auto& s = scenarios().back();
  auto inst = make_instance(99, 1'763'766'123'456, flavour::kzm);
  auto want = kazoo_sim::expand(s, fixture(), inst);
  auto t = call_template::literal(want, inst);
  auto v = t.instantiate(0, 0);  // seed and start are the literal's own
  ASSERT_EQ(t.events().size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(t.render(v, k), want[k].data.dump());
    EXPECT_EQ(v.call_ids.at(t.events()[k].leg), want[k].call_id);
  }
}

TEST(call_template, a_scenario_it_cannot_reproduce_is_refused_not_mangled) {
  // A Call-ID hashing a leg that never sends an event: expand() computes it on demand, a template
  // has no reference Call-ID for it.
  kazoo_sim::scenario s;
  s.name = "md5_of_silent_leg";
  s.doc = json::parse(R"({"name":"md5_of_silent_leg","legs":{"A":{"call_id":"{md5:Z}"},"Z":{}},
    "events":[{"at_ms":0,"leg":"A","name":"CHANNEL_CREATE","data":{}}]})");
  std::string why;
  auto t = call_template::build(s, fixture(), acme, flavour::kz43, &why);
  EXPECT_FALSE(t.has_value());
  EXPECT_FALSE(why.empty());
}

// Feeds `events` to one call_state through the DOM path and to another through channel_event.
void feed_both(const call_template& t, const kazoo_sim::call_values& v,
               const std::vector<kazoo_sim::timed_event>& events, std::size_t count,
               kazoo_sim::call_state& dom, kazoo_sim::call_state& lazy) {
  auto tp = std::make_shared<const call_template>(t);
  auto vp = std::make_shared<const kazoo_sim::call_values>(v);
  for (std::size_t k = 0; k < count; ++k) {
    const auto& want = events[k];
    dom.on_event(want.name, want.account_id, want.data);
    const auto& e = t.events()[k];
    if (!e.channel) continue;
    auto other = t.render(v, e.other_leg_call_id);
    auto owner = t.render(v, e.owner_id);
    lazy.on_event(kazoo_sim::channel_event{e.name, e.account_id, v.call_ids[e.leg], other,
                                           want.data.value("timestamp", std::int64_t{0}), owner,
                                           [tp, vp, k] { return json::parse(tp->render(*vp, k)); }});
  }
}

TEST(call_state, dom_free_path_answers_channels_and_cdrs_like_the_dom_path) {
  for (const auto& s : scenarios()) {
    SCOPED_TRACE(s.name);
    auto t = call_template::build(s, fixture(), acme, flavour::kzm).value();
    const probe p = probes[1];
    auto events = kazoo_sim::expand(s, fixture(), make_instance(p.seed, p.start_ms, flavour::kzm));
    auto v = t.instantiate(p.seed, p.start_ms);
    // Mid-call (live legs, some answered/on hold) and after the end (CDRs only).
    for (std::size_t upto : {events.size() / 2, events.size()}) {
      kazoo_sim::call_state dom, lazy;
      feed_both(t, v, events, upto, dom, lazy);
      EXPECT_EQ(lazy.live_legs(), dom.live_legs());
      EXPECT_EQ(lazy.channels(acme), dom.channels(acme));
      kazoo_sim::cdr_query q;
      q.created_from_g = 0;
      q.created_to_g = std::numeric_limits<std::int64_t>::max();
      q.page_size = 100;
      auto a = lazy.cdrs(acme, q);
      auto b = dom.cdrs(acme, q);
      EXPECT_EQ(a.rows, b.rows);
      EXPECT_EQ(lazy.cdr_count(), dom.cdr_count());
      if (!b.rows.empty()) {
        q.owner_id = b.rows.front()["owner_id"].get<std::string>();
        EXPECT_EQ(lazy.cdrs(acme, q).rows, dom.cdrs(acme, q).rows);
      }
    }
  }
}

TEST(hub, publish_serialized_marks_msg_id_in_every_frame_it_queues) {
  boost::asio::io_context ioc;
  kazoo_sim::hub h(ioc.get_executor(), {});
  kazoo_sim::ws_peer peer(ioc.get_executor());
  peer.state.auth_account_id = acme;
  // call.*.* plus CHANNEL_CREATE: two frames for a CREATE (one per matching binding, §1.4).
  for (const auto* b : {"call.*.*", "call.CHANNEL_CREATE.*"}) {
    auto list = std::get<std::vector<kazoo_sim::internal_binding>>(kazoo_sim::expand_binding(b, acme, {}));
    for (auto& x : list) peer.state.bindings.push_back(std::move(x));
  }
  h.attach(&peer);
  const std::string data = R"({"call_id":"a b@c","event_name":"CHANNEL_CREATE","msg_id":"1763766399999123"})";
  const auto at = data.find("1763766399999123");
  h.publish_serialized("CHANNEL_CREATE", acme, "a b@c", data, at);
  h.publish_serialized("CHANNEL_CREATE", acme, "a b@c", data);  // no slot: nothing to stamp
  ASSERT_EQ(peer.queue.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    const auto& f = peer.queue[k];
    auto frame = json::parse(*f.text);
    EXPECT_EQ(frame["data"], json::parse(data));
    EXPECT_EQ(frame["routing_key"], "call." + acme + ".CHANNEL_CREATE.a+b%40c");
    EXPECT_EQ(frame["name"], "CHANNEL_CREATE");
    if (k < 2) {
      ASSERT_NE(f.msg_id_at, std::string::npos);
      EXPECT_EQ(f.text->substr(f.msg_id_at, 16), "1763766399999123");
    } else {
      EXPECT_EQ(f.msg_id_at, std::string::npos);
    }
  }
  EXPECT_NE(json::parse(*peer.queue[0].text)["subscribed_key"], json::parse(*peer.queue[1].text)["subscribed_key"]);
  h.detach(&peer);
}

}  // namespace
