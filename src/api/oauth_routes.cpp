#include <kazoo_bridge/api/oauth_routes.hpp>

#include <nlohmann/json.hpp>

#include "api/oauth_pages.hpp"
#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/url.hpp>
#include <kazoo_bridge/oauth/crypto.hpp>

namespace kazoo_bridge::api {
namespace http = net::http;

namespace {

bool is_form(const net::request& req) {
  auto it = req.find(http::field::content_type);
  if (it == req.end()) return false;
  std::string ct(it->value());
  for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ct.rfind("application/x-www-form-urlencoded", 0) == 0;
}

oauth::param_list query_of(const net::request_context& ctx) {
  std::string_view target = ctx.req.target();
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  return net::parse_query_list(target.substr(q + 1));
}

std::string header(const net::request& req, http::field f) {
  auto it = req.find(f);
  return it == req.end() ? std::string() : std::string(it->value());
}

/// The browser's CSRF binding cookie, when it has a well-formed one.
std::string cookie_binding(const net::request& req) {
  const std::string cookies = header(req, http::field::cookie);
  const std::string name = std::string(oauth_csrf_cookie) + "=";
  std::size_t pos = 0;
  while (pos < cookies.size()) {
    while (pos < cookies.size() && (cookies[pos] == ' ' || cookies[pos] == ';')) ++pos;
    auto end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    auto item = cookies.substr(pos, end - pos);
    if (item.rfind(name, 0) == 0) {
      auto v = item.substr(name.size());
      const bool ok = v.size() == 43 && v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                           "0123456789-_") == std::string::npos;
      return ok ? v : std::string();
    }
    pos = end + 1;
  }
  return {};
}

/// Headers of every page and redirect of the authorization endpoint (RFC 9700 §4.16 clickjacking,
/// no caching of pages that carry a CSRF token or a code, no referrer leaking the query).
void page_headers(net::response& res) {
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::pragma, "no-cache");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
}

net::response html_response(const net::request_context& ctx, unsigned status, const detail::html_page& page) {
  net::response res{static_cast<http::status>(status), ctx.req.version()};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set("Content-Security-Policy", page.csp);
  page_headers(res);
  res.body() = page.html;
  res.keep_alive(ctx.req.keep_alive());
  res.prepare_payload();
  return res;
}

net::response render(const net::request_context& ctx, const oauth_branding& b, const oauth::authorize_outcome& out,
                     http::status redirect_status, const std::string& set_cookie) {
  if (const auto* r = std::get_if<oauth::redirect_to>(&out)) {
    net::response res{redirect_status, ctx.req.version()};
    res.set(http::field::location, r->location);
    page_headers(res);
    res.keep_alive(ctx.req.keep_alive());
    res.prepare_payload();
    return res;
  }
  if (const auto* e = std::get_if<oauth::page_error>(&out)) {
    return html_response(ctx, e->status, detail::render_error(b, *e));
  }
  const auto& f = std::get<oauth::show_form>(out);
  auto res = html_response(ctx, f.status, detail::render_login(b, f));
  if (f.retry_after_s) res.set(http::field::retry_after, std::to_string(*f.retry_after_s));
  if (!set_cookie.empty()) res.set(http::field::set_cookie, set_cookie);
  return res;
}

std::string cookie_header(const oauth::service& svc, const std::string& value) {
  // SameSite=Strict: the login form posts to our own origin; a cross-site POST (login CSRF) arrives
  // without the cookie and fails the HMAC check. Path limits it to the authorization endpoint.
  std::string c = std::string(oauth_csrf_cookie) + "=" + value + "; Path=/oauth/authorize; HttpOnly; SameSite=Strict";
  if (svc.options().issuer.rfind("https://", 0) == 0) c += "; Secure";
  return c;
}

awaitable<net::response> authorize_get(oauth::service* svc, oauth_branding b, net::request_context ctx) {
  std::string binding = cookie_binding(ctx.req);
  std::string set_cookie;
  if (binding.empty()) {
    binding = oauth::random_token(32);
    set_cookie = cookie_header(*svc, binding);
  }
  auto query = query_of(ctx);
  auto out = co_await svc->begin_authorize(std::move(query), binding);
  co_return render(ctx, b, out, http::status::found, set_cookie);
}

awaitable<net::response> authorize_post(oauth::service* svc, oauth_branding b, net::request_context ctx) {
  if (!is_form(ctx.req)) {
    oauth::page_error e{"invalid_request", "The sign-in form must be sent as application/x-www-form-urlencoded.", 415};
    co_return html_response(ctx, e.status, detail::render_error(b, e));
  }
  auto form = net::parse_query_list(ctx.req.body());
  auto binding = cookie_binding(ctx.req);
  auto ip = ctx.remote.to_string();
  auto out = co_await svc->login(std::move(form), std::move(binding), std::move(ip));
  // 303 See Other: the browser follows with a GET and never re-posts the password (RFC 9700 §4.12).
  co_return render(ctx, b, out, http::status::see_other, "");
}

/// RFC 6749 §5.1/§5.2: JSON, never cached.
net::response token_json(const net::request_context& ctx, http::status s, const nlohmann::json& body) {
  auto res = net::json_response(s, body, ctx.req.version(), ctx.req.keep_alive());
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::pragma, "no-cache");
  return res;
}

net::response token_error_response(const net::request_context& ctx, const oauth::token_error& e) {
  auto res = token_json(ctx, static_cast<http::status>(e.status),
                        nlohmann::json{{"error", e.error}, {"error_description", e.description}});
  if (e.www_authenticate) res.set(http::field::www_authenticate, "Basic realm=\"kazoo-bridge\", charset=\"UTF-8\"");
  // Not the client's fault: say when to come back (RFC 7009 §2.2.1, RFC 9110 §10.2.3).
  if (e.status == 503) res.set(http::field::retry_after, "5");
  return res;
}

std::optional<oauth::token_error> require_form(const net::request_context& ctx) {
  if (is_form(ctx.req)) return std::nullopt;
  return oauth::token_error{400, "invalid_request", "the body must be application/x-www-form-urlencoded", false};
}

awaitable<net::response> token(oauth::service* svc, net::request_context ctx) {
  if (auto e = require_form(ctx)) co_return token_error_response(ctx, *e);
  auto body = net::parse_query_list(ctx.req.body());
  auto authz = header(ctx.req, http::field::authorization);
  auto out = co_await svc->token(std::move(body), std::move(authz));
  if (const auto* e = std::get_if<oauth::token_error>(&out)) co_return token_error_response(ctx, *e);
  co_return token_json(ctx, http::status::ok, std::get<nlohmann::json>(out));
}

awaitable<net::response> revoke(oauth::service* svc, net::request_context ctx) {
  if (auto e = require_form(ctx)) co_return token_error_response(ctx, *e);
  auto body = net::parse_query_list(ctx.req.body());
  auto authz = header(ctx.req, http::field::authorization);
  auto out = co_await svc->revoke(std::move(body), std::move(authz));
  if (out) co_return token_error_response(ctx, *out);
  net::response res{http::status::ok, ctx.req.version()};
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(ctx.req.keep_alive());
  res.prepare_payload();
  co_return res;
}

awaitable<net::response> introspect(oauth::service* svc, net::request_context ctx) {
  if (auto e = require_form(ctx)) co_return token_error_response(ctx, *e);
  auto body = net::parse_query_list(ctx.req.body());
  auto authz = header(ctx.req, http::field::authorization);
  auto out = co_await svc->introspect(std::move(body), std::move(authz));
  if (const auto* e = std::get_if<oauth::token_error>(&out)) co_return token_error_response(ctx, *e);
  co_return token_json(ctx, http::status::ok, std::get<nlohmann::json>(out));
}

awaitable<net::response> metadata(oauth::service* svc, net::request_context ctx) {
  auto res = net::json_response(http::status::ok, svc->metadata(), ctx.req.version(), ctx.req.keep_alive());
  res.set(http::field::cache_control, "max-age=300");
  co_return res;
}

}  // namespace

void add_oauth_routes(net::router& r, oauth::service& svc, oauth_branding branding) {
  auto* s = &svc;
  r.add(http::verb::get, "/oauth/authorize",
        [s, branding](net::request_context ctx) { return authorize_get(s, branding, std::move(ctx)); });
  r.add(http::verb::post, "/oauth/authorize",
        [s, branding](net::request_context ctx) { return authorize_post(s, branding, std::move(ctx)); });
  r.add(http::verb::post, "/oauth/token", [s](net::request_context ctx) { return token(s, std::move(ctx)); });
  r.add(http::verb::post, "/oauth/revoke", [s](net::request_context ctx) { return revoke(s, std::move(ctx)); });
  r.add(http::verb::post, "/oauth/introspect",
        [s](net::request_context ctx) { return introspect(s, std::move(ctx)); });
  r.add(http::verb::get, "/.well-known/oauth-authorization-server",
        [s](net::request_context ctx) { return metadata(s, std::move(ctx)); });
}

}  // namespace kazoo_bridge::api
