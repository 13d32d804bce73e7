// http_server over loopback with raw client sockets: limits, keep-alive, concurrency, stop.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/http_server.hpp>
#include <support/log_capture.hpp>
#include <support/run_coro.hpp>
#include <support/wait_until.hpp>

namespace kazoo_bridge::net {
namespace {

using namespace std::chrono_literals;

// --- raw client helpers (stream by reference: always awaited directly by the test coroutine) ---

awaitable<beast::tcp_stream> connect_to(std::uint16_t port) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  tcp::endpoint ep{asio::ip::address_v4::loopback(), port};
  stream.expires_after(2s);
  co_await stream.async_connect(ep, asio::use_awaitable);
  stream.expires_never();
  co_return stream;
}

awaitable<void> send_raw(beast::tcp_stream& s, std::string bytes) {
  co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
}

// Reads one response; a failed read is returned as an error (e.g. the server closed silently).
awaitable<result<response>> read_response(beast::tcp_stream& s, beast::flat_buffer& b,
                                          std::chrono::milliseconds limit = 3s) {
  response res;
  s.expires_after(limit);
  auto [ec, n] = co_await http::async_read(s, b, res, use_nothrow);
  s.expires_never();
  if (ec) co_return ec;
  co_return res;
}

// True when the server closed the connection (EOF) before `limit`.
awaitable<bool> closed_by_server(beast::tcp_stream& s, std::chrono::milliseconds limit = 3s) {
  std::array<char, 512> buf{};
  s.expires_after(limit);
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), use_nothrow);
    if (ec) {
      s.expires_never();
      co_return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
  }
}

std::string get_request(const std::string& target, bool close = false) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n";
}

nlohmann::json body_of(const response& r) { return nlohmann::json::parse(r.body(), nullptr, false); }

void expect_json_error(const response& r, http::status s, const char* error) {
  EXPECT_EQ(r.result(), s);
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_FALSE(r.keep_alive()) << "error replies carry Connection: close";
  auto j = body_of(r);
  EXPECT_EQ(j.value("error", ""), error);
  EXPECT_TRUE(j.contains("error_description"));
}

// --- handlers (free coroutines, no capturing lambda coroutines) ---

awaitable<response> echo(request_context ctx) {
  co_return json_response(http::status::ok, {{"path", std::string(ctx.path())},
                                             {"body", ctx.req.body()},
                                             {"remote", ctx.remote.to_string()}});
}

awaitable<response> boom(request_context) {
  throw std::runtime_error("handler exploded");
  co_return response{};
}

struct slow_state {
  bool entered = false;
  bool finished = false;
};

awaitable<response> slow(slow_state* st, request_context) {
  st->entered = true;
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(10s);
  co_await t.async_wait(asio::use_awaitable);  // throws when stop() cancels us
  st->finished = true;
  co_return json_response(http::status::ok, {{"slow", true}});
}

class http_server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    r_.add(http::verb::get, "/echo", echo);
    r_.add(http::verb::post, "/echo", echo);
    r_.add(http::verb::get, "/boom", boom);
    r_.add(http::verb::get, "/slow", [st = &slow_](request_context c) { return slow(st, std::move(c)); });
  }

  void start(server_options o = {}) {
    o.listen = "127.0.0.1:0";
    server_ = std::make_unique<http_server>(ioc_.get_executor(), std::move(o), r_, log_.logger());
    server_->on_listening = [this] { listening_called_ = true; };
    auto ep = server_->listen();
    ASSERT_TRUE(ep) << ep.error().message();
    port_ = ep->port();
    asio::co_spawn(ioc_, server_->run(), [this](std::exception_ptr e) {
      run_finished_ = true;
      run_error_ = e;
    });
  }

  void TearDown() override {
    if (!server_) return;
    server_->stop();
    test::run_coro(ioc_, [this]() -> awaitable<void> {
      EXPECT_TRUE(co_await test::wait_until([this] { return run_finished_; }, 2s))
          << "run() did not return after stop()";
    });
    EXPECT_FALSE(run_error_);
    EXPECT_EQ(server_->live_sessions(), 0u);
    server_.reset();
    ioc_.restart();
    ioc_.poll();  // nothing may be left that touches the destroyed server
  }

  asio::io_context ioc_;
  router r_;
  test::log_capture log_{"api"};
  slow_state slow_;
  std::unique_ptr<http_server> server_;
  std::uint16_t port_ = 0;
  bool run_finished_ = false;
  bool listening_called_ = false;
  std::exception_ptr run_error_;
};

TEST_F(http_server_test, serves_keep_alive_requests_and_counts_sessions) {
  start();
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    EXPECT_TRUE(listening_called_);
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, get_request("/echo?x=1"));
    auto first = co_await read_response(s, b);
    if (!first) {
      ADD_FAILURE() << first.error().message();
      co_return;
    }
    EXPECT_EQ(first->result(), http::status::ok);
    EXPECT_TRUE(first->keep_alive());
    EXPECT_EQ(body_of(*first)["path"], "/echo");
    EXPECT_EQ(body_of(*first)["remote"], "127.0.0.1");
    EXPECT_EQ(server_->live_sessions(), 1u);

    // Same connection, two pipelined requests, the second one closing.
    co_await send_raw(s, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" +
                             get_request("/nope", true));
    auto second = co_await read_response(s, b);
    auto third = co_await read_response(s, b);
    if (!second || !third) {
      ADD_FAILURE() << "pipelined responses missing";
      co_return;
    }
    EXPECT_EQ(body_of(*second)["body"], "hello");
    expect_json_error(*third, http::status::not_found, "not_found");
    EXPECT_TRUE(co_await closed_by_server(s));
    EXPECT_TRUE(co_await test::wait_until([this] { return server_->live_sessions() == 0; }));
  });
}

TEST_F(http_server_test, live_sessions_return_to_zero_after_peers_close) {
  start();
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    std::vector<beast::tcp_stream> clients;
    for (int i = 0; i < 5; ++i) {
      clients.push_back(co_await connect_to(port_));
      co_await send_raw(clients.back(), get_request("/echo"));
      beast::flat_buffer b;
      auto res = co_await read_response(clients.back(), b);
      EXPECT_TRUE(res);
    }
    EXPECT_EQ(server_->live_sessions(), 5u);
    for (auto& c : clients) c.close();
    EXPECT_TRUE(co_await test::wait_until([this] { return server_->live_sessions() == 0; }));
  });
}

TEST_F(http_server_test, malformed_request_gets_400_json_and_close) {
  start();
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, "THIS IS NOT HTTP\r\n\r\n");
    auto res = co_await read_response(s, b);
    if (!res) {
      ADD_FAILURE() << res.error().message();
      co_return;
    }
    expect_json_error(*res, http::status::bad_request, "invalid_request");
    EXPECT_TRUE(co_await closed_by_server(s));
  });
}

TEST_F(http_server_test, http11_request_without_host_gets_400) {
  start();
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, "GET /echo HTTP/1.1\r\n\r\n");
    auto res = co_await read_response(s, b);
    if (!res) {
      ADD_FAILURE() << res.error().message();
      co_return;
    }
    expect_json_error(*res, http::status::bad_request, "invalid_request");
  });
}

TEST_F(http_server_test, oversized_header_gets_431) {
  server_options o;
  o.max_header_bytes = 1024;
  start(o);
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, "GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') +
                             "\r\n\r\n");
    auto res = co_await read_response(s, b);
    if (!res) {
      ADD_FAILURE() << res.error().message();
      co_return;
    }
    expect_json_error(*res, http::status::request_header_fields_too_large, "header_too_large");
  });
}

TEST_F(http_server_test, oversized_body_gets_413_even_while_client_still_sends) {
  server_options o;
  o.max_body_bytes = 1000;
  start(o);
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n" +
                             std::string(100000, 'x'));
    auto res = co_await read_response(s, b);
    if (!res) {
      ADD_FAILURE() << res.error().message();
      co_return;
    }
    expect_json_error(*res, http::status::payload_too_large, "payload_too_large");

    // A chunked body (no Content-Length up front) is cut off too.
    auto s2 = co_await connect_to(port_);
    beast::flat_buffer b2;
    co_await send_raw(s2, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "800\r\n" + std::string(0x800, 'y') + "\r\n0\r\n\r\n");
    auto res2 = co_await read_response(s2, b2);
    if (!res2) {
      ADD_FAILURE() << res2.error().message();
      co_return;
    }
    expect_json_error(*res2, http::status::payload_too_large, "payload_too_large");
  });
}

TEST_F(http_server_test, expect_100_continue_is_honoured) {
  start();
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                         "Expect: 100-continue\r\n\r\n");
    auto interim = co_await read_response(s, b);
    if (!interim) {
      ADD_FAILURE() << interim.error().message();
      co_return;
    }
    EXPECT_EQ(interim->result(), http::status::continue_);
    co_await send_raw(s, "abc");
    auto res = co_await read_response(s, b);
    if (!res) {
      ADD_FAILURE() << res.error().message();
      co_return;
    }
    EXPECT_EQ(body_of(*res)["body"], "abc");
  });
}

TEST_F(http_server_test, slow_loris_gets_408_and_never_delays_other_clients) {
  server_options o;
  o.read_timeout = 300ms;
  start(o);
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto slow_client = co_await connect_to(port_);
    co_await send_raw(slow_client, "GET /echo HTTP/1.1\r\nHost: t\r\nX-Drip: ");  // then stalls
    // Meanwhile several other clients are served in full.
    for (int i = 0; i < 4; ++i) {
      auto s = co_await connect_to(port_);
      beast::flat_buffer b;
      co_await send_raw(s, get_request("/echo", true));
      auto res = co_await read_response(s, b, 250ms);
      EXPECT_TRUE(res && res->result() == http::status::ok) << "client " << i;
    }
    beast::flat_buffer b;
    auto res = co_await read_response(slow_client, b);
    if (!res) {
      ADD_FAILURE() << res.error().message();
      co_return;
    }
    expect_json_error(*res, http::status::request_timeout, "request_timeout");
    EXPECT_TRUE(co_await closed_by_server(slow_client));
  });
}

TEST_F(http_server_test, idle_keep_alive_connection_is_closed_silently) {
  server_options o;
  o.idle_timeout = 150ms;
  start(o);
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, get_request("/echo"));
    auto res = co_await read_response(s, b);
    EXPECT_TRUE(res);
    // No 408 for a keep-alive connection that simply stays quiet: just EOF.
    auto next = co_await read_response(s, b, 2s);
    EXPECT_FALSE(next);
    if (!next) {
      EXPECT_EQ(next.error(), http::error::end_of_stream);
    }
    EXPECT_TRUE(co_await test::wait_until([this] { return server_->live_sessions() == 0; }));
  });
}

TEST_F(http_server_test, handler_exception_becomes_500_and_server_keeps_serving) {
  start();
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    beast::flat_buffer b;
    co_await send_raw(s, get_request("/boom"));
    auto res = co_await read_response(s, b);
    if (!res) {
      ADD_FAILURE() << res.error().message();
      co_return;
    }
    expect_json_error(*res, http::status::internal_server_error, "server_error");
    EXPECT_EQ(res->body().find("exploded"), std::string::npos) << "no internals leak to clients";

    auto s2 = co_await connect_to(port_);
    beast::flat_buffer b2;
    co_await send_raw(s2, get_request("/echo", true));
    auto ok = co_await read_response(s2, b2);
    EXPECT_TRUE(ok && ok->result() == http::status::ok);
  });
  EXPECT_TRUE(log_.contains("handler exploded"));
}

TEST_F(http_server_test, stop_with_a_request_in_flight_completes_promptly) {
  start();
  bool client_saw_close = false;
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    auto s = co_await connect_to(port_);
    co_await send_raw(s, get_request("/slow"));
    EXPECT_TRUE(co_await test::wait_until([&] { return slow_.entered; }));
    auto idle = co_await connect_to(port_);  // an idle keep-alive connection too
    EXPECT_TRUE(co_await test::wait_until([&] { return server_->live_sessions() == 2; }));
    server_->stop();
    EXPECT_TRUE(co_await test::wait_until([&] { return run_finished_; }, 1s))
        << "run() still waiting for a 10 s handler";
    client_saw_close = co_await closed_by_server(s, 1s);
  });
  EXPECT_TRUE(client_saw_close);
  EXPECT_FALSE(slow_.finished);
  EXPECT_EQ(server_->live_sessions(), 0u);
}

TEST_F(http_server_test, connections_beyond_max_are_closed) {
  server_options o;
  o.max_connections = 2;
  start(o);
  test::run_coro(ioc_, [this]() -> awaitable<void> {
    auto a = co_await connect_to(port_);
    auto b = co_await connect_to(port_);
    EXPECT_TRUE(co_await test::wait_until([this] { return server_->live_sessions() == 2; }));
    auto c = co_await connect_to(port_);
    EXPECT_TRUE(co_await closed_by_server(c, 1s));
    // The first two are still served.
    beast::flat_buffer buf;
    co_await send_raw(a, get_request("/echo"));
    auto res = co_await read_response(a, buf);
    EXPECT_TRUE(res && res->result() == http::status::ok);
  });
}

TEST(http_server_listen, bind_errors_are_returned) {
  asio::io_context ioc;
  router r;
  test::log_capture log;
  server_options o;
  o.listen = "127.0.0.1:0";
  http_server first(ioc.get_executor(), o, r, log.logger());
  auto ep = first.listen();
  ASSERT_TRUE(ep);
  o.listen = "127.0.0.1:" + std::to_string(ep->port());
  http_server second(ioc.get_executor(), o, r, log.logger());
  auto taken = second.listen();
  EXPECT_FALSE(taken);
  o.listen = "not-an-address:80";
  http_server third(ioc.get_executor(), o, r, log.logger());
  EXPECT_FALSE(third.listen());
}

TEST(http_server_listen, parse_listen_address_table) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:8080").value(),
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), 8080));
  EXPECT_EQ(parse_listen_address("[::1]:0").value(), tcp::endpoint(asio::ip::make_address("::1"), 0));
  EXPECT_EQ(parse_listen_address("localhost:80").value(),
            tcp::endpoint(asio::ip::address_v4::loopback(), 80));
  EXPECT_EQ(parse_listen_address(":9000").value(), tcp::endpoint(asio::ip::address_v4::any(), 9000));
  for (const char* bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80",
                          "[127.0.0.1]:80", "127.0.0.1:8o", "host.example:80"}) {
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
  }
}

}  // namespace
}  // namespace kazoo_bridge::net
