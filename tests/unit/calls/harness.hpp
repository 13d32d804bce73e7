#pragma once
// Drives calls::tracker with scenarios expanded by the simulator library, through the real envelope and
// parse_frame(), the way the kazoo module will.

#include <kazoo_bridge/calls/calls.hpp>
#include <kazoo_sim/scenario.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace kazoo_bridge::calls::test {

inline const std::string acme = "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d";
inline const std::string globex = "1b2c3d4e5f60718293a4b5c6d7e8f901";
inline constexpr std::int64_t t0 = 1718000000000;  // 2024-06-10T06:13:20Z

inline const kazoo_sim::fixture& fixture() {
  static const auto f =
      kazoo_sim::load_fixture(std::string(KAZOO_BRIDGE_SOURCE_DIR) + "/tools/kazoo-sim/fixtures/account.json").value();
  return f;
}
inline const std::vector<kazoo_sim::scenario>& scenarios() {
  static const auto s =
      kazoo_sim::load_scenarios(std::string(KAZOO_BRIDGE_SOURCE_DIR) + "/tools/kazoo-sim/scenarios").value();
  return s;
}
inline const kazoo_sim::scenario& scenario(const std::string& name) {
  for (const auto& s : scenarios()) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no scenario " + name);
}

/// The Crossbar users+devices snapshot of a fixture account, as the kazoo module would build it.
inline std::shared_ptr<const directory> directory_of(const std::string& account_id) {
  auto d = std::make_shared<directory>();
  const auto* a = fixture().find_account(account_id);
  for (const auto& u : a->users) {
    user_info i;
    i.id = u.id;
    i.name = u.first_name + " " + u.last_name;
    i.extension = u.extension;
    i.extensions = {u.extension};
    i.email = u.email;
    i.admin = u.priv_level == "admin";
    d->users[u.id] = i;
  }
  for (const auto& dev : a->devices) d->devices[dev.id] = device_info{dev.id, dev.name, dev.owner_id};
  return d;
}

inline std::string user_id(const std::string& account_id, const std::string& username) {
  const auto* u = fixture().find_account(account_id)->find_user(username);
  return u ? u->id : std::string{"?" + username};
}

/// The §1.4 envelope the simulator sends for one event.
inline std::string envelope(const kazoo_sim::timed_event& e, const std::string& subscribed = "call.*.*") {
  nlohmann::json j = {{"action", "event"},
                      {"subscribed_key", subscribed},
                      {"subscription_key", "call." + e.account_id + ".*.*"},
                      {"name", e.name},
                      {"routing_key", kazoo_sim::routing_key(e)},
                      {"data", e.data}};
  return j.dump();
}

inline std::vector<kazoo_sim::timed_event> play(const std::string& name, std::uint64_t seed,
                                                kazoo_sim::flavour fl = kazoo_sim::flavour::kz43,
                                                bool legacy = false, const std::string& account = acme,
                                                std::map<std::string, std::string> vars = {},
                                                std::int64_t start = t0) {
  kazoo_sim::instance i;
  i.account_id = account;
  i.seed = seed;
  i.start_unix_ms = start;
  i.flavour_ = fl;
  i.legacy_string_durations = legacy;
  i.vars = std::move(vars);
  return kazoo_sim::expand(scenario(name), fixture(), i);
}

struct harness {
  tracker t;
  std::vector<lifecycle_event> events;
  std::vector<call_record> records;

  explicit harness(tracker_options o = {}) : t(o) {
    t.set_directory(acme, directory_of(acme));
    t.set_directory(globex, directory_of(globex));
  }
  /// Takes what one step produced, with the records of calls in progress as the pipeline flushes them.
  void collect(tracker_output& out, std::int64_t now = t0) {
    t.flush(now, out);
    for (auto& e : out.events) {
      // Tests read the payload as a hook receives it, `raw` included (and so check its text is JSON).
      e.payload = nlohmann::json::parse(payload_text(e));
      events.push_back(std::move(e));
    }
    for (auto& r : out.calls) records.push_back(std::move(r));
    out = {};
  }
  void feed_text(const std::string& text, std::int64_t now) {
    auto f = parse_frame(text);
    ASSERT_TRUE(f) << text;
    tracker_output out;
    t.on_event(*f, now, out);
    collect(out, now);
  }
  void feed(const kazoo_sim::timed_event& e) { feed_text(envelope(e), e.at_unix_ms); }
  void feed_all(const std::vector<kazoo_sim::timed_event>& evs) {
    for (const auto& e : evs) feed(e);
  }
  void tick(std::int64_t now) {
    tracker_output out;
    t.on_tick(now, out);
    collect(out, now);
  }
  std::vector<std::string> types() const {
    std::vector<std::string> v;
    for (const auto& e : events) v.push_back(e.type);
    return v;
  }
  std::vector<std::string> types_of(const std::string& call_id) const {
    std::vector<std::string> v;
    for (const auto& e : events) {
      if (e.call_id == call_id) v.push_back(e.type);
    }
    return v;
  }
  const call_record* last_record(const std::string& call_id) const {
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if (it->call_id == call_id) return &*it;
    }
    return nullptr;
  }
};

}  // namespace kazoo_bridge::calls::test
