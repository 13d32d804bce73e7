#include <algorithm>
#include <optional>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <kazoo_bridge/api/bearer.hpp>
#include <kazoo_bridge/api/dial_routes.hpp>
#include <kazoo_bridge/api/v1_routes.hpp>
#include <kazoo_bridge/common/phone_number.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/net/http_response.hpp>

#include "api/bearer_guard.hpp"

namespace kazoo_bridge::api {
namespace http = net::http;

dial_rate_limiter::dial_rate_limiter(std::size_t limit, std::int64_t window_ms)
    : limit_(limit), window_ms_(window_ms) {}

std::int64_t dial_rate_limiter::admit(const std::string& key, std::int64_t now_ms) {
  // Forget users idle for a whole window, so the map does not grow with every user ever seen.
  if (seen_.size() > 1024) {
    std::erase_if(seen_, [&](const auto& kv) {
      return kv.second.empty() || kv.second.back() <= now_ms - window_ms_;
    });
  }
  auto& log = seen_[key];
  while (!log.empty() && log.front() <= now_ms - window_ms_) log.pop_front();
  if (log.size() >= limit_) return std::max<std::int64_t>(1, log.front() + window_ms_ - now_ms);
  log.push_back(now_ms);
  return 0;
}

dial_reply reply_for(const kazoo::quickcall_answer& a, kazoo::quickcall_target target) {
  using s = kazoo::quickcall_status;
  const std::string said = a.message.empty() ? std::string() : " (Kazoo: " + a.message + ")";
  switch (a.status) {
    case s::started:
      return {202, {}, {}};
    case s::not_found:
      if (target == kazoo::quickcall_target::device)
        return {404, "not_found", "Kazoo does not know this device"};
      return {502, "kazoo_refused",
              "Kazoo does not know your user, so it has no phone to ring" + said};
    case s::refused:
      return {502, "kazoo_refused", "Kazoo refused the call" + said};
    case s::failed:
      return {502, "kazoo_refused",
              "Kazoo could not ring your phone: is a device assigned to you and enabled?" + said};
    case s::auth_expired:
      return {503, "temporarily_unavailable",
              "Kazoo did not accept the bridge's credentials; retry later"};
    case s::rate_limited:
      return {503, "temporarily_unavailable",
              "Kazoo is limiting the rate of requests; retry later"};
    case s::unavailable:
      break;
  }
  return {503, "temporarily_unavailable", "Kazoo is not answering; retry later" + said};
}

namespace {

struct dial_state {
  dial_deps deps;
  dial_rate_limiter limiter;
};
using state_ptr = std::shared_ptr<dial_state>;

// What the handler needs of the request, copied before the first co_await (style guide B.3): the
// bearer gate's part (bearer_guard.hpp, shared with the other /api/v1 routes) and the body.
struct request_meta : detail::bearer_request {
  std::string content_type;
  std::string body;
};

request_meta meta_of(const net::request_context& ctx) {
  request_meta m;
  static_cast<detail::bearer_request&>(m) = detail::bearer_request_of(ctx);
  if (auto it = ctx.req.find(http::field::content_type); it != ctx.req.end())
    m.content_type = std::string(it->value());
  m.body = ctx.req.body();
  return m;
}

net::response reply(const request_meta& m, http::status s, std::string code,
                    std::string description) {
  return detail::api_error(m, s, std::move(code), std::move(description));
}

net::response challenge(const request_meta& m, const dial_state& st, http::status s,
                        std::string code, std::string description, bearer_challenge c) {
  return detail::api_challenge(m, st.deps.options.realm, s, std::move(code), std::move(description),
                               std::move(c));
}

net::response retry_later(const request_meta& m, http::status s, std::string code,
                          std::string description, std::int64_t seconds) {
  auto res = reply(m, s, std::move(code), std::move(description));
  res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(1, seconds)));
  return res;
}

using detail::auth_outcome;

awaitable<auth_outcome> authenticate(state_ptr st, request_meta m) {
  return detail::authenticate_bearer(st->deps.authenticate, std::move(m),
                                     {st->deps.options.realm, st->deps.options.retry_after, st->deps.log});
}

struct dial_body {
  std::string to;
  std::optional<std::string> device_id;
  bool auto_answer = false;
};

// Kazoo document ids are 32 hex digits; anything of another shape cannot be a device.
bool plausible_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '-' || ch == '_';
  });
}

// The body, or the error_description of a 400 invalid_request.
std::variant<dial_body, std::string> parse_body(const request_meta& m) {
  if (!m.content_type.empty() && m.content_type.find("json") == std::string::npos) {
    return std::string("the body must be JSON (Content-Type: application/json)");
  }
  auto j = nlohmann::json::parse(m.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::string("the body must be a JSON object like {\"to\": \"+15551234567\"}");
  dial_body b;
  auto to = j.find("to");
  if (to == j.end() || to->is_null()) return std::string("\"to\", the number to call, is required");
  if (!to->is_string()) return std::string("\"to\" must be a string, e.g. \"+15551234567\"");
  b.to = to->get<std::string>();
  if (b.to.size() > 64) return std::string("\"to\" is too long for a phone number");
  if (auto d = j.find("device_id"); d != j.end() && !d->is_null()) {
    if (!d->is_string() || !plausible_id(d->get<std::string>())) {
      return std::string(
          "\"device_id\" must be the id of a Kazoo device (a string of letters and digits)");
    }
    b.device_id = d->get<std::string>();
  }
  if (auto a = j.find("auto_answer"); a != j.end() && !a->is_null()) {
    if (!a->is_boolean()) return std::string("\"auto_answer\" must be true or false");
    b.auto_answer = a->get<bool>();
  }
  return b;
}

// A Crossbar request failed before or without an answer we can act on.
net::response kazoo_trouble(const request_meta& m, const dial_state& st, const error_code& ec) {
  if (ec == errc::forbidden || ec == errc::peer_error) {
    return reply(m, http::status::bad_gateway, "kazoo_refused",
                 "Kazoo refused to look up the device");
  }
  return retry_later(m, http::status::service_unavailable, "temporarily_unavailable",
                     "Kazoo cannot be reached now; retry later",
                     st.deps.options.retry_after.count());
}

// The device's owner (GET devices/{id}, §5.3), renewing our token once on a 401.
awaitable<result<std::string>> device_owner(state_ptr st, std::string account_id,
                                            std::string device_id) {
  std::string path = "/accounts/" + account_id + "/devices/" + device_id;
  for (int attempt = 0;; ++attempt) {
    auto token = co_await st->deps.tokens.current();
    if (!token) co_return token.error();
    auto env = co_await st->deps.crossbar.get(path, token->token);
    if (!env && env.error() == errc::auth_expired && attempt == 0) {
      st->deps.tokens.invalidate();
      continue;
    }
    if (!env) co_return env.error();
    const auto data = env->value("data", nlohmann::json::object());
    co_return data.is_object() ? data.value("owner_id", std::string()) : std::string();
  }
}

// The quickcall itself, renewing our token once on a 401 (Kazoo tokens are absolute, §5.2).
awaitable<result<kazoo::quickcall_answer>> place(state_ptr st, kazoo::quickcall_request q) {
  for (int attempt = 0;; ++attempt) {
    auto token = co_await st->deps.tokens.current();
    if (!token) co_return token.error();
    auto answer = co_await st->deps.crossbar.quickcall(q, token->token);
    if (answer && answer->status == kazoo::quickcall_status::auth_expired && attempt == 0) {
      st->deps.tokens.invalidate();
      continue;
    }
    co_return answer;
  }
}

awaitable<net::response> dial(state_ptr st, net::request_context ctx) {
  const auto m = meta_of(ctx);
  auto auth = co_await authenticate(st, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  const caller c = std::move(*auth.who);
  const auto& opt = st->deps.options;
  if (!has_scope(c, "dial")) {
    co_return challenge(m, *st, http::status::forbidden, "insufficient_scope",
                        "click-to-call needs the dial scope",
                        {.realm = {},
                         .error = "insufficient_scope",
                         .error_description = "click-to-call needs the dial scope",
                         .scope = "dial"});
  }
  auto parsed = parse_body(m);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    co_return reply(m, http::status::bad_request, "invalid_request", std::move(*why));
  }
  const auto body = std::get<dial_body>(std::move(parsed));
  const auto number = phone::normalize(body.to, opt.default_country);
  if (!number.value) co_return reply(m, http::status::bad_request, "invalid_number", number.error);

  // Counted once the request is well-formed (a typo costs nothing) and before any Crossbar request.
  if (auto wait_ms = st->limiter.admit(c.account_id + "/" + c.user_id, now_unix_ms());
      wait_ms > 0) {
    co_return retry_later(
        m, http::status::too_many_requests, "rate_limited",
        "at most " + std::to_string(opt.calls_per_minute) + " calls per minute; retry later",
        (wait_ms + 999) / 1000);
  }

  if (c.user_id.empty() && !body.device_id) {
    // Only tokens issued at a Kazoo user's login can dial (the API key has no phone to ring).
    co_return reply(m, http::status::forbidden, "forbidden",
                    "this access token is not tied to a Kazoo user");
  }
  kazoo::quickcall_request q{.account_id = c.account_id,
                             .target = kazoo::quickcall_target::user,
                             .target_id = c.user_id,
                             .number = number.value->text,
                             .auto_answer = body.auto_answer,
                             .ring_timeout = opt.ring_timeout};
  if (body.device_id) {
    auto owner = co_await device_owner(st, c.account_id, *body.device_id);
    if (!owner && owner.error() == errc::not_found) {
      co_return reply(m, http::status::not_found, "not_found", "no such device in your account");
    }
    if (!owner) {
      st->deps.log->warn("click-to-call device lookup failed account={} device={} ec={}",
                         c.account_id, *body.device_id, owner.error().message());
      co_return kazoo_trouble(m, *st, owner.error());
    }
    // An account administrator (the `account` scope, as for reading calls) may ring any device.
    const auto vis = visibility_of(c);
    if (*owner != c.user_id && !(vis && vis->whole_account)) {
      co_return reply(m, http::status::forbidden, "forbidden",
                      "the device belongs to another user");
    }
    q.target = kazoo::quickcall_target::device;
    q.target_id = *body.device_id;
  }

  auto answer = co_await place(st, q);
  if (!answer) {
    st->deps.log->warn("click-to-call: Kazoo unreachable account={} user={} ec={}", c.account_id,
                       c.user_id, answer.error().message());
    co_return retry_later(m, http::status::service_unavailable, "temporarily_unavailable",
                          "Kazoo cannot be reached now; retry later", opt.retry_after.count());
  }
  const auto r = reply_for(*answer, q.target);
  if (r.status != 202) {
    st->deps.log->warn("click-to-call refused account={} user={} kazoo_status={} message={}",
                       c.account_id, c.user_id, static_cast<int>(answer->status), answer->message);
    if (r.status == 503) {
      co_return retry_later(m, http::status::service_unavailable, r.error, r.description,
                            opt.retry_after.count());
    }
    co_return reply(m, static_cast<http::status>(r.status), r.error, r.description);
  }
  st->deps.log->info("click-to-call originating account={} user={} target={} call_id={}",
                     c.account_id, c.user_id, q.target_id, answer->call_id.value_or("(none)"));
  nlohmann::json out{{"call_id", nullptr}, {"status", "originating"}, {"to", number.value->text}};
  if (answer->call_id) out["call_id"] = *answer->call_id;
  auto res = net::json_response(http::status::accepted, out, m.version, m.keep_alive);
  res.set(http::field::cache_control, "no-store");
  // RFC 9110 §15.3.3: a 202 may point to where the outcome can be followed.
  if (answer->call_id && plausible_id(*answer->call_id))
    res.set(http::field::location, "/api/v1/calls/" + *answer->call_id);
  co_return res;
}

}  // namespace

void add_dial_routes(net::router& r, dial_deps d) {
  const auto limit = d.options.calls_per_minute;
  auto st = std::make_shared<dial_state>(dial_state{std::move(d), dial_rate_limiter(limit)});
  r.add(http::verb::post, "/api/v1/calls",
        [st](net::request_context ctx) { return dial(st, std::move(ctx)); });
}

}  // namespace kazoo_bridge::api
