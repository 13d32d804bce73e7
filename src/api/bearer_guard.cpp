#include "api/bearer_guard.hpp"

#include <utility>

#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::api::detail {
namespace http = net::http;

bearer_request bearer_request_of(const net::request_context& ctx) {
  bearer_request m;
  m.version = ctx.req.version();
  m.keep_alive = ctx.req.keep_alive();
  m.authorization_count = ctx.req.count(http::field::authorization);
  if (auto it = ctx.req.find(http::field::authorization); it != ctx.req.end()) {
    m.authorization = std::string(it->value());
  }
  // Every occurrence counts, even a repeated one (query() keeps the first value of each name only).
  std::string_view t{ctx.req.target().data(), ctx.req.target().size()};
  if (auto q = t.find('?'); q != std::string_view::npos) {
    for (const auto& [k, v] : net::parse_query_list(t.substr(q + 1))) m.token_in_query = m.token_in_query || k == "access_token";
  }
  return m;
}

net::response api_error(const bearer_request& m, http::status s, std::string code, std::string description) {
  auto res = net::error_response(s, std::move(code), std::move(description), m.version, m.keep_alive);
  res.set(http::field::cache_control, "no-store");
  return res;
}

net::response api_challenge(const bearer_request& m, const std::string& realm, http::status s, std::string code,
                            std::string description, bearer_challenge c) {
  auto res = api_error(m, s, std::move(code), std::move(description));
  c.realm = realm;
  if (c.error.empty()) c.error_description.clear();  // RFC 6750 §3.1: no details without an error code
  res.set(http::field::www_authenticate, www_authenticate(c));
  return res;
}

net::response api_unavailable(const bearer_request& m, std::chrono::seconds retry_after, std::string description) {
  auto res = api_error(m, http::status::service_unavailable, "temporarily_unavailable", std::move(description));
  res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(1, retry_after.count())));
  return res;
}

awaitable<auth_outcome> authenticate_bearer(authenticate_fn authenticate, bearer_request m, gate_options o) {
  auto refuse = [&](http::status s, std::string code, std::string description, bearer_challenge c) {
    return auth_outcome{std::nullopt, api_challenge(m, o.realm, s, std::move(code), std::move(description), std::move(c))};
  };
  if (m.token_in_query) {
    // RFC 6750 §2.3 says SHOULD NOT; RFC 9700 and OAuth 2.1 drop the method: URLs end up in logs and
    // Referer headers. Refused even when a header is present too (one method per request, §2).
    co_return refuse(http::status::bad_request, "invalid_request",
                     "the access token must be sent in the Authorization header, not in the URL",
                     {.realm = {}, .error = "invalid_request",
                      .error_description = "access_token in the query string is not accepted", .scope = {}});
  }
  if (m.authorization_count > 1) {
    co_return refuse(http::status::bad_request, "invalid_request", "more than one Authorization header",
                     {.realm = {}, .error = "invalid_request",
                      .error_description = "more than one Authorization header", .scope = {}});
  }
  auto parsed = parse_authorization(m.authorization);
  switch (parsed.kind) {
    case authorization_kind::none:
    case authorization_kind::other:
      // RFC 6750 §3.1: a request without authentication gets the bare challenge, no error code.
      co_return refuse(http::status::unauthorized, "unauthorized",
                       "an access token is required: Authorization: Bearer <token>", {});
    case authorization_kind::malformed:
      co_return refuse(http::status::bad_request, "invalid_request",
                       "the Authorization header is not \"Bearer <token>\" (RFC 6750 §2.1)",
                       {.realm = {}, .error = "invalid_request", .error_description = "malformed Bearer credentials",
                        .scope = {}});
    case authorization_kind::bearer:
      break;
  }
  auto who = co_await authenticate(std::move(parsed.token));
  if (!who) {
    o.log->warn("cannot check an access token now ec={}", who.error().message());
    co_return auth_outcome{std::nullopt,
                           api_unavailable(m, o.retry_after, "the access token cannot be checked now; retry later")};
  }
  if (!*who) {
    co_return refuse(http::status::unauthorized, "invalid_token", "the access token is unknown, expired or revoked",
                     {.realm = {}, .error = "invalid_token",
                      .error_description = "the access token is unknown, expired or revoked", .scope = {}});
  }
  co_return auth_outcome{std::move(**who), std::nullopt};
}

}  // namespace kazoo_bridge::api::detail
