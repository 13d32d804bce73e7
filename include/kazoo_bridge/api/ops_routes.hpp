#pragma once
/// Operator endpoints: /healthz (process alive), /readyz (database open and Kazoo subscribed),
/// /metrics (Prometheus text exposition format 0.0.4).

#include <functional>

#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::api {

struct readiness_probes {
  std::function<bool()> database_open;
  std::function<bool()> kazoo_subscribed;
};

/// Registers GET /healthz, /readyz and /metrics. The registry and the probes outlive the router.
void add_ops_routes(net::router& r, readiness_probes probes, const metrics_registry& metrics);

}  // namespace kazoo_bridge::api
