#include <kazoo_bridge/api/v1_routes.hpp>

#include <algorithm>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <kazoo_bridge/api/bearer.hpp>
#include <kazoo_bridge/api/call_json.hpp>
#include <kazoo_bridge/api/call_query.hpp>
#include <kazoo_bridge/api/cursor.hpp>
#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/url.hpp>

#include "api/bearer_guard.hpp"

namespace kazoo_bridge::api {
namespace http = net::http;

bool has_scope(const caller& c, const std::string& scope) {
  return std::find(c.scopes.begin(), c.scopes.end(), scope) != c.scopes.end();
}

std::optional<visibility> visibility_of(const caller& c) {
  if (has_scope(c, "account") && c.admin) return visibility{.whole_account = true};
  if (has_scope(c, "calls")) return visibility{.whole_account = false};
  return std::nullopt;
}

namespace {

using deps_ptr = std::shared_ptr<const v1_deps>;

// What a handler needs of the request before its first co_await (the coroutines take everything by
// value, style guide B.3): the bearer gate's part (bearer_guard.hpp) and the query.
struct request_meta : detail::bearer_request {
  std::vector<std::pair<std::string, std::string>> query;
};

request_meta meta_of(const net::request_context& ctx) {
  request_meta m;
  static_cast<detail::bearer_request&>(m) = detail::bearer_request_of(ctx);
  std::string_view t{ctx.req.target().data(), ctx.req.target().size()};
  if (auto q = t.find('?'); q != std::string_view::npos) m.query = net::parse_query_list(t.substr(q + 1));
  return m;
}

// Personal data: no shared cache may keep it (RFC 9111 §5.2.2.5).
net::response finish(net::response res) {
  res.set(http::field::cache_control, "no-store");
  return res;
}

net::response error(const request_meta& m, http::status s, std::string code, std::string description) {
  return detail::api_error(m, s, std::move(code), std::move(description));
}

net::response challenge(const request_meta& m, const v1_deps& d, http::status s, std::string code,
                        std::string description, bearer_challenge c) {
  return detail::api_challenge(m, d.options.realm, s, std::move(code), std::move(description), std::move(c));
}

net::response unavailable(const request_meta& m, const v1_deps& d, std::string description) {
  return detail::api_unavailable(m, d.options.retry_after, std::move(description));
}

using detail::auth_outcome;

awaitable<auth_outcome> authenticate(deps_ptr d, request_meta m) {
  return detail::authenticate_bearer(d->authenticate, std::move(m), {d->options.realm, d->options.retry_after, d->log});
}

net::response insufficient_scope(const request_meta& m, const v1_deps& d) {
  return challenge(m, d, http::status::forbidden, "insufficient_scope",
                   "reading calls needs the calls scope (or account, for an account administrator)",
                   {.realm = {}, .error = "insufficient_scope",
                    .error_description = "reading calls needs the calls scope", .scope = "calls"});
}

awaitable<net::response> me(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  const caller& c = *auth.who;
  // Zapier's connection test and label (reference/zapier-and-oauth2.md §2.4): identifying fields
  // only, never a secret.
  nlohmann::json body{{"id", c.user_id},          {"name", c.user_name},
                      {"email", c.email},         {"extensions", c.extensions},
                      {"account_id", c.account_id}, {"account_name", c.account_name},
                      {"admin", c.admin},         {"scopes", c.scopes}};
  d->log->debug("api me user={} account={}", c.user_id, c.account_id);
  co_return finish(net::json_response(http::status::ok, body, m.version, m.keep_alive));
}

awaitable<net::response> list_calls(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  const caller& c = *auth.who;
  auto vis = visibility_of(c);
  if (!vis) co_return insufficient_scope(m, *d);
  auto parsed = parse_call_list_query(m.query);
  if (!parsed.query) co_return error(m, http::status::bad_request, "invalid_request", parsed.error);
  const call_list_query& q = *parsed.query;
  store::call_filter f = to_filter(q);
  f.account_id = c.account_id;
  if (!vis->whole_account) f.visible_to = c.user_id;

  auto work = [h = &d->history, f]() { return h->list_calls(f); };
  const auto page = co_await offload(d->db_thread, work);
  if (!page) {
    d->log->error("api cannot list calls account={} ec={}", c.account_id, page.error().message());
    co_return unavailable(m, *d, "the call history cannot be read now; retry later");
  }
  nlohmann::json data = nlohmann::json::array();
  for (const auto& row : page->calls) data.push_back(call_json(row));
  nlohmann::json body{{"data", std::move(data)}, {"next_cursor", nullptr}};
  if (page->next) body["next_cursor"] = encode_cursor({*page->next, filters_fingerprint(q)});
  d->log->debug("api calls user={} account={} count={}", c.user_id, c.account_id, page->calls.size());
  co_return finish(net::json_response(http::status::ok, body, m.version, m.keep_alive));
}

awaitable<net::response> get_call(deps_ptr d, net::request_context ctx) {
  auto m = meta_of(ctx);
  const std::string call_id = ctx.params["call_id"];
  auto auth = co_await authenticate(d, m);
  if (!auth.who) co_return std::move(*auth.refusal);
  const caller& c = *auth.who;
  auto vis = visibility_of(c);
  if (!vis) co_return insufficient_scope(m, *d);
  std::optional<std::string> visible_to;
  if (!vis->whole_account) visible_to = c.user_id;

  auto work = [h = &d->history, account = c.account_id, call_id, visible_to, n = d->options.max_timeline_events]() {
    return h->find_call(account, call_id, visible_to, n);
  };
  const auto found = co_await offload(d->db_thread, work);
  if (!found) {
    d->log->error("api cannot read a call account={} ec={}", c.account_id, found.error().message());
    co_return unavailable(m, *d, "the call history cannot be read now; retry later");
  }
  if (!*found) {
    // Also for another account's call: 404, never 403, so its existence does not leak.
    co_return error(m, http::status::not_found, "not_found", "no such call");
  }
  net::response res{http::status::ok, m.version};
  res.set(http::field::content_type, "application/json");
  res.body() = call_with_events_text((*found)->call, (*found)->payloads);
  res.keep_alive(m.keep_alive);
  res.prepare_payload();
  co_return finish(std::move(res));
}

}  // namespace

void add_v1_routes(net::router& r, v1_deps d) {
  auto shared = std::make_shared<const v1_deps>(std::move(d));
  // Plain lambdas hand everything by value to the coroutine functions (no lambda coroutines).
  r.add(http::verb::get, "/api/v1/me", [shared](net::request_context ctx) { return me(shared, std::move(ctx)); });
  r.add(http::verb::get, "/api/v1/calls",
        [shared](net::request_context ctx) { return list_calls(shared, std::move(ctx)); });
  r.add(http::verb::get, "/api/v1/calls/{call_id}",
        [shared](net::request_context ctx) { return get_call(shared, std::move(ctx)); });
}

}  // namespace kazoo_bridge::api
