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

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

load_generator::load_generator(asio::any_io_executor ex, hub& h, call_state& calls,
                               const fixture& fx, const std::vector<scenario>& scenarios,
                               load_options opts, std::shared_ptr<spdlog::logger> log)
    : timer_(ex), hub_(h), calls_(calls), fx_(fx), opts_(std::move(opts)), log_(std::move(log)),
      rng_(opts_.seed) {
  for (const auto& s : scenarios) {
    if (opts_.scenario.empty() || s.name == opts_.scenario) pool_.push_back(&s);
  }
  if (opts_.account_id.empty() && !fx_.accounts.empty()) opts_.account_id = fx_.accounts.front().id;
}

void load_generator::start_call(std::int64_t now_ms) {
  if (pool_.empty()) return;
  const auto* s = pool_[std::uniform_int_distribution<std::size_t>(0, pool_.size() - 1)(rng_)];
  instance inst;
  inst.account_id = opts_.account_id;
  // Seed = (run seed, call number): unique, reproducible Call-IDs per instance.
  inst.seed = opts_.seed * 1000003ULL + next_call_;
  inst.start_unix_ms = scenario_start_ms(now_ms, scenario_length_ms(*s), opts_.speed);
  inst.flavour_ = (next_call_ % 2 == 0) ? flavour::kz43 : flavour::kzm;
  auto id = next_call_++;
  auto& call = active_[id];
  call.events = expand(*s, fx_, inst);
  call.remaining = call.events.size();
  for (std::size_t i = 0; i < call.events.size(); ++i) {
    auto offset = static_cast<double>(call.events[i].at_unix_ms - inst.start_unix_ms) / opts_.speed;
    queue_.push(pending{now_ms + static_cast<std::int64_t>(offset), id, i});
  }
  if (call.remaining == 0) active_.erase(id);
}

void load_generator::send_due(std::int64_t now_ms) {
  while (!queue_.empty() && queue_.top().at_ms <= now_ms) {
    auto p = queue_.top();
    queue_.pop();
    auto it = active_.find(p.call);
    if (it == active_.end()) continue;
    auto& e = it->second.events[p.index];
    // msg_id of channel events is FreeSWITCH's Event-Date-Timestamp (Unix µs) (§2.3): here the
    // real send time, so a consumer can measure send -> commit latency.
    if (e.name.rfind("CHANNEL_", 0) == 0) e.data["msg_id"] = std::to_string(now_us());
    calls_.on_event(e.name, e.account_id, e.data);
    hub_.publish(e.name, e.account_id, e.call_id, e.data);
    ++events_sent_;
    e.data = nlohmann::json();  // release memory early
    if (--it->second.remaining == 0) {
      active_.erase(it);
      ++calls_completed_;
    }
  }
}

awaitable<void> load_generator::run() {
  running_ = true;
  const auto start = kazoo_bridge::now_unix_ms();
  const auto end = start + static_cast<std::int64_t>(opts_.duration_s * 1000.0);
  log_->info("load start calls={} rate={}/s duration={}s scenarios={}", opts_.max_calls,
             opts_.calls_per_s, opts_.duration_s, pool_.size());
  std::uint64_t due_total = 0;
  while (!stopping_) {
    auto now = kazoo_bridge::now_unix_ms();
    if (now >= end) break;
    // Calls due so far at a constant rate; skipped when max_calls are in flight.
    auto due = static_cast<std::uint64_t>(static_cast<double>(now - start) * opts_.calls_per_s / 1000.0) + 1;
    while (due_total < due) {
      ++due_total;
      if (active_.size() >= opts_.max_calls) {
        ++calls_skipped_;
        continue;
      }
      start_call(now);
    }
    send_due(now);
    // Sleep until the next event, the next call start or the end, whichever is first.
    auto next_call_ms = start + static_cast<std::int64_t>(static_cast<double>(due_total) * 1000.0 /
                                                          opts_.calls_per_s);
    auto wake = std::min(end, next_call_ms);
    if (!queue_.empty()) wake = std::min(wake, queue_.top().at_ms);
    auto delay = wake - kazoo_bridge::now_unix_ms();
    if (delay > 0) {
      timer_.expires_after(std::chrono::milliseconds(delay));
      co_await timer_.async_wait(use_nothrow);
    } else {
      // Behind schedule: still let the WebSocket writers and the HTTP API run between rounds, or the
      // generator starves the very connections it feeds (and /sim/stats stops answering).
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
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
                        {"load_calls_skipped", calls_skipped_}};
}

}  // namespace kazoo_sim
