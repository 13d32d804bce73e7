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

// What a handler needs of the request before its first co_await, copied out of the context (the
// coroutines take everything by value, style guide B.3).
struct request_meta {
  unsigned version = 11;
  bool keep_alive = true;
  std::size_t authorization_count = 0;
  std::optional<std::string> authorization;
  std::vector<std::pair<std::string, std::string>> query;
};

request_meta meta_of(const net::request_context& ctx) {
  request_meta m;
  m.version = ctx.req.version();
  m.keep_alive = ctx.req.keep_alive();
  m.authorization_count = ctx.req.count(http::field::authorization);
  if (auto it = ctx.req.find(http::field::authorization); it != ctx.req.end()) {
    m.authorization = std::string(it->value());
  }
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
  return finish(net::error_response(s, std::move(code), std::move(description), m.version, m.keep_alive));
}

net::response challenge(const request_meta& m, const v1_deps& d, http::status s, std::string code,
                        std::string description, bearer_challenge c) {
  auto res = error(m, s, std::move(code), description);
  c.realm = d.options.realm;
  if (c.error.empty()) c.error_description.clear();  // RFC 6750 §3.1: no details without an error code
  res.set(http::field::www_authenticate, www_authenticate(c));
  return res;
}

net::response unavailable(const request_meta& m, const v1_deps& d, std::string description) {
  auto res = error(m, http::status::service_unavailable, "temporarily_unavailable", std::move(description));
  res.set(http::field::retry_after, std::to_string(d.options.retry_after.count()));
  return res;
}

struct auth_outcome {
  std::optional<caller> who;
  std::optional<net::response> refusal;
};

// RFC 6750: the token comes in the Authorization header only.
awaitable<auth_outcome> authenticate(deps_ptr d, request_meta m) {
  const bool token_in_query = std::any_of(m.query.begin(), m.query.end(), [](const auto& kv) {
    return kv.first == "access_token";
  });
  if (token_in_query) {
    // RFC 6750 §2.3 says SHOULD NOT; RFC 9700 and OAuth 2.1 drop the method: URLs end up in logs and
    // Referer headers. Refused even when a header is present too (one method per request, §2).
    co_return auth_outcome{std::nullopt,
                           challenge(m, *d, http::status::bad_request, "invalid_request",
                                     "the access token must be sent in the Authorization header, not in the URL",
                                     {.realm = {}, .error = "invalid_request",
                                      .error_description = "access_token in the query string is not accepted",
                                      .scope = {}})};
  }
  if (m.authorization_count > 1) {
    co_return auth_outcome{std::nullopt, challenge(m, *d, http::status::bad_request, "invalid_request",
                                                   "more than one Authorization header",
                                                   {.realm = {}, .error = "invalid_request",
                                                    .error_description = "more than one Authorization header",
                                                    .scope = {}})};
  }
  auto parsed = parse_authorization(m.authorization);
  switch (parsed.kind) {
    case authorization_kind::none:
    case authorization_kind::other:
      // RFC 6750 §3.1: a request without authentication gets the bare challenge, no error code.
      co_return auth_outcome{std::nullopt,
                             challenge(m, *d, http::status::unauthorized, "unauthorized",
                                       "an access token is required: Authorization: Bearer <token>", {})};
    case authorization_kind::malformed:
      co_return auth_outcome{std::nullopt,
                             challenge(m, *d, http::status::bad_request, "invalid_request",
                                       "the Authorization header is not \"Bearer <token>\" (RFC 6750 §2.1)",
                                       {.realm = {}, .error = "invalid_request",
                                        .error_description = "malformed Bearer credentials", .scope = {}})};
    case authorization_kind::bearer:
      break;
  }
  auto who = co_await d->authenticate(std::move(parsed.token));
  if (!who) {
    // The token itself is never logged (style guide B.7).
    d->log->warn("cannot check an access token now ec={}", who.error().message());
    co_return auth_outcome{std::nullopt, unavailable(m, *d, "the access token cannot be checked now; retry later")};
  }
  if (!*who) {
    co_return auth_outcome{std::nullopt,
                           challenge(m, *d, http::status::unauthorized, "invalid_token",
                                     "the access token is unknown, expired or revoked",
                                     {.realm = {}, .error = "invalid_token",
                                      .error_description = "the access token is unknown, expired or revoked",
                                      .scope = {}})};
  }
  co_return auth_outcome{std::move(**who), std::nullopt};
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
