#include <kazoo_bridge/calls/tracker.hpp>

#include "calls/engine.hpp"

namespace kazoo_bridge::calls {

tracker::tracker(tracker_options o) : engine_(std::make_unique<detail::engine>(o)) {}
tracker::~tracker() = default;
tracker::tracker(tracker&&) noexcept = default;
tracker& tracker::operator=(tracker&&) noexcept = default;

void tracker::set_directory(std::string account_id, std::shared_ptr<const directory> d) {
  engine_->set_directory(std::move(account_id), std::move(d));
}
void tracker::on_event(const frame& f, std::int64_t now_ms, tracker_output& out) { engine_->on_event(f, now_ms, out); }
void tracker::on_tick(std::int64_t now_ms, tracker_output& out) { engine_->on_tick(now_ms, out); }
void tracker::reconcile(std::string account_id, const std::vector<live_channel>& live, const std::vector<cdr>& cdrs,
                        std::int64_t now_ms, tracker_output& out) {
  engine_->reconcile(account_id, live, cdrs, now_ms, out);
}
void tracker::flush(std::int64_t now_ms, tracker_output& out) { engine_->flush(now_ms, out); }
void tracker::restore(const call_record& r) { engine_->restore(r); }
void tracker::remember_ended(const std::string& account_id, const std::string& call_id, std::int64_t now_ms) {
  engine_->remember_ended(account_id, call_id, now_ms);
}
std::size_t tracker::active_calls() const { return engine_->active_calls(); }

}  // namespace kazoo_bridge::calls
