#include "load_generator.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/post.hpp>

#include <kazoo_bridge/common/time.hpp>

#include "player.hpp"

namespace kazoo_sim {
namespace {

using kazoo_bridge::awaitable;
using kazoo_bridge::use_nothrow;

}  // namespace

load_generator::load_generator(asio::any_io_executor ex, hub& h, call_state& calls,
                               const fixture& fx, const std::vector<scenario>& scenarios,
                               load_options opts, std::shared_ptr<spdlog::logger> log)
    : timer_(ex), hub_(h), calls_(calls), fx_(fx), opts_(std::move(opts)), log_(std::move(log)),
      rng_(opts_.seed),
      arrivals_(opts_.arrivals, opts_.calls_per_s, opts_.seed) {
  if (opts_.account_id.empty() && !fx_.accounts.empty()) opts_.account_id = fx_.accounts.front().id;
  for (const auto& s : scenarios) {
    if (!opts_.scenario.empty() && s.name != opts_.scenario) continue;
    pool_entry e;
    e.s = &s;
    e.length_ms = scenario_length_ms(s);
    for (auto f : {flavour::kz43, flavour::kzm}) {
      std::string why;
      auto t = call_template::build(s, fx_, opts_.account_id, f, &why);
      if (!t) {
        log_->warn("load scenario={} flavour={} not templated ({}): expanded per call", s.name,
                   f == flavour::kz43 ? "kz43" : "kzm", why);
        continue;
      }
      (f == flavour::kz43 ? e.kz43 : e.kzm) = std::make_shared<const call_template>(std::move(*t));
    }
    pool_.push_back(std::move(e));
  }
}

void load_generator::start_call(std::int64_t now_ms) {
  if (pool_.empty()) return;
  const auto& p = pool_[std::uniform_int_distribution<std::size_t>(0, pool_.size() - 1)(rng_)];
  // Seed = (run seed, call number): unique, reproducible Call-IDs per instance.
  const std::uint64_t seed = opts_.seed * 1000003ULL + next_call_;
  const auto start_ms = scenario_start_ms(now_ms, p.length_ms, opts_.speed);
  const auto f = (next_call_ % 2 == 0) ? flavour::kz43 : flavour::kzm;
  auto tmpl = f == flavour::kz43 ? p.kz43 : p.kzm;
  if (!tmpl) {
    instance inst;
    inst.account_id = opts_.account_id;
    inst.seed = seed;
    inst.start_unix_ms = start_ms;
    inst.flavour_ = f;
    tmpl = std::make_shared<const call_template>(call_template::literal(expand(*p.s, fx_, inst), inst));
    ++calls_expanded_;
  }
  auto id = next_call_++;
  const auto& events = tmpl->events();
  if (events.empty()) return;
  auto& call = active_[id];
  call.values = std::make_shared<const call_values>(tmpl->instantiate(seed, start_ms));
  call.tmpl = std::move(tmpl);
  call.remaining = events.size();
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto offset = static_cast<double>(events[i].at_ms) / opts_.speed;
    queue_.push(pending{now_ms + static_cast<std::int64_t>(offset), id, i});
  }
}

bool load_generator::send_due(std::int64_t now_ms) {
  // A bounded round: the writers get the loop back after this many events.
  constexpr std::size_t round = 256;
  for (std::size_t n = 0; !queue_.empty() && queue_.top().at_ms <= now_ms; ++n) {
    if (n == round) return true;
    auto p = queue_.top();
    queue_.pop();
    auto it = active_.find(p.call);
    if (it == active_.end()) continue;
    const auto& call = it->second;
    const auto& e = call.tmpl->events()[p.index];
    const auto& call_id = call.values->call_ids[e.leg];
    std::size_t msg_id_at = std::string::npos;
    auto text = call.tmpl->render(*call.values, p.index, &msg_id_at);
    if (e.channel) {
      // Crossbar's /channels and /cdrs follow the WebSocket; their rows are built from the event's
      // data only when asked for (a daemon reconciling after a reconnect, §5.3).
      std::int64_t ts_g = 0;
      std::string owner;
      if (e.name == "CHANNEL_DESTROY") {
        const auto us = call.values->start_unix_ms * 1000 + e.event_offset_us;
        const auto unix_s = call.tmpl->event_flavour() == flavour::kzm ? (us + 999999) / 1000000 : us / 1000000;
        ts_g = kazoo_bridge::unix_to_gregorian_s(unix_s);
        owner = call.tmpl->render(*call.values, e.owner_id);
      }
      auto other = e.other_leg_call_id.pieces.size() == 1 && e.other_leg_call_id.pieces[0].literal.empty()
                       ? std::string()
                       : call.tmpl->render(*call.values, e.other_leg_call_id);
      calls_.on_event(channel_event{e.name, e.account_id, call_id, other, ts_g, owner,
                                    [t = call.tmpl, v = call.values, i = p.index] {
                                      return nlohmann::json::parse(t->render(*v, i));
                                    }});
    }
    // msg_id of channel events is FreeSWITCH's Event-Date-Timestamp (Unix µs) (§2.3): the writer
    // stamps the real send time at msg_id_at.
    hub_.publish_encoded(e.name, e.account_id, call.values->encoded_call_ids[e.leg], text, msg_id_at);
    ++events_sent_;
    if (--it->second.remaining == 0) {
      active_.erase(it);
      ++calls_completed_;
    }
  }
  return false;
}

awaitable<void> load_generator::run() {
  running_ = true;
  const auto start = kazoo_bridge::now_unix_ms();
  const auto end = start + static_cast<std::int64_t>(opts_.duration_s * 1000.0);
  log_->info("load start calls={} rate={}/s arrivals={} duration={}s scenarios={}", opts_.max_calls,
             opts_.calls_per_s, opts_.arrivals == arrival_kind::poisson ? "poisson" : "uniform", opts_.duration_s,
             pool_.size());
  while (!stopping_) {
    auto now = kazoo_bridge::now_unix_ms();
    if (now >= end) break;
    // Calls due so far (constant rate or Poisson); skipped when max_calls are in flight.
    while (static_cast<double>(now - start) >= arrivals_.next_ms()) {
      arrivals_.take();
      if (active_.size() >= opts_.max_calls) {
        ++calls_skipped_;
        continue;
      }
      start_call(now);
    }
    if (send_due(now)) {
      // Behind schedule: let the WebSocket writers and the HTTP API run between rounds, or the
      // generator starves the very connections it feeds (and /sim/stats stops answering).
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      continue;
    }
    // Everything due up to `now` is out: sleep until the next event, the next call start or the
    // end, and at least until the next millisecond (the schedule's resolution). Without that floor
    // a wake-up rounded to the current millisecond turns into a busy loop until the clock ticks.
    auto next_call_ms = start + static_cast<std::int64_t>(arrivals_.next_ms());
    auto wake = std::min(end, next_call_ms);
    if (!queue_.empty()) wake = std::min(wake, queue_.top().at_ms);
    const auto current = kazoo_bridge::now_unix_ms();
    if (wake > now && wake <= current) {  // became due while this round was sending
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      continue;
    }
    auto delay = std::max<std::int64_t>(1, wake - current);
    timer_.expires_after(std::chrono::milliseconds(delay));
    co_await timer_.async_wait(use_nothrow);
  }
  running_ = false;
  log_->info("load done events={} calls_started={} calls_completed={} skipped={}", events_sent_,
             next_call_, calls_completed_, calls_skipped_);
}

void load_generator::stop() {
  stopping_ = true;
  timer_.cancel();
}

nlohmann::json load_generator::stats() const {
  return nlohmann::json{{"load_running", running_},
                        {"load_events_sent", events_sent_},
                        {"load_calls_started", next_call_},
                        {"load_calls_live", active_.size()},
                        {"load_calls_completed", calls_completed_},
                        {"load_calls_skipped", calls_skipped_},
                        {"load_calls_expanded", calls_expanded_}};
}

}  // namespace kazoo_sim
