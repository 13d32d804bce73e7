#pragma once
/// Every route of the daemon's HTTP server, registered by one function: `serve` builds its router
/// with it, and the OpenAPI check (tests/unit/app/openapi_test.cpp) compares docs/openapi.yaml
/// with the routes it registers.

#include <kazoo_bridge/api/ops_routes.hpp>
#include <kazoo_bridge/api/v1_routes.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::app {

struct http_route_deps {
  api::readiness_probes probes;
  const metrics_registry& metrics;
  api::v1_deps v1;
};

/// Registers /healthz, /readyz, /metrics and /api/v1/* on `r` (see add_ops_routes, add_v1_routes
/// for what each needs to outlive).
void add_http_routes(net::router& r, http_route_deps d);

}  // namespace kazoo_bridge::app
