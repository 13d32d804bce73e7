#include <kazoo_bridge/app/http_routes.hpp>

namespace kazoo_bridge::app {

namespace {

api::caller caller_of(oauth::access a) {
  api::caller c;
  c.account_id = std::move(a.who.account_id);
  c.account_name = std::move(a.who.account_name);
  c.user_id = std::move(a.who.user_id);
  c.user_name = std::move(a.who.user_name);
  c.email = std::move(a.who.email);
  c.extensions = std::move(a.who.extensions);
  c.admin = a.who.admin;
  c.scopes = std::move(a.scopes);
  c.client_id = std::move(a.client_id);
  c.grant_id = std::move(a.grant_id);
  return c;
}

awaitable<result<std::optional<api::caller>>> authenticate_token(oauth::service* svc, std::string token) {
  auto found = co_await svc->authenticate(std::move(token));
  if (!found) co_return found.error();  // could not check (database): the API answers 503
  if (!*found) co_return std::optional<api::caller>{};
  co_return std::optional<api::caller>{caller_of(std::move(**found))};
}

}  // namespace

api::authenticate_fn authenticate_with(oauth::service& svc) {
  return [svc = &svc](std::string token) { return authenticate_token(svc, std::move(token)); };
}

void add_http_routes(net::router& r, http_route_deps d) {
  api::add_ops_routes(r, std::move(d.probes), d.metrics);
  api::add_oauth_routes(r, d.oauth, std::move(d.branding));
  api::add_v1_routes(r, std::move(d.v1));
  if (d.hooks) api::add_hook_routes(r, std::move(*d.hooks));
  if (d.dial) api::add_dial_routes(r, std::move(*d.dial));
}

}  // namespace kazoo_bridge::app
