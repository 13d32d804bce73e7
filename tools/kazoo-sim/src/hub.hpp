#pragma once
/// The blackhole fan-out: every connected WebSocket session registers a ws_peer here; events are
/// serialized once and routed to the sessions whose bindings match (one frame per matching
/// binding, reference/kazoo.md §1.4), and the fault modes act on every session at once.
///
/// Thread: I/O thread only. Lifetime: outlives every ws_peer (ws_server detaches them).
/// Cancellation: none of its own; drop_all() closes sockets, the sessions then end.
/// Errors: none (a full session queue drops frames, as KZ43 does with max_queued_messages).

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include <kazoo_bridge/common/asio.hpp>
#include <nlohmann/json.hpp>

#include "bh_protocol.hpp"
#include "stallable_stream.hpp"

namespace kazoo_sim {

struct ws_frame {
  std::shared_ptr<const std::string> text;
  bool binary = false;
  /// Offset of the first digit of a channel event's msg_id in `text`, or npos. The writer puts the
  /// real send time there (Unix µs, reference/kazoo.md §2.3) just before the frame goes to the socket,
  /// so a consumer's send -> commit latency does not include this simulator's own queue.
  std::size_t msg_id_at = std::string::npos;
};

/// One WebSocket session as the hub sees it (owned by the session coroutine).
struct ws_peer {
  explicit ws_peer(asio::any_io_executor ex) : wake(ex) {}
  bh_session state;
  std::deque<ws_frame> queue;
  asio::steady_timer wake;                      ///< cancelled to wake the writer
  kazoo_bridge::tcp::socket* socket = nullptr;  ///< lowest layer, for the drop fault
  bool closing = false;
  bool close_when_flushed = false;  ///< drop fault after N events: send what is queued, then close

  void push(ws_frame f) {
    queue.push_back(std::move(f));
    wake.cancel();
  }
};

struct hub_options {
  std::size_t max_queued = 0;        ///< KZ43 drops beyond 50 queued messages; 0 = unlimited (KZM)
  std::uint64_t drop_after = 0;      ///< drop every socket after this many event frames (one-shot)
  std::uint64_t garbage_every = 0;   ///< insert one garbage frame after every N event frames
};

struct hub_stats {
  std::uint64_t events_published = 0;   ///< events handed to the hub
  std::uint64_t frames_sent = 0;        ///< event frames queued to sessions (duplicates count)
  std::uint64_t frames_dropped = 0;     ///< slow-consumer drops
  std::uint64_t garbage_sent = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t drops = 0;              ///< drop faults executed
};

class hub {
 public:
  hub(asio::any_io_executor ex, hub_options opts);

  stall_gate& gate() { return gate_; }

  void attach(ws_peer* p);
  void detach(ws_peer* p);

  /// Sends one event to every matching binding; `data` is serialized once.
  void publish(const std::string& name, const std::string& account_id, const std::string& call_id,
               const nlohmann::json& data);
  /// Same with `data` already serialized (load mode). `msg_id_at`: offset of msg_id's first digit
  /// in `data_text` (npos: none), stamped with the send time by the writer (ws_frame::msg_id_at).
  void publish_serialized(const std::string& name, const std::string& account_id,
                          const std::string& call_id, const std::string& data_text,
                          std::size_t msg_id_at = std::string::npos);
  /// Same with the Call-ID already encoded for the routing key (encode_routing_segment, §1.4).
  void publish_encoded(const std::string& name, const std::string& account_id,
                       const std::string& encoded_call_id, const std::string& data_text,
                       std::size_t msg_id_at);

  /// Queues a plain reply frame to one session (honours max_queued like Kazoo).
  void send(ws_peer& p, std::string text);

  // Faults (reference/kazoo.md §1.7 for what real failures look like)
  void drop_all();                        ///< abrupt close (TCP RST) of every session
  /// Stops queueing to every session and closes each one (TCP FIN, no WebSocket close frame)
  /// once the frames already queued are written: the client sees exactly what came before.
  void drop_all_after_flush();
  void drop_after(std::uint64_t events);  ///< one-shot, counted from now
  void drop_on_next_answer() { drop_on_answer_ = true; }
  void stall() { gate_.stall(); }
  void resume() { gate_.resume(); }
  void inject_garbage();                  ///< the four garbage kinds, once, to every session
  void garbage_every(std::uint64_t n) { opts_.garbage_every = n; }

  const hub_stats& stats() const { return stats_; }
  std::size_t connections() const { return peers_.size(); }
  std::size_t subscriptions() const;
  bool stalled() const { return gate_.stalled(); }

 private:
  void enqueue(ws_peer& p, ws_frame f);
  void send_garbage(ws_peer& p, std::uint64_t kind);
  void after_event_frames(std::uint64_t n, const std::string& name);

  hub_options opts_;
  stall_gate gate_;
  std::set<ws_peer*> peers_;
  hub_stats stats_;
  std::uint64_t drop_at_ = 0;
  bool drop_on_answer_ = false;
  std::uint64_t garbage_counter_ = 0;
};

}  // namespace kazoo_sim
