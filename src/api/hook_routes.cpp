// REST hook subscriptions (issue #4): the HTTP handlers. Validation and JSON shapes: hook_spec.cpp.
#include <kazoo_bridge/api/hook_routes.hpp>

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include <kazoo_bridge/api/bearer.hpp>
#include <kazoo_bridge/api/v1_routes.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/url.hpp>
#include <kazoo_bridge/oauth/crypto.hpp>

#include "api/bearer_guard.hpp"

namespace kazoo_bridge::api {
namespace http = net::http;
namespace {

using json = nlohmann::json;
using deps_ptr = std::shared_ptr<const hook_deps>;

constexpr std::size_t default_deliveries = 20, max_deliveries = 100;
constexpr std::size_t default_events = 3, max_events = 100;

// What a handler needs of the request before its first co_await (coroutines take everything by
// value, style guide B.3): the bearer gate's part (bearer_guard.hpp, shared with v1_routes.cpp) and
// the rest of the request.
struct request_meta : detail::bearer_request {
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;
  std::string id;  // the {id} path parameter
};

request_meta meta_of(const net::request_context& ctx) {
  request_meta m;
  static_cast<detail::bearer_request&>(m) = detail::bearer_request_of(ctx);
  std::string_view t{ctx.req.target().data(), ctx.req.target().size()};
  if (auto q = t.find('?'); q != std::string_view::npos) m.query = net::parse_query_list(t.substr(q + 1));
  m.body = ctx.req.body();
  if (auto it = ctx.params.find("id"); it != ctx.params.end()) m.id = it->second;
  return m;
}

// Subscriptions and events are personal data: no shared cache may keep them (RFC 9111 §5.2.2.5).
net::response finish(net::response res) {
  res.set(http::field::cache_control, "no-store");
  return res;
}

net::response error(const request_meta& m, http::status s, std::string code, std::string description) {
  return detail::api_error(m, s, std::move(code), std::move(description));
}

net::response ok_json(const request_meta& m, http::status s, const json& body) {
  return finish(net::json_response(s, body, m.version, m.keep_alive));
}

net::response challenge(const request_meta& m, const hook_deps& d, http::status s, std::string code,
                        std::string description, bearer_challenge c) {
  return detail::api_challenge(m, d.options.realm, s, std::move(code), std::move(description), std::move(c));
}

net::response unavailable(const request_meta& m, const hook_deps& d, std::string description) {
  return detail::api_unavailable(m, d.options.retry_after, std::move(description));
}

net::response not_found(const request_meta& m) {
  // Also for another user's hook: its existence does not leak (the Zapier app treats 404 as gone).
  return error(m, http::status::not_found, "not_found", "no such hook");
}

net::response insufficient_scope(const request_meta& m, const hook_deps& d, const char* scope, std::string why) {
  return challenge(m, d, http::status::forbidden, "insufficient_scope", why,
                   {.realm = {}, .error = "insufficient_scope", .error_description = why, .scope = scope});
}

using detail::auth_outcome;

// The bearer gate, then the caller needs `calls` (or `account` as an account administrator):
// visibility_of(), as for GET /api/v1/calls.
awaitable<auth_outcome> authenticate(deps_ptr d, request_meta m) {
  detail::gate_options options{d->options.realm, d->options.retry_after, d->log};
  detail::bearer_request request = m;
  auto gate = co_await detail::authenticate_bearer(d->authenticate, std::move(request), std::move(options));
  if (!gate.who) co_return gate;
  if (!visibility_of(*gate.who)) {
    co_return auth_outcome{std::nullopt, insufficient_scope(m, *d, "calls",
                                                            "hooks and events need the calls scope (or account, "
                                                            "for an account administrator)")};
  }
  co_return gate;
}

// Who may see a hook: its owner, and an account administrator with the `account` scope for every
// hook of their account (they can already read every call of it). Anyone else gets 404.
bool may_see(const caller& c, const store::hook_row& h) {
  if (h.account_id != c.account_id) return false;
  if (h.user_id == c.user_id) return true;
  auto vis = visibility_of(c);
  return vis && vis->whole_account;
}

std::optional<net::response> body_problem(const request_meta& m, const hook_deps& d, json& out) {
  if (m.body.size() > d.options.max_body_bytes) {
    return error(m, http::status::payload_too_large, "invalid_request",
                 "the body is larger than " + std::to_string(d.options.max_body_bytes) + " bytes");
  }
  out = json::parse(m.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    return error(m, http::status::bad_request, "invalid_request", "the body must be a JSON object");
  }
  return std::nullopt;
}

// "whsec_" + base64 of 32 CSPRNG bytes (Standard Webhooks secret format).
std::string new_secret() {
  const std::string hex = oauth::random_hex(32);
  std::string raw;
  raw.reserve(32);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned v = 0;
    std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    raw.push_back(static_cast<char>(v));
  }
  return "whsec_" + oauth::base64(raw);
}

std::optional<std::size_t> limit_of(const std::vector<std::pair<std::string, std::string>>& query,
                                    std::size_t fallback, std::size_t max, std::string& problem) {
  std::size_t limit = fallback;
  for (const auto& [k, v] : query) {
    if (k != "limit") continue;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
    if (ec != std::errc{} || p != v.data() + v.size() || limit < 1 || limit > max) {
      problem = "limit must be an integer from 1 to " + std::to_string(max);
      return std::nullopt;
    }
  }
  return limit;
}

// Reads a hook and checks the caller may see it; the response when not.
struct found_hook {
  std::optional<store::hook_row> row;
  std::optional<net::response> refusal;
};

awaitable<found_hook> find_visible(deps_ptr d, request_meta m, caller c) {
  auto work = [h = &d->hooks, id = m.id]() { return h->get(id); };
  auto row = co_await offload(d->db_thread, work);
  if (!row) {
    d->log->error("api cannot read a hook ec={}", row.error().message());
    co_return found_hook{std::nullopt, unavailable(m, *d, "the hooks cannot be read now; retry later")};
  }
  if (!*row || !may_see(c, **row)) co_return found_hook{std::nullopt, not_found(m)};
  co_return found_hook{std::move(**row), std::nullopt};
}

awaitable<net::response> create_hook(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  const caller c = std::move(*auth.who);
  json body;
  if (auto p = body_problem(m, *d, body)) co_return std::move(*p);
  auto parsed = parse_hook_spec(body, d->options.allow_private_targets);
  if (!parsed.spec) co_return error(m, http::status::bad_request, parsed.error, parsed.description);
  const hook_spec& spec = *parsed.spec;
  if (spec.scope == "account" && !(has_scope(c, "account") && c.admin)) {
    co_return insufficient_scope(m, *d, "account",
                                 "scope \"account\" needs the account scope, granted to Kazoo account administrators");
  }
  store::hook_row row;
  row.id = "hook_" + oauth::random_hex(16);
  row.account_id = c.account_id;
  row.user_id = c.user_id;
  if (!c.client_id.empty()) row.client_id = c.client_id;
  if (!c.grant_id.empty()) row.grant_id = c.grant_id;
  row.target_url = spec.target_url;
  row.event = spec.event;
  row.scope = spec.scope;
  row.filters = filters_text(spec.filters);
  row.secret = new_secret();
  row.created_at_ms = row.updated_at_ms = now_unix_ms();

  // Count and insert in one DB-thread task: nothing else runs on the connection in between, so two
  // concurrent creations cannot both pass the cap.
  enum class outcome { created, too_many, failed };
  auto work = [h = &d->hooks, row, cap = d->options.max_hooks_per_user]() -> std::pair<outcome, error_code> {
    auto n = h->count_by_owner(row.account_id, row.user_id);
    if (!n) return {outcome::failed, n.error()};
    if (static_cast<std::size_t>(*n) >= cap) return {outcome::too_many, {}};
    if (auto ec = h->create(row)) return {outcome::failed, ec};
    return {outcome::created, {}};
  };
  auto [result_kind, ec] = co_await offload(d->db_thread, work);
  if (result_kind == outcome::failed) {
    d->log->error("api cannot create a hook account={} ec={}", c.account_id, ec.message());
    co_return unavailable(m, *d, "the hook cannot be stored now; retry later");
  }
  if (result_kind == outcome::too_many) {
    co_return error(m, http::status::bad_request, "too_many_hooks",
                    "at most " + std::to_string(d->options.max_hooks_per_user) +
                        " hooks per user; delete one you no longer use first");
  }
  d->index.put(subscription_of(row));
  d->log->info("api hook created id={} account={} user={} event={} scope={}", row.id, c.account_id, c.user_id,
               row.event, row.scope);
  auto out = hook_json(row);
  out["secret"] = row.secret;  // the only time it is shown
  co_return ok_json(m, http::status::created, out);
}

awaitable<net::response> list_hooks(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  const caller c = std::move(*auth.who);
  const bool whole_account = visibility_of(c)->whole_account;
  auto work = [h = &d->hooks, c, whole_account]() {
    return whole_account ? h->list_by_account(c.account_id) : h->list_by_owner(c.account_id, c.user_id);
  };
  auto rows = co_await offload(d->db_thread, work);
  if (!rows) {
    d->log->error("api cannot list hooks account={} ec={}", c.account_id, rows.error().message());
    co_return unavailable(m, *d, "the hooks cannot be read now; retry later");
  }
  json data = json::array();
  for (const auto& r : *rows) data.push_back(hook_json(r));
  co_return ok_json(m, http::status::ok, json{{"data", std::move(data)}});
}

awaitable<net::response> get_hook(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  auto found = co_await find_visible(d, m, *auth.who);
  if (!found.row) co_return std::move(*found.refusal);
  co_return ok_json(m, http::status::ok, hook_json(*found.row));
}

awaitable<net::response> delete_hook(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  auto found = co_await find_visible(d, m, *auth.who);
  if (!found.row) co_return std::move(*found.refusal);
  auto work = [h = &d->hooks, id = m.id, t = now_unix_ms()]() { return h->remove(id, t); };
  auto removed = co_await offload(d->db_thread, work);
  if (!removed) {
    d->log->error("api cannot delete a hook id={} ec={}", m.id, removed.error().message());
    co_return unavailable(m, *d, "the hook cannot be deleted now; retry later");
  }
  d->index.erase(m.id);
  if (!*removed) co_return not_found(m);  // deleted concurrently (by delivery on 410, or another request)
  d->log->info("api hook deleted id={} by_user={}", m.id, auth.who->user_id);
  net::response res{http::status::no_content, m.version};
  res.keep_alive(m.keep_alive);
  res.prepare_payload();
  co_return finish(std::move(res));
}

awaitable<net::response> patch_hook(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  json body;
  if (auto p = body_problem(m, *d, body)) co_return std::move(*p);
  for (const auto& [key, value] : body.items()) {
    if (key != "status") {
      co_return error(m, http::status::bad_request, "invalid_request",
                      "unknown member \"" + key.substr(0, 64) + "\"; only status can be changed");
    }
  }
  auto st = body.find("status");
  if (st == body.end() || *st != "active") {
    co_return error(m, http::status::bad_request, "invalid_request",
                    "status must be \"active\" (re-enables a disabled hook)");
  }
  auto found = co_await find_visible(d, m, *auth.who);
  if (!found.row) co_return std::move(*found.refusal);
  auto work = [h = &d->hooks, id = m.id, t = now_unix_ms()]() -> result<std::optional<store::hook_row>> {
    auto changed = h->set_status(id, "active", t);
    if (!changed) return changed.error();
    return h->get(id);
  };
  auto row = co_await offload(d->db_thread, work);
  if (!row) {
    d->log->error("api cannot enable a hook id={} ec={}", m.id, row.error().message());
    co_return unavailable(m, *d, "the hook cannot be changed now; retry later");
  }
  if (!*row) co_return not_found(m);
  d->index.put(subscription_of(**row));
  // Rows queued before it was disabled are still pending: delivery may send them now.
  if (d->wake_delivery) d->wake_delivery();
  d->log->info("api hook enabled id={}", m.id);
  co_return ok_json(m, http::status::ok, hook_json(**row));
}

json delivery_json(const store::hook_delivery_row& r) {
  json j{{"id", r.id},
         {"event_id", r.event_id},
         {"attempt", r.attempt},
         {"attempted_at", format_iso8601(r.attempted_at_ms)},
         {"status_code", nullptr},
         {"duration_ms", r.duration_ms},
         {"outcome", r.outcome},
         {"error", nullptr},
         {"response_snippet", nullptr},
         {"next_retry_at", nullptr}};
  if (r.status_code) j["status_code"] = *r.status_code;
  if (r.error) j["error"] = *r.error;
  if (r.response_snippet) j["response_snippet"] = *r.response_snippet;
  if (r.next_retry_at_ms) j["next_retry_at"] = format_iso8601(*r.next_retry_at_ms);
  return j;
}

awaitable<net::response> list_deliveries(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  std::string problem;
  for (const auto& [k, v] : m.query) {
    if (k != "limit") {
      co_return error(m, http::status::bad_request, "invalid_request", "unknown query parameter; only limit");
    }
  }
  auto limit = limit_of(m.query, default_deliveries, max_deliveries, problem);
  if (!limit) co_return error(m, http::status::bad_request, "invalid_request", problem);
  auto found = co_await find_visible(d, m, *auth.who);
  if (!found.row) co_return std::move(*found.refusal);
  auto work = [h = &d->hooks, id = m.id, n = *limit]() { return h->deliveries(id, n); };
  auto rows = co_await offload(d->db_thread, work);
  if (!rows) {
    d->log->error("api cannot read hook deliveries id={} ec={}", m.id, rows.error().message());
    co_return unavailable(m, *d, "the delivery log cannot be read now; retry later");
  }
  json data = json::array();
  for (const auto& r : *rows) data.push_back(delivery_json(r));
  co_return ok_json(m, http::status::ok, json{{"data", std::move(data)}});
}

// The event a stored payload describes, as the subscription index sees it.
calls::lifecycle_event event_of(const store::event_row& r) {
  calls::lifecycle_event e;
  e.id = r.id;
  e.type = r.type;
  e.call_id = r.call_id;
  e.account_id = r.account_id;
  e.occurred_at_ms = r.occurred_at_ms;
  e.payload = json::parse(r.payload, nullptr, false);
  if (e.payload.is_discarded()) e.payload = json::object();
  e.payload.erase("raw");
  return e;
}

awaitable<net::response> replay_hook(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  json body;
  if (auto p = body_problem(m, *d, body)) co_return std::move(*p);
  store::replay_query q;
  for (const auto& [key, value] : body.items()) {
    if (key != "event_id" && key != "since" && key != "until") {
      co_return error(m, http::status::bad_request, "invalid_request",
                      "unknown member \"" + key.substr(0, 64) + "\"; give event_id, or since (and until)");
    }
  }
  if (auto ev = body.find("event_id"); ev != body.end()) {
    if (!ev->is_string() || ev->get_ref<const std::string&>().empty()) {
      co_return error(m, http::status::bad_request, "invalid_request", "event_id must be a non-empty string");
    }
    if (body.contains("since") || body.contains("until")) {
      co_return error(m, http::status::bad_request, "invalid_request", "give either event_id or since/until");
    }
    q.event_id = ev->get<std::string>();
  } else {
    auto time_of = [&](const char* key) -> std::optional<std::int64_t> {
      auto it = body.find(key);
      if (it == body.end() || !it->is_string()) return std::nullopt;
      return parse_iso8601(it->get_ref<const std::string&>());
    };
    auto since = time_of("since");
    if (!since) {
      co_return error(m, http::status::bad_request, "invalid_request",
                      "give event_id, or since as an ISO 8601 time (e.g. 2026-11-21T10:00:00Z)");
    }
    auto until = body.contains("until") ? time_of("until") : std::optional<std::int64_t>(now_unix_ms() + 1);
    if (!until || *until <= *since) {
      co_return error(m, http::status::bad_request, "invalid_request",
                      "until must be an ISO 8601 time after since");
    }
    q.since_ms = *since;
    q.until_ms = *until;
  }
  q.limit = d->options.max_replay_events;
  auto found = co_await find_visible(d, m, *auth.who);
  if (!found.row) co_return std::move(*found.refusal);
  q.account_id = found.row->account_id;
  // The hook's own view (active or not: a replay of a disabled hook waits in the outbox).
  auto sub = subscription_of(*found.row);
  auto work = [h = &d->hooks, q, sub, t = now_unix_ms()]() -> result<std::int64_t> {
    auto events = h->replay_candidates(q);
    if (!events) return events.error();
    std::vector<store::replay_item> items;
    for (const auto& r : *events) {
      if (delivery::wants(sub, event_of(r))) items.push_back({r.id, r.call_id});
    }
    return h->replay(sub.id, items, t);
  };
  auto queued = co_await offload(d->db_thread, work);
  if (!queued) {
    d->log->error("api cannot replay hook={} ec={}", m.id, queued.error().message());
    co_return unavailable(m, *d, "the replay cannot be queued now; retry later");
  }
  if (*queued > 0 && d->wake_delivery) d->wake_delivery();
  d->log->info("api hook replay id={} queued={}", m.id, *queued);
  co_return ok_json(m, http::status::accepted, json{{"queued", *queued}});
}

awaitable<net::response> list_events(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  const caller c = std::move(*auth.who);
  std::optional<std::string> type;
  for (const auto& [k, v] : m.query) {
    if (k == "type") {
      if (!delivery::is_subscribable_event(v)) {
        co_return error(m, http::status::bad_request, "invalid_request",
                        "type must be \"*\" or a lifecycle event type such as call.missed");
      }
      if (v != "*") type = v;
    } else if (k != "limit") {
      co_return error(m, http::status::bad_request, "invalid_request",
                      "unknown query parameter; use type and limit");
    }
  }
  std::string problem;
  auto limit = limit_of(m.query, default_events, max_events, problem);
  if (!limit) co_return error(m, http::status::bad_request, "invalid_request", problem);
  std::optional<std::string> visible_to;
  if (!visibility_of(c)->whole_account) visible_to = c.user_id;
  auto work = [h = &d->hooks, account = c.account_id, type, visible_to, n = *limit]() {
    return h->latest_events(account, type, visible_to, n);
  };
  auto rows = co_await offload(d->db_thread, work);
  if (!rows) {
    d->log->error("api cannot read events account={} ec={}", c.account_id, rows.error().message());
    co_return unavailable(m, *d, "the events cannot be read now; retry later");
  }
  net::response res{http::status::ok, m.version};
  res.set(http::field::content_type, "application/json");
  if (rows->empty()) {
    res.body() = json{{"data", json::array({example_event(type.value_or("*"), c)})}}.dump();
  } else {
    // The stored payloads are spliced as they are (exactly what a hook receives; re-dumping would
    // reorder keys and re-render raw).
    std::string out = "{\"data\":[";
    for (std::size_t i = 0; i < rows->size(); ++i) {
      if (i > 0) out += ',';
      out += (*rows)[i].payload;
    }
    out += "]}";
    res.body() = std::move(out);
  }
  res.keep_alive(m.keep_alive);
  res.prepare_payload();
  co_return finish(std::move(res));
}

}  // namespace

void add_hook_routes(net::router& r, hook_deps d) {
  auto shared = std::make_shared<const hook_deps>(std::move(d));
  auto route = [&](http::verb v, const char* pattern, awaitable<net::response> (*fn)(deps_ptr, net::request_context)) {
    r.add(v, pattern, [shared, fn](net::request_context ctx) { return fn(shared, std::move(ctx)); });
  };
  route(http::verb::post, "/api/v1/hooks", create_hook);
  route(http::verb::get, "/api/v1/hooks", list_hooks);
  route(http::verb::get, "/api/v1/hooks/{id}", get_hook);
  route(http::verb::delete_, "/api/v1/hooks/{id}", delete_hook);
  route(http::verb::patch, "/api/v1/hooks/{id}", patch_hook);
  route(http::verb::get, "/api/v1/hooks/{id}/deliveries", list_deliveries);
  route(http::verb::post, "/api/v1/hooks/{id}/replay", replay_hook);
  route(http::verb::get, "/api/v1/events", list_events);
}

}  // namespace kazoo_bridge::api
