#pragma once
// An in-process kazoo-sim on 127.0.0.1:0 plus a small Beast WebSocket/HTTP client, all on the
// test's io_context (style B.9: loopback, no sleeps, run_coro drives the loop).

#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <kazoo_bridge/common/asio.hpp>
#include <nlohmann/json.hpp>

#include "support/log_capture.hpp"
#include "support/run_coro.hpp"
#include "simulator.hpp"

namespace kazoo_sim::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using kazoo_bridge::awaitable;
using kazoo_bridge::tcp;
using kazoo_bridge::use_nothrow;
using nlohmann::json;

inline const std::string acme_id = "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d";
inline const std::string globex_id = "1b2c3d4e5f60718293a4b5c6d7e8f901";

struct http_result {
  unsigned status = 0;
  json body;
};

/// One request on a fresh connection.
inline awaitable<http_result> http_call(unsigned short port, http::verb verb, std::string target,
                                        std::string body = {}, std::string token = {}) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::seconds(5));
  auto [cec] = co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                             use_nothrow);
  if (cec) co_return http_result{};
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set("X-Auth-Token", token);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  co_await http::async_write(stream, req, use_nothrow);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  auto [rec, rn] = co_await http::async_read(stream, buf, res, use_nothrow);
  if (rec) co_return http_result{};
  co_return http_result{res.result_int(), json::parse(res.body(), nullptr, false)};
}

/// A blackhole client: every frame read is returned as text (binary flagged).
struct ws_client {
  explicit ws_client(asio::any_io_executor ex) : ws(ex) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  bool last_binary = false;
  bool got_pong = false;

  awaitable<bool> connect(unsigned short port) {
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
    auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_nothrow);
    if (cec) co_return false;
    auto [hec] = co_await ws.async_handshake("127.0.0.1", "/", use_nothrow);
    ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) got_pong = true;
    });
    co_return !hec;
  }
  awaitable<bool> send(const json& j) {
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
    auto [ec, n] = co_await ws.async_write(asio::buffer(j.dump()), use_nothrow);
    co_return !ec;
  }
  awaitable<bool> send_text(std::string text) {
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), use_nothrow);
    co_return !ec;
  }
  /// Next frame's text, or nullopt on error/timeout (the deadline closes the socket).
  awaitable<std::optional<std::string>> read_text(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    buffer.clear();
    beast::get_lowest_layer(ws).expires_after(limit);
    auto [ec, n] = co_await ws.async_read(buffer, use_nothrow);
    if (ec) co_return std::nullopt;
    last_binary = ws.got_binary();
    co_return beast::buffers_to_string(buffer.data());
  }
  awaitable<json> read_json(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto t = co_await read_text(limit);
    if (!t) co_return json();
    co_return json::parse(*t, nullptr, false);
  }
  /// Sends a request and returns the reply frame (events may not interleave in these tests).
  awaitable<json> request(const json& j) {
    co_await send(j);
    co_return co_await read_json();
  }
};

class sim_test : public ::testing::Test {
 protected:
  void start(sim_options o = {}) {
    o.ws_listen = "127.0.0.1:0";
    o.api_listen = "127.0.0.1:0";
    sim = std::make_unique<simulator>(ioc.get_executor(), std::move(o), logs.logger());
    sim->start();
  }
  void TearDown() override {
    if (sim) {
      sim->stop();
      ioc.run_for(std::chrono::milliseconds(200));
    }
  }
  unsigned short ws_port() const { return sim->ws_port(); }
  unsigned short api_port() const { return sim->api_port(); }
  std::string api_key() const { return sim->fixture_data().accounts.front().api_key; }

  /// A token for the account owning `api_key` (acme by default).
  awaitable<std::string> token(std::string key = {}) {
    if (key.empty()) key = api_key();
    const json arg2_ = json{{"data", {{"api_key", key}}}};
    auto r = co_await http_call(api_port(), http::verb::put, "/v2/api_auth",
                                arg2_.dump());
    std::string tok = r.body.value("auth_token", std::string());
    co_return tok;
  }
  awaitable<std::unique_ptr<ws_client>> subscribed_client(std::vector<std::string> bindings,
                                                          std::string account = acme_id,
                                                          std::string key = {}) {
    auto c = std::make_unique<ws_client>(co_await asio::this_coro::executor);
    if (!co_await c->connect(ws_port())) co_return nullptr;
    auto tok = co_await token(key);
    for (const auto& b : bindings) {
      const json arg3_ = json{{"action", "subscribe"}, {"auth_token", tok},
                                            {"data", {{"account_id", account}, {"binding", b}}}};
      auto reply = co_await c->request(arg3_);
      if (reply.value("status", "") != "success") co_return nullptr;
    }
    co_return c;
  }
  awaitable<http_result> play(json body) {
    co_return co_await http_call(api_port(), http::verb::post, "/sim/play", body.dump());
  }

  asio::io_context ioc{1};
  kazoo_bridge::test::log_capture logs;
  std::unique_ptr<simulator> sim;
};

}  // namespace kazoo_sim::test
