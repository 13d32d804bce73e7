#include <kazoo_bridge/api/ops_routes.hpp>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/net/http_response.hpp>

namespace kazoo_bridge::api {
namespace http = net::http;

namespace {

// Handlers are coroutine functions taking everything by value; the routes bind them with plain (non-
// coroutine) lambdas, so no coroutine ever reads a lambda capture (style guide B.3 rule 4).
awaitable<net::response> healthz(net::request_context ctx) {
  co_return net::json_response(http::status::ok, {{"status", "ok"}}, ctx.req.version(), ctx.req.keep_alive());
}

awaitable<net::response> readyz(readiness_probes probes, net::request_context ctx) {
  const bool db = probes.database_open && probes.database_open();
  const bool kazoo = probes.kazoo_subscribed && probes.kazoo_subscribed();
  nlohmann::json body{{"status", db && kazoo ? "ready" : "not_ready"},
                      {"database", db ? "open" : "unavailable"},
                      {"kazoo", kazoo ? "subscribed" : "not_subscribed"}};
  co_return net::json_response(db && kazoo ? http::status::ok : http::status::service_unavailable, body,
                               ctx.req.version(), ctx.req.keep_alive());
}

awaitable<net::response> metrics_text(const metrics_registry* metrics, net::request_context ctx) {
  net::response res{http::status::ok, ctx.req.version()};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = metrics->render();
  res.keep_alive(ctx.req.keep_alive());
  res.prepare_payload();
  co_return res;
}

}  // namespace

void add_ops_routes(net::router& r, readiness_probes probes, const metrics_registry& metrics) {
  r.add(http::verb::get, "/healthz", healthz);
  r.add(http::verb::get, "/readyz",
        [probes = std::move(probes)](net::request_context ctx) { return readyz(probes, std::move(ctx)); });
  r.add(http::verb::get, "/metrics",
        [m = &metrics](net::request_context ctx) { return metrics_text(m, std::move(ctx)); });
}

}  // namespace kazoo_bridge::api
