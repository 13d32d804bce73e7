#include "hub.hpp"

#include <algorithm>

#include "text_util.hpp"

namespace kazoo_sim {
namespace {

// A JSON string literal. Routing keys and event names (hex ids, A-Z, %XX-encoded Call-IDs) need no
// escaping: skip the DOM for them.
std::string quoted(const std::string& s) {
  bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!plain) return nlohmann::json(s).dump();
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

}  // namespace

hub::hub(asio::any_io_executor ex, hub_options opts) : opts_(opts), gate_(ex) {
  if (opts_.drop_after > 0) drop_at_ = opts_.drop_after;
}

void hub::attach(ws_peer* p) {
  peers_.insert(p);
  ++stats_.connections_total;
}

void hub::detach(ws_peer* p) { peers_.erase(p); }

std::size_t hub::subscriptions() const {
  std::size_t n = 0;
  for (const auto* p : peers_) n += p->state.bindings.size();
  return n;
}

void hub::enqueue(ws_peer& p, ws_frame f) {
  if (p.closing) return;
  if (opts_.max_queued > 0 && p.queue.size() >= opts_.max_queued) {
    ++stats_.frames_dropped;  // KZ43 load shedding: silently dropped (§1.7)
    return;
  }
  p.push(std::move(f));
}

void hub::send(ws_peer& p, std::string text) {
  enqueue(p, ws_frame{std::make_shared<const std::string>(std::move(text)), false, std::string::npos});
}

void hub::publish(const std::string& name, const std::string& account_id,
                  const std::string& call_id, const nlohmann::json& data) {
  publish_serialized(name, account_id, call_id, data.dump());
}

void hub::publish_serialized(const std::string& name, const std::string& account_id,
                             const std::string& call_id, const std::string& data_text,
                             std::size_t msg_id_at) {
  publish_encoded(name, account_id, peers_.empty() ? std::string() : encode_routing_segment(call_id),
                  data_text, msg_id_at);
}

void hub::publish_encoded(const std::string& name, const std::string& account_id,
                          const std::string& encoded, const std::string& data_text,
                          std::size_t msg_id_at) {
  ++stats_.events_published;
  if (peers_.empty()) {
    after_event_frames(0, name);
    return;
  }
  // "name":..,"routing_key":call.{ACCOUNT_ID}.{EVENT}.{ENCODED_CALL_ID},"data": (§1.4): the same for
  // every binding.
  std::string middle = R"("name":)";
  middle += quoted(name);
  middle += R"(,"routing_key":)";
  middle += quoted("call." + account_id + "." + name + "." + encoded);
  middle += R"(,"data":)";
  std::uint64_t sent = 0;
  // Copy: enqueue never detaches, but a drop below must not invalidate this loop.
  std::vector<ws_peer*> targets(peers_.begin(), peers_.end());
  for (auto* p : targets) {
    for (const auto& b : p->state.bindings) {
      if (!matches_call_event(b, account_id, name, encoded)) continue;
      if (b.frame_head.empty()) {
        b.frame_head = R"({"action":"event","subscribed_key":)" + quoted(b.client_binding) +
                       R"(,"subscription_key":)" + quoted(b.subscription_key) + ",";
      }
      // One frame per matching binding: overlapping bindings deliver duplicates (§1.4).
      std::string frame;
      frame.reserve(b.frame_head.size() + middle.size() + data_text.size() + 1);
      frame += b.frame_head;
      frame += middle;
      const auto data_at = frame.size();
      frame += data_text;
      frame += '}';
      enqueue(*p, ws_frame{std::make_shared<const std::string>(std::move(frame)), false,
                           msg_id_at == std::string::npos ? std::string::npos : data_at + msg_id_at});
      ++sent;
      if (opts_.garbage_every > 0 && ++garbage_counter_ % opts_.garbage_every == 0) {
        send_garbage(*p, garbage_counter_ / opts_.garbage_every);
      }
    }
  }
  stats_.frames_sent += sent;
  after_event_frames(sent, name);
}

void hub::after_event_frames(std::uint64_t n, const std::string& name) {
  if (drop_at_ > 0) {
    if (n >= drop_at_) {
      drop_at_ = 0;
      drop_all_after_flush();
      return;
    }
    drop_at_ -= n;
  }
  if (drop_on_answer_ && name == "CHANNEL_ANSWER") {
    drop_on_answer_ = false;
    drop_all_after_flush();
  }
}

void hub::drop_after(std::uint64_t events) { drop_at_ = events; }

void hub::drop_all() {
  ++stats_.drops;
  for (auto* p : peers_) {
    p->closing = true;
    p->queue.clear();
    p->wake.cancel();
    if (p->socket != nullptr && p->socket->is_open()) {
      // SO_LINGER 0: the close sends a TCP RST, no WebSocket close frame (a crashed node or a
      // load balancer reset looks like this to the client).
      boost::system::error_code ignored;
      p->socket->set_option(asio::socket_base::linger(true, 0), ignored);
      p->socket->close(ignored);
    }
  }
  gate_.poke();  // operations parked by a stall notice their socket is gone
}

void hub::drop_all_after_flush() {
  ++stats_.drops;
  for (auto* p : peers_) {
    p->closing = true;
    p->close_when_flushed = true;
    p->wake.cancel();
  }
}

void hub::inject_garbage() {
  for (auto* p : peers_) {
    for (std::uint64_t k = 0; k < 4; ++k) send_garbage(*p, k);
  }
}

void hub::send_garbage(ws_peer& p, std::uint64_t kind) {
  ++stats_.garbage_sent;
  std::string acct = p.state.auth_account_id.value_or("");
  switch (kind % 4) {
    case 0:  // invalid JSON
      enqueue(p, {std::make_shared<const std::string>(R"({"action":"event","name":"CHANNEL_CRE)"), false});
      break;
    case 1:  // a binary frame
      enqueue(p, {std::make_shared<const std::string>(std::string("\x00\xff\x13garbage\x80", 11)), true});
      break;
    case 2:  // an event without `data`
      enqueue(p, {std::make_shared<const std::string>(
                      R"({"action":"event","subscribed_key":"call.*.*","subscription_key":"call.)" +
                      acct + R"(.CHANNEL_CREATE.*","name":"CHANNEL_CREATE","routing_key":"call.)" +
                      acct + R"(.CHANNEL_CREATE.garbage"})"),
                  false});
      break;
    default:  // an unknown event name
      enqueue(p, {std::make_shared<const std::string>(
                      R"({"action":"event","subscribed_key":"call.*.*","subscription_key":"call.)" +
                      acct + R"(.CHANNEL_FOO.*","name":"CHANNEL_FOO","routing_key":"call.)" + acct +
                      R"(.CHANNEL_FOO.garbage","data":{"event_name":"CHANNEL_FOO","call_id":"garbage","custom_channel_vars":{"account_id":")" +
                      acct + R"("}}})"),
                  false});
      break;
  }
}

}  // namespace kazoo_sim
