#pragma once
/// Every route of the daemon's HTTP server, registered by one function: `serve` builds its router
/// with it, and the OpenAPI check (tests/unit/app/openapi_test.cpp) compares docs/openapi.yaml
/// with the routes it registers.

#include <optional>

#include <kazoo_bridge/api/hook_routes.hpp>
#include <kazoo_bridge/api/dial_routes.hpp>
#include <kazoo_bridge/api/oauth_routes.hpp>
#include <kazoo_bridge/api/ops_routes.hpp>
#include <kazoo_bridge/api/v1_routes.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::app {

struct http_route_deps {
  api::readiness_probes probes;
  const metrics_registry& metrics;
  api::v1_deps v1;
  oauth::service& oauth;
  api::oauth_branding branding;
  std::optional<api::hook_deps> hooks{};  ///< REST hooks and GET /api/v1/events (issue #4)
  std::optional<api::dial_deps> dial;  ///< POST /api/v1/calls (click-to-call); nullopt: not offered
};

/// The API's view of a bearer token, answered by the OAuth server: the identity captured at login
/// and the granted scopes (oauth::service::authenticate()).
api::authenticate_fn authenticate_with(oauth::service& svc);

/// Registers /healthz, /readyz, /metrics, /oauth/*, /.well-known/oauth-authorization-server and
/// /api/v1/* on `r` (see add_ops_routes, add_oauth_routes, add_v1_routes, add_hook_routes, add_dial_routes for
/// what each needs to outlive); the hook and dial routes only when `d.hooks` / `d.dial` are set.
void add_http_routes(net::router& r, http_route_deps d);

}  // namespace kazoo_bridge::app
