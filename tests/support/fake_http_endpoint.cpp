#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/null_sink.h>
#include <stdexcept>

#include <support/fake_http_endpoint.hpp>
#include <support/wait_until.hpp>

namespace kazoo_bridge::test {

fake_http_endpoint::fake_http_endpoint(asio::any_io_executor ex,
                                       std::shared_ptr<asio::ssl::context> tls)
    : tls_(tls != nullptr) {
  router_.set_fallback([this](net::request_context ctx) { return respond(this, std::move(ctx)); });
  net::server_options o;
  o.listen = "127.0.0.1:0";
  o.tls = std::move(tls);
  o.read_timeout = std::chrono::seconds(5);
  auto log = std::make_shared<spdlog::logger>("fake_http",
                                              std::make_shared<spdlog::sinks::null_sink_mt>());
  server_ = std::make_unique<net::http_server>(ex, std::move(o), router_, log);
  auto ep = server_->listen();
  if (!ep) throw std::runtime_error("fake_http_endpoint: listen failed: " + ep.error().message());
  port_ = ep->port();
  asio::co_spawn(ex, server_->run(), [this](std::exception_ptr) { finished_ = true; });
}

fake_http_endpoint::~fake_http_endpoint() { stop(); }

void fake_http_endpoint::push(scripted_reply r) { script_.push_back(std::move(r)); }

void fake_http_endpoint::push(net::http::status s, std::string body) {
  scripted_reply r;
  r.status = s;
  r.body = std::move(body);
  push(std::move(r));
}

void fake_http_endpoint::set_default(scripted_reply r) { default_ = std::move(r); }

std::string fake_http_endpoint::url(std::string_view path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
         std::string(path);
}

void fake_http_endpoint::stop() {
  if (server_) server_->stop();
}

awaitable<void> fake_http_endpoint::shutdown() {
  stop();
  co_await wait_until([this] { return finished_; }, std::chrono::seconds(3));
}

awaitable<net::response> fake_http_endpoint::respond(fake_http_endpoint* self,
                                                     net::request_context ctx) {
  self->requests_.push_back(ctx.req);
  scripted_reply r = self->default_;
  if (!self->script_.empty()) {
    r = std::move(self->script_.front());
    self->script_.pop_front();
  }
  if (r.delay.count() > 0) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(r.delay);
    co_await t.async_wait(asio::use_awaitable);  // cancelled (throws) when the server stops
  }
  net::response res{r.status, ctx.req.version()};
  if (!r.content_type.empty()) res.set(net::http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.insert(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(ctx.req.keep_alive());
  res.prepare_payload();
  co_return res;
}

}  // namespace kazoo_bridge::test
