#include "player.hpp"

#include <algorithm>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_sim {
namespace {

using kazoo_bridge::awaitable;
using kazoo_bridge::use_nothrow;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::int64_t scenario_length_ms(const scenario& s) {
  std::int64_t len = 0;
  if (auto ev = s.doc.find("events"); ev != s.doc.end() && ev->is_array()) {
    for (const auto& e : *ev) len = std::max<std::int64_t>(len, e.value("at_ms", std::int64_t{0}));
  }
  return len;
}

std::int64_t scenario_start_ms(std::int64_t now_ms, std::int64_t length_ms, double speed) {
  if (speed <= 1.0) return now_ms;
  return now_ms - static_cast<std::int64_t>(static_cast<double>(length_ms) * (1.0 - 1.0 / speed));
}

player::player(asio::any_io_executor ex, hub& h, call_state& calls, const fixture& fx,
               std::vector<scenario> scenarios, std::uint64_t seed,
               std::shared_ptr<spdlog::logger> log)
    : ex_(std::move(ex)),
      hub_(h),
      calls_(calls),
      fx_(fx),
      scenarios_(std::move(scenarios)),
      seed_(seed),
      log_(std::move(log)) {}

std::uint64_t player::next_seed() { return splitmix64(seed_ + counter_++); }

const scenario* player::find(const std::string& name) const {
  for (const auto& s : scenarios_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

kazoo_bridge::result<play_info> player::play(const play_request& r) {
  const auto* s = find(r.scenario);
  if (s == nullptr) return kazoo_bridge::errc::not_found;
  auto account_id = r.account_id.empty() ? fx_.accounts.front().id : r.account_id;
  if (fx_.find_account(account_id) == nullptr) return kazoo_bridge::errc::not_found;
  instance inst;
  inst.vars = r.vars;
  if (!r.as_user.empty()) {
    // Scenario files name their main user in vars.user; expand() renames a user when a var is
    // named like it ({"bob": "gina"} plays Bob's part with Gina).
    std::string main_user;
    if (auto v = s->doc.find("vars"); v != s->doc.end() && v->is_object()) {
      main_user = v->value("user", "");
    }
    if (!main_user.empty() && main_user != r.as_user) inst.vars[main_user] = r.as_user;
  }
  inst.account_id = account_id;
  inst.seed = next_seed();
  double speed = r.speed > 0 ? r.speed : 1.0;
  const auto now = kazoo_bridge::now_unix_ms();
  inst.start_unix_ms = scenario_start_ms(now, scenario_length_ms(*s), speed);
  inst.flavour_ = r.flavour_;
  inst.legacy_string_durations = r.legacy_string_durations;
  auto events = expand(*s, fx_, inst);
  play_info info;
  info.seed = inst.seed;
  for (const auto& e : events) {
    if (std::find(info.call_ids.begin(), info.call_ids.end(), e.call_id) == info.call_ids.end()) {
      info.call_ids.push_back(e.call_id);
    }
    auto send_ms = now + static_cast<std::int64_t>(
                             static_cast<double>(e.at_unix_ms - inst.start_unix_ms) / speed);
    if (e.name == "CHANNEL_ANSWER" && info.first_answer_unix_ms == 0) {
      info.first_answer_unix_ms = send_ms;
    }
    info.end_unix_ms = std::max(info.end_unix_ms, send_ms);
  }
  ++started_;
  ++live_;
  log_->info("play scenario={} account={} seed={} events={} speed={}", r.scenario, account_id,
             inst.seed, events.size(), speed);
  kazoo_bridge::spawn_logged(ex_, run_instance(std::move(events), now, inst.start_unix_ms, speed),
                             "play:" + r.scenario, log_);
  return info;
}

awaitable<bool> player::wait_until_ms(std::int64_t unix_ms) {
  auto delay = unix_ms - kazoo_bridge::now_unix_ms();
  if (delay <= 0 || stopping_) co_return !stopping_;
  asio::steady_timer timer(ex_);
  timers_.insert(&timer);
  timer.expires_after(std::chrono::milliseconds(delay));
  co_await timer.async_wait(use_nothrow);
  timers_.erase(&timer);
  co_return !stopping_;
}

awaitable<void> player::run_instance(std::vector<timed_event> events, std::int64_t now_ms,
                                     std::int64_t start_ms, double speed) {
  for (const auto& e : events) {
    auto at = now_ms + static_cast<std::int64_t>(static_cast<double>(e.at_unix_ms - start_ms) / speed);
    if (!co_await wait_until_ms(at)) break;
    calls_.on_event(e.name, e.account_id, e.data);
    hub_.publish(e.name, e.account_id, e.call_id, e.data);
  }
  --live_;
}

awaitable<void> player::run_sequence(std::vector<std::string> names, flavour f, double speed,
                                     bool legacy_string_durations) {
  for (const auto& name : names) {
    play_request r;
    r.scenario = name;
    r.flavour_ = f;
    r.speed = speed;
    r.legacy_string_durations = legacy_string_durations;
    auto info = play(r);
    if (!info) {
      log_->error("unknown scenario name={}", name);
      continue;
    }
    if (!co_await wait_until_ms(info->end_unix_ms + 50)) co_return;
  }
  log_->info("playback finished; idling");
}

awaitable<void> player::run_mix(double speed, std::int64_t pause_ms) {
  while (!stopping_) {
    for (auto f : {flavour::kz43, flavour::kzm}) {
      for (const auto& s : scenarios_) {
        play_request r;
        r.scenario = s.name;
        r.flavour_ = f;
        r.speed = speed;
        auto info = play(r);
        if (!info) continue;
        if (!co_await wait_until_ms(info->end_unix_ms + pause_ms)) co_return;
      }
    }
  }
}

void player::stop() {
  stopping_ = true;
  for (auto* t : timers_) t->cancel();
}

}  // namespace kazoo_sim
