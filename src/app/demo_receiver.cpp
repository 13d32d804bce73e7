#include "app/demo_receiver.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/delivery/signature.hpp>
#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/http_server.hpp>

namespace kazoo_bridge::app {

struct demo_receiver::state {
  std::string secret;
  print_fn print;
};

namespace {

std::string header(const net::request& req, const char* name) {
  auto it = req.find(name);
  return it == req.end() ? std::string{} : std::string(it->value());
}

// Standard Webhooks: webhook-signature holds space-separated "v1,<base64>" entries; one must be the
// HMAC of "id.timestamp.body" under the subscription's secret.
bool signature_ok(const demo_receiver::state& s, const net::request& req) {
  const auto id = header(req, "webhook-id");
  const auto ts = header(req, "webhook-timestamp");
  std::int64_t t = 0;
  try {
    t = std::stoll(ts);
  } catch (const std::exception&) {
    return false;
  }
  auto want = delivery::sign(s.secret, id, t, req.body());
  if (!want) return false;
  const auto got = " " + header(req, "webhook-signature") + " ";
  return got.find(" " + *want + " ") != std::string::npos;
}

awaitable<net::response> on_delivery(std::shared_ptr<demo_receiver::state> s, net::request_context ctx) {
  const bool verified = signature_ok(*s, ctx.req);
  auto body = nlohmann::json::parse(ctx.req.body(), nullptr, false);
  std::string type = body.is_object() ? body.value("type", std::string{"?"}) : std::string{"?"};
  s->print(fmt::format("{}  -> hook receiver: {:<20} {} ({})", format_iso8601(now_unix_ms()).substr(11, 8), type,
                       verified ? "delivered, signature verified" : "delivered, SIGNATURE WRONG",
                       header(ctx.req, "webhook-id")));
  co_return net::json_response(net::http::status::ok, {{"received", true}}, ctx.req.version(), ctx.req.keep_alive());
}

}  // namespace

demo_receiver::demo_receiver(std::string secret, print_fn print)
    : state_(std::make_shared<state>(state{std::move(secret), std::move(print)})) {
  router_.add(net::http::verb::post, "/demo-hook",
              [s = state_](net::request_context ctx) { return on_delivery(s, std::move(ctx)); });
  net::server_options o;
  o.listen = "127.0.0.1:0";
  // A logger without sinks: the demo's terminal shows deliveries through `print` only.
  auto quiet = std::make_shared<spdlog::logger>("demo-hook-receiver");
  server_ = std::make_unique<net::http_server>(ioc_.get_executor(), o, router_, quiet);
  auto ep = server_->listen();
  if (!ep) throw std::runtime_error("the demo hook receiver cannot listen: " + ep.error().message());
  url_ = fmt::format("http://127.0.0.1:{}/demo-hook", ep->port());
  spawn_logged(ioc_.get_executor(), server_->run(), "demo-hook-receiver", quiet);
  thread_ = std::thread([this] { ioc_.run(); });
}

demo_receiver::~demo_receiver() {
  asio::post(ioc_, [this] { server_->stop(); });
  thread_.join();
}

}  // namespace kazoo_bridge::app
