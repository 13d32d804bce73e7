#include "api_server.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <kazoo_bridge/common/time.hpp>

#include "envelope.hpp"
#include "text_util.hpp"

namespace kazoo_sim {
namespace {

using kazoo_bridge::awaitable;
using kazoo_bridge::use_nothrow;
using nlohmann::json;
namespace beast = boost::beast;

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    auto eq = part.find('=');
    if (!part.empty()) {
      out[url_decode(part.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : url_decode(part.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

api_server::api_server(asio::any_io_executor ex, const kazoo_bridge::tcp::endpoint& listen,
                       api_context ctx, std::shared_ptr<spdlog::logger> log)
    : acceptor_(ex, listen), ctx_(std::move(ctx)), log_(std::move(log)), rng_(std::random_device{}()) {
  node_ = random_hex(rng_, 22);
}

awaitable<void> api_server::run() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      log_->warn("api accept failed ec={}", ec.message());
      continue;
    }
    {
      // Crossbar runs on Cowboy/Ranch too: nodelay by default (see ws_server.cpp).
      boost::system::error_code nd_ec;
      socket.set_option(kazoo_bridge::tcp::no_delay(true), nd_ec);
    }
    kazoo_bridge::spawn_logged(acceptor_.get_executor(), run_session(std::move(socket)),
                               "api_session", log_);
  }
}

void api_server::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

awaitable<void> api_server::run_session(kazoo_bridge::tcp::socket socket) {
  boost::system::error_code ep_ec;
  auto remote = socket.remote_endpoint(ep_ec);
  std::string ip = ep_ec ? "?" : remote.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    // Crossbar's request_timeout: an idle keep-alive connection is closed after a while.
    stream.expires_after(std::chrono::seconds(30));
    http_request req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_nothrow);
    if (ec) break;
    auto res = co_await handle(std::move(req), ip);
    auto keep_alive = res.keep_alive();
    auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
    if (wec || !keep_alive || !acceptor_.is_open()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(kazoo_bridge::tcp::socket::shutdown_send, ignored);
}

bool api_server::take_token(const std::string& ip) {
  if (ctx_.rate_limit_burst <= 0) return true;
  auto now = kazoo_bridge::now_unix_ms();
  auto [it, fresh] = buckets_.try_emplace(ip, bucket{ctx_.rate_limit_burst, now});
  auto& b = it->second;
  b.tokens = std::min(ctx_.rate_limit_burst,
                      b.tokens + static_cast<double>(now - b.last_ms) * ctx_.rate_limit_refill / 1000.0);
  b.last_ms = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

awaitable<http_response> api_server::handle(http_request req, std::string client_ip) {
  std::string target(req.target());
  auto qpos = target.find('?');
  std::string path = target.substr(0, qpos);
  auto query = qpos == std::string::npos ? std::map<std::string, std::string>{}
                                         : parse_query(std::string_view(target).substr(qpos + 1));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  log_->debug("api {} {}", std::string(req.method_string()), path);
  if (path == "/sim" || path.rfind("/sim/", 0) == 0) co_return handle_sim(req, path);
  if (path.rfind("/v2/", 0) == 0 || path == "/v2") {
    if (!take_token(client_ip)) {
      // cb_token_auth bucket per client (§5.1): 429 too_many_requests
      envelope_meta m{random_hex(rng_, 32), node_, ""};
      co_return crossbar_error(req, m, http::status::too_many_requests, "too_many_requests",
                               json{{"message", "too many requests"}});
    }
    co_return co_await handle_v2(req, path, std::move(query));
  }
  co_return json_response(req, http::status::not_found, json{{"error", "not_found"}});
}

http_response api_server::handle_sim(const http_request& req, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return json_response(req, http::status::bad_request, json{{"error", why}});
  };
  if (path == "/sim/stats" && req.method() == http::verb::get) {
    json s = {{"events_published", ctx_.h->stats().events_published},
              {"events_sent", ctx_.h->stats().frames_sent},
              {"frames_dropped", ctx_.h->stats().frames_dropped},
              {"garbage_sent", ctx_.h->stats().garbage_sent},
              {"drops", ctx_.h->stats().drops},
              {"connections", ctx_.h->connections()},
              {"connections_total", ctx_.h->stats().connections_total},
              {"subscriptions", ctx_.h->subscriptions()},
              {"stalled", ctx_.h->stalled()},
              {"calls_live", ctx_.p->live_instances()},
              {"calls_started", ctx_.p->instances_started()},
              {"channels_live", ctx_.calls->live_legs()},
              {"cdrs", ctx_.calls->cdr_count()}};
    if (ctx_.extra_stats) {
      auto extra = ctx_.extra_stats();  // items() of a temporary would dangle
      for (const auto& [k, v] : extra.items()) s[k] = v;
    }
    return json_response(req, http::status::ok, s);
  }
  if (req.method() != http::verb::post) {
    return json_response(req, http::status::method_not_allowed, json{{"error", "invalid_method"}});
  }
  auto body = json::parse(req.body().empty() ? std::string("{}") : req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) return bad("body must be a JSON object");
  if (path == "/sim/play") {
    play_request r;
    r.scenario = body.value("scenario", "");
    auto fl = body.value("flavour", "kz43");
    if (fl != "kz43" && fl != "kzm") return bad("flavour must be kz43 or kzm");
    r.flavour_ = fl == "kzm" ? flavour::kzm : flavour::kz43;
    r.account_id = body.value("account_id", "");
    r.speed = body.value("speed", 1.0);
    r.legacy_string_durations = body.value("legacy_string_durations", false);
    if (body.contains("vars") && body["vars"].is_object()) {
      for (const auto& [k, v] : body["vars"].items()) {
        r.vars[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    }
    r.as_user = body.value("as_user", "");
    auto count = body.value("count", 1);
    if (count < 1 || count > 10000) return bad("count must be 1..10000");
    json instances = json::array();
    for (int i = 0; i < count; ++i) {
      auto info = ctx_.p->play(r);
      if (!info) {
        return json_response(req, http::status::not_found,
                             json{{"error", "unknown scenario or account"}, {"scenario", r.scenario}});
      }
      instances.push_back(json{{"seed", info->seed},
                               {"call_ids", info->call_ids},
                               {"ends_at_ms", info->end_unix_ms}});
    }
    return json_response(req, http::status::accepted,
                         json{{"scenario", r.scenario}, {"flavour", fl}, {"instances", instances}});
  }
  if (path == "/sim/fault") {
    auto kind = body.value("kind", "");
    if (kind == "drop") {
      if (body.value("when", "") == "mid_call") {
        ctx_.h->drop_on_next_answer();
      } else if (auto n = body.value("after_events", std::uint64_t{0}); n > 0) {
        ctx_.h->drop_after(n);
      } else {
        ctx_.h->drop_all();
      }
    } else if (kind == "stall") {
      ctx_.h->stall();
    } else if (kind == "resume") {
      ctx_.h->resume();
    } else if (kind == "garbage") {
      if (auto every = body.value("every", std::uint64_t{0}); every > 0) {
        ctx_.h->garbage_every(every);
      } else {
        ctx_.h->inject_garbage();
      }
    } else if (kind == "expire_tokens") {
      ctx_.tokens->expire_all();
    } else if (kind == "quickcall") {
      // Every quickcall answers with this status and Crossbar's error for it, until status 0.
      auto st = body.value("status", 0u);
      if (st != 0 && (st < 400 || st > 599)) return bad("status must be 0 or 400..599");
      quickcall_fault_status_ = st;
    } else {
      return bad("kind must be drop|stall|resume|garbage|expire_tokens|quickcall");
    }
    log_->warn("fault injected kind={}", kind);
    return json_response(req, http::status::ok, json{{"kind", kind}, {"status", "applied"}});
  }
  return json_response(req, http::status::not_found, json{{"error", "not_found"}});
}

}  // namespace kazoo_sim
