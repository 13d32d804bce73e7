#include <kazoo_bridge/app/http_routes.hpp>

namespace kazoo_bridge::app {

void add_http_routes(net::router& r, http_route_deps d) {
  api::add_ops_routes(r, std::move(d.probes), d.metrics);
  api::add_v1_routes(r, std::move(d.v1));
}

}  // namespace kazoo_bridge::app
