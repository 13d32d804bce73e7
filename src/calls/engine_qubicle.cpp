// Qubicle queue events (reference/kazoo.md §4.3): the commercial call center publishes queue `join`
// (the caller entered a queue), `delivered` (routed to a recipient, i.e. an agent took it) and `leave`
// (left the queue, with a reason) on the `qubicle.queue` binding. Their exact `data` fields are not
// published (§9), so the caller's Call-ID and the agent are looked up under the spellings Kazoo uses
// elsewhere (call_id / member_call_id; recipient_id / agent_id / owner_id). A queue event for a call we do
// not track is ignored: the call's own channel events create it.

#include "calls/engine.hpp"

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::calls::detail {
namespace {

std::string first_of(const nlohmann::json& d, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (auto v = jstr(d, k); !v.empty()) return v;
  }
  return {};
}

std::string caller_call_id(const nlohmann::json& d) {
  if (auto id = first_of(d, {"call_id", "member_call_id", "caller_call_id"}); !id.empty()) return id;
  for (const char* nested : {"session", "call", "member"}) {
    if (auto it = d.find(nested); it != d.end() && it->is_object()) {
      if (auto id = first_of(*it, {"call_id", "member_call_id"}); !id.empty()) return id;
    }
  }
  return {};
}

// A `leave` that is not the call being handed to an agent is an abandonment (caller hung up, timed out,
// pressed out); Qubicle reports the delivery separately.
bool leave_means_answered(const std::string& reason) {
  return reason == "delivered" || reason == "answered" || reason == "connected" || reason == "handled";
}

}  // namespace

void engine::on_qubicle(const frame& f, std::int64_t now_ms, tracker_output& out) {
  const auto& d = f.data;
  if (!d.is_object() || f.account_id.empty()) return;
  const auto event = f.name.substr(f.name.rfind('.') + 1);
  if (!f.name.starts_with("qubicle.queue.") && !f.name.starts_with("qubicle.session.")) return;
  const auto call_id = caller_call_id(d);
  if (call_id.empty()) return;  // queue create/delete/stats: nothing about a call
  auto* c = call_of_leg(f.account_id, call_id);
  if (!c || c->ended || !c->started) return;

  step s{out, now_ms, f.data_text ? nullptr : &d, f.data_text};
  auto t = now_ms;
  if (auto ts = jint(d, "event_timestamp", 0); ts > gregorian_unix_offset_s) t = gregorian_to_unix_s(ts) * 1000;
  if (auto q = first_of(d, {"queue_id", "join_queue_id"}); !q.empty()) c->queue_id = q;

  if ((event == "join" || event == "join_queue") && !c->queue_entered) {
    c->queue_entered = true;
    emit(*c, s, "call.queue.entered", nullptr, t, "qubicle");
  } else if (event == "delivered" && !c->queue_answered) {
    c->queue_entered = true;
    c->queue_answered = true;
    emit(*c, s, "call.queue.answered", nullptr, t, "qubicle", first_of(d, {"recipient_id", "agent_id", "owner_id"}));
  } else if (event == "leave" && c->queue_entered && !c->queue_answered &&
             !leave_means_answered(first_of(d, {"reason", "leave_reason"}))) {
    c->queue_answered = true;  // the queue's outcome is told: no second abandoned at the end of the call
    emit(*c, s, "call.queue.abandoned", nullptr, t, {});
  }
  touch(s, *c);
  finish(s);
}

}  // namespace kazoo_bridge::calls::detail
