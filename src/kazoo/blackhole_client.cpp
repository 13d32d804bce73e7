#include <kazoo_bridge/kazoo/blackhole_client.hpp>

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <kazoo_bridge/common/log.hpp>
#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::kazoo {
namespace {

std::string join_errors(const nlohmann::json& data) {
  std::string out;
  if (auto it = data.find("errors"); it != data.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!out.empty()) out += "; ";
      out += e.is_string() ? e.get<std::string>() : e.dump();
    }
  }
  return out;
}

double random01() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// The reasons parse_frame() gives, as a closed set: a label value must never come from the peer (an
// unknown event name would otherwise create one time series per name Kazoo, or an attacker, sends).
const std::vector<std::string>& malformed_reasons() {
  static const std::vector<std::string> r{"invalid JSON",       "not a JSON object", "binary frame",
                                          "event without data", "event without name", "unknown event name",
                                          "event without call_id", "missing action", "unknown action", "other"};
  return r;
}

std::string malformed_class(const std::string& reason) {
  for (const auto& r : malformed_reasons()) {
    if (reason.rfind(r, 0) == 0) return r;
  }
  return "other";
}

}  // namespace

const char* to_string(connection_state s) {
  switch (s) {
    case connection_state::disconnected: return "disconnected";
    case connection_state::connecting: return "connecting";
    case connection_state::subscribing: return "subscribing";
    case connection_state::subscribed: return "subscribed";
  }
  return "unknown";
}

blackhole_client::blackhole_client(asio::any_io_executor ex, ingest_options o, std::shared_ptr<asio::ssl::context> tls,
                                   token_source& tokens, crossbar_client& crossbar, ingest_channel& out,
                                   metrics_registry& metrics, std::shared_ptr<spdlog::logger> log)
    : ex_(ex),
      opts_(std::move(o)),
      tls_(std::move(tls)),
      tokens_(tokens),
      crossbar_(crossbar),
      out_(out),
      metrics_(metrics),
      log_(std::move(log)),
      policy_(opts_.backoff, opts_.stable_after),
      timer_(ex),
      frames_received_(metrics.make_counter("kazoo_bridge_kazoo_frames_total", "WebSocket frames received from Kazoo blackhole.")),
      reconnects_(metrics.make_counter("kazoo_bridge_kazoo_reconnects_total", "Reconnections to Kazoo blackhole.")),
      reconciliations_(metrics.make_counter("kazoo_bridge_kazoo_reconciliations_total",
                                            "Crossbar reconciliations (channels + CDRs) after a (re)connect.")),
      connected_(metrics.make_gauge("kazoo_bridge_kazoo_connected",
                                    "1 when every account is subscribed on the blackhole WebSocket.")),
      queue_depth_(metrics.make_gauge("kazoo_bridge_ingest_queue_depth",
                                      "Kazoo items waiting between ingest and the call tracker.")) {
  for (const char* s : {"disconnected", "connecting", "subscribing", "subscribed"}) {
    metrics_.make_gauge("kazoo_bridge_kazoo_connection_state", "Blackhole connection state (1 = current).",
                        {{"state", s}});
  }
  // Every series exists from the start (at 0), so dashboards and alerts see them before the first bad frame.
  for (const auto& r : malformed_reasons()) {
    metrics_.make_counter("kazoo_bridge_kazoo_malformed_frames_total", "Frames from Kazoo that could not be used.",
                          {{"reason", r}});
  }
  set_state(connection_state::disconnected);
}

void blackhole_client::set_state(connection_state s) {
  state_ = s;
  for (auto st : {connection_state::disconnected, connection_state::connecting, connection_state::subscribing,
                  connection_state::subscribed}) {
    metrics_.make_gauge("kazoo_bridge_kazoo_connection_state", "Blackhole connection state (1 = current).",
                        {{"state", to_string(st)}})
        .set(st == s ? 1 : 0);
  }
  connected_.set(s == connection_state::subscribed ? 1 : 0);
}

void blackhole_client::count_malformed(const std::string& detail, const std::string& sample) {
  const auto reason = malformed_class(detail);
  metrics_.make_counter("kazoo_bridge_kazoo_malformed_frames_total", "Frames from Kazoo that could not be used.",
                        {{"reason", reason}})
      .inc();
  // Logged once per reason with a sample, so a flood of garbage cannot flood the journal.
  if (std::find(malformed_seen_.begin(), malformed_seen_.end(), reason) != malformed_seen_.end()) return;
  malformed_seen_.push_back(reason);
  auto shown = redact_in(sample.substr(0, 200), current_token_);
  log_->warn("malformed frame from kazoo reason=\"{}\" sample={:?} (further ones of this kind are only counted)",
             detail, shown);
}

awaitable<void> blackhole_client::run() {
  auto u = net::parse_url(opts_.websocket_url);
  if (!u) {
    log_->error("invalid kazoo.websocket_url: {}", u.error().message());
    co_return;
  }
  while (!stopping_) {
    auto why = co_await session(*u);
    ws_.reset();
    current_token_.clear();
    set_state(connection_state::disconnected);
    if (stopping_) break;
    reconnects_.inc();
    auto delay = policy_.on_disconnected(now_unix_ms(), random01());
    log_->warn("kazoo blackhole connection ended reason=\"{}\"; reconnecting in {} ms (attempt {})", why.message(),
               delay.count(), policy_.attempt());
    timer_.expires_after(delay);
    co_await timer_.async_wait(use_nothrow);
  }
  log_->info("kazoo ingest stopped");
}

void blackhole_client::stop() {
  stopping_ = true;
  timer_.cancel();
  if (ws_) ws_->close();
}

awaitable<error_code> blackhole_client::session(net::url u) {
  set_state(connection_state::connecting);
  const auto id = ++session_id_;
  // A new socket needs a currently valid token: the server checks it on the first message only (§1.7).
  auto tok = co_await tokens_.fresh();
  if (!tok) {
    if (tok.error() == errc::auth_failed) {
      log_->error("kazoo rejected the API key (PUT /v2/api_auth); check kazoo.api_key");
    }
    co_return tok.error();
  }
  if (stopping_) co_return make_error_code(errc::closed);
  current_token_ = tok->token;
  accounts_ = opts_.accounts.empty() ? std::vector<std::string>{tok->account_id} : opts_.accounts;

  ws_ = std::make_unique<net::ws_client>(ex_, tls_, opts_.ws);
  if (auto c = co_await ws_->connect(u); !c) co_return c.error();
  if (stopping_) co_return make_error_code(errc::closed);
  log_->info("kazoo blackhole connected url={}://{}:{}{}", u.scheme, u.host, u.port, u.target);

  set_state(connection_state::subscribing);
  subscription_book book;
  // One subscribe per account and binding, all sent before any reply is read; the server answers each.
  for (const auto& account : accounts_) {
    for (const auto& binding : bindings_for(opts_.qubicle)) {
      auto rid = fmt::format("kb-{}-{}", id, ++request_seq_);
      book.sent(rid, account, binding);
      auto message = subscribe_message(tok->token, account, binding, rid);
      if (auto w = co_await ws_->write(std::move(message)); !w) co_return w.error();
    }
  }
  const auto subscribe_deadline = now_unix_ms() + opts_.subscribe_timeout.count();

  for (;;) {
    auto m = co_await ws_->read();
    if (!m) co_return m.error();
    const auto now = now_unix_ms();
    frames_received_.inc();
    if (state_ == connection_state::subscribing && now > subscribe_deadline) {
      log_->error("kazoo did not answer every subscribe within {} ms", opts_.subscribe_timeout.count());
      co_return make_error_code(errc::timeout);
    }
    if (m->binary) {
      count_malformed("binary frame", m->text);
      continue;
    }
    std::string reason;
    auto f = calls::parse_frame(m->text, &reason);
    if (!f) {
      count_malformed(reason.empty() ? f.error().message() : reason, m->text);
      continue;
    }
    if (f->kind == calls::frame_kind::reply) {
      auto r = book.on_reply(f->request_id, f->status, join_errors(f->data));
      switch (r.what) {
        case subscription_book::outcome::subscribed:
          log_->info("kazoo subscribed account={} binding={}", r.account_id, r.binding);
          break;
        case subscription_book::outcome::not_offered:
          log_->warn("kazoo does not offer binding={} account={} ({}); continuing without it", r.binding,
                     r.account_id, r.error);
          break;
        case subscription_book::outcome::failed:
          // Kazoo echoes the token in "failed to authenticate token {TOKEN}" (§1.3): never log it.
          log_->error("kazoo refused subscribe account={} binding={} error=\"{}\"", r.account_id, r.binding,
                      redact_in(r.error, tok->token));
          co_return make_error_code(errc::protocol_error);
        case subscription_book::outcome::unknown_request:
          if (f->status != "success") {
            log_->warn("kazoo error reply request_id={} error=\"{}\"", f->request_id,
                       redact_in(join_errors(f->data), tok->token));
          }
          break;
      }
      if (state_ == connection_state::subscribing && book.complete()) {
        set_state(connection_state::subscribed);
        policy_.on_subscribed(now);
        if (on_subscribed) on_subscribed(accounts_);
        spawn_logged(ex_, reconcile(accounts_, id), "kazoo-reconcile", log_);
      }
      continue;
    }
    // Back-pressure: when the tracker falls behind, this suspends and we stop reading the socket.
    // Named first: GCC 12 destroys a braced temporary inside a co_await expression twice.
    ingest_item item{event_item{std::move(*f), now}};
    queue_depth_.add(1);
    auto [ec] = co_await out_.async_send(error_code{}, std::move(item), use_nothrow);
    if (ec) {
      queue_depth_.add(-1);
      co_return make_error_code(errc::closed);
    }
  }
}

awaitable<void> blackhole_client::reconcile(std::vector<std::string> accounts, std::uint64_t session_id) {
  // Blackhole has no replay (§1.7): what happened while we were away comes from Crossbar (§5.8).
  for (const auto& account : accounts) {
    if (before_reconcile) co_await before_reconcile(account);
    for (int attempt = 0; attempt < 3 && !stopping_ && session_id == session_id_; ++attempt) {
      if (attempt > 0) {
        asio::steady_timer wait(ex_, std::chrono::milliseconds(500 * attempt));
        co_await wait.async_wait(use_nothrow);
      }
      auto tok = co_await tokens_.current();
      if (!tok) continue;
      reconcile_item item;
      item.account_id = account;
      item.taken_at_ms = now_unix_ms();
      // Arguments are named locals: GCC 12 mishandles temporaries inside co_await expressions.
      auto channels_path = fmt::format("/accounts/{}/channels", account);
      auto live = co_await crossbar_.get_all(channels_path, tok->token);
      if (!live) {
        log_->warn("kazoo reconcile: channels failed account={} error={}", account, live.error().message());
        if (live.error() == errc::auth_expired) tokens_.invalidate();
        continue;
      }
      for (const auto& row : *live) item.live.push_back(calls::live_channel_from_json(row, account));
      const auto last = feed_position_ms ? feed_position_ms() : 0;
      if (last > 0) {  // on a first start there is nothing to catch up on
        auto from_s = (last - opts_.cdr_overlap.count()) / 1000;
        auto path = cdrs_path(account, from_s, item.taken_at_ms / 1000 + 1);
        auto cdrs = co_await crossbar_.get_all(path, tok->token);
        if (!cdrs) {
          log_->warn("kazoo reconcile: cdrs failed account={} error={}", account, cdrs.error().message());
          if (cdrs.error() == errc::auth_expired) tokens_.invalidate();
          continue;
        }
        for (const auto& row : *cdrs) item.cdrs.push_back(calls::cdr_from_json(row));
      }
      log_->info("kazoo reconcile account={} live_channels={} cdrs={}", account, item.live.size(), item.cdrs.size());
      reconciliations_.inc();
      ingest_item wrapped{std::move(item)};
      queue_depth_.add(1);
      auto [ec] = co_await out_.async_send(error_code{}, std::move(wrapped), use_nothrow);
      if (ec) queue_depth_.add(-1);
      break;
    }
  }
}

}  // namespace kazoo_bridge::kazoo
