#include <gtest/gtest.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/sinks/hook_client.hpp>

#include "support/fake_http_endpoint.hpp"
#include "support/run_coro.hpp"

namespace kazoo_bridge::sinks {
namespace {

using namespace std::chrono_literals;
using test::fake_http_endpoint;
using test::run_coro;
using test::scripted_reply;
namespace http = net::http;

const std::string tls_dir = std::string(KAZOO_BRIDGE_TEST_DATA) + "/tls/";

hook_client_options loopback() {
  hook_client_options o;
  o.allow_private_targets = true;
  o.total_timeout = 2s;
  return o;
}

hook_request request_to(std::string url) {
  return {std::move(url), std::make_shared<const std::string>(R"({"id":"ev_1"})"), "ev_1", 1614265330, "v1,abc="};
}

TEST(hook_client, keeps_the_connection_alive_between_attempts) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    hook_client client(ioc.get_executor(), nullptr, loopback());
    auto first = co_await client.post(request_to(sink.url("/a")));
    auto second = co_await client.post(request_to(sink.url("/b")));
    EXPECT_EQ(first.status, 200);
    EXPECT_FALSE(first.reused_connection);
    EXPECT_EQ(second.status, 200);
    EXPECT_TRUE(second.reused_connection);
    EXPECT_EQ(client.idle_connections(), 1u);
    EXPECT_EQ(sink.request_count(), 2u);
    if (sink.request_count() == 2) {
      const auto& r = sink.requests()[1];
      EXPECT_EQ(r.target(), "/b");
      EXPECT_EQ(r["webhook-id"], "ev_1");
      EXPECT_EQ(r["webhook-timestamp"], "1614265330");
      EXPECT_EQ(r["webhook-signature"], "v1,abc=");
      EXPECT_EQ(r[http::field::content_type], "application/json");
      EXPECT_EQ(r.body(), R"({"id":"ev_1"})");
    }
    client.close_idle();
    co_await sink.shutdown();
  });
}

TEST(hook_client, an_old_idle_connection_is_not_reused) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    auto o = loopback();
    o.idle_timeout = 0ms;
    hook_client client(ioc.get_executor(), nullptr, o);
    co_await client.post(request_to(sink.url()));
    auto second = co_await client.post(request_to(sink.url()));
    EXPECT_EQ(second.status, 200);
    EXPECT_FALSE(second.reused_connection);
    client.close_idle();
    co_await sink.shutdown();
  });
}

// A keep-alive server that closes every connection after one response without saying so (no
// "Connection: close"), as servers do when their idle timer fires between our requests.
awaitable<void> one_response_per_connection(tcp::acceptor& acceptor, int connections, int* served) {
  for (int i = 0; i < connections; ++i) {
    auto [aec, sock] = co_await acceptor.async_accept(use_nothrow);
    if (aec) co_return;
    asio::streambuf buf;
    auto [rec, n] = co_await asio::async_read_until(sock, buf, "\r\n\r\n", use_nothrow);
    if (rec) co_return;
    // The body (Content-Length) may not all be in yet; it does not matter, the socket closes.
    std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}";
    co_await asio::async_write(sock, asio::buffer(reply), use_nothrow);
    ++*served;
    error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }
}

TEST(hook_client, a_reused_connection_closed_by_the_peer_is_retried_on_a_fresh_one) {
  asio::io_context ioc;
  int served = 0;
  run_coro(ioc, [&]() -> awaitable<void> {
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    asio::co_spawn(ioc, one_response_per_connection(acceptor, 2, &served), [](std::exception_ptr) {});
    hook_client client(ioc.get_executor(), nullptr, loopback());
    const auto url = "http://127.0.0.1:" + std::to_string(port) + "/";
    auto first = co_await client.post(request_to(url));
    EXPECT_EQ(first.status, 200);
    auto second = co_await client.post(request_to(url));
    EXPECT_EQ(second.status, 200) << second.error_text;
    client.close_idle();
    error_code ignored;
    acceptor.close(ignored);
  });
  EXPECT_EQ(served, 2);
}

TEST(hook_client, redirects_are_returned_not_followed) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    sink.push({http::status::found, "", "text/plain", {{"Location", "http://169.254.169.254/"}}, 0ms});
    hook_client client(ioc.get_executor(), nullptr, loopback());
    auto r = co_await client.post(request_to(sink.url()));
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(sink.request_count(), 1u);
    client.close_idle();
    co_await sink.shutdown();
  });
}

TEST(hook_client, a_huge_body_is_cut_to_the_cap_and_the_connection_closed) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    sink.push({http::status::service_unavailable, std::string(8 << 20, 'y'), "text/plain",
               {{"Retry-After", "120"}}, 0ms});
    auto o = loopback();
    o.max_response_bytes = 4096;
    hook_client client(ioc.get_executor(), nullptr, o);
    auto r = co_await client.post(request_to(sink.url()));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.snippet, std::string(4096, 'y'));
    EXPECT_EQ(r.retry_after, "120");
    EXPECT_EQ(client.idle_connections(), 0u);  // the rest of the body was never read
    co_await sink.shutdown();
  }, 10s);
}

TEST(hook_client, a_hanging_server_is_cut_off_at_the_total_timeout) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    sink.push({http::status::ok, "{}", "application/json", {}, 1500ms});
    auto o = loopback();
    o.total_timeout = 200ms;
    hook_client client(ioc.get_executor(), nullptr, o);
    auto r = co_await client.post(request_to(sink.url()));
    EXPECT_FALSE(r.status.has_value());
    EXPECT_EQ(r.error, make_error_code(errc::timeout));
    EXPECT_EQ(r.error_text, "timeout");
    EXPECT_LT(r.duration, 1500ms);
    co_await sink.shutdown();
  }, 10s);
}

TEST(hook_client, private_addresses_are_refused_after_resolution) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    auto o = loopback();
    o.allow_private_targets = false;
    hook_client client(ioc.get_executor(), nullptr, o);
    for (auto url : {sink.url(), "http://localhost:" + std::to_string(sink.port()) + "/",
                     "http://[::ffff:127.0.0.1]:" + std::to_string(sink.port()) + "/"}) {
      auto r = co_await client.post(request_to(url));
      EXPECT_FALSE(r.status.has_value()) << url;
      EXPECT_EQ(r.error, make_error_code(errc::forbidden)) << url;
    }
    EXPECT_EQ(sink.request_count(), 0u);
    co_await sink.shutdown();
  });
}

TEST(hook_client, https_is_verified_with_sni) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor(),
                            net::make_server_tls_context(tls_dir + "server.crt", tls_dir + "server.key"));
    hook_client good(ioc.get_executor(), net::make_client_tls_context_only(tls_dir + "ca.crt"), loopback());
    auto ok = co_await good.post(request_to(sink.url()));
    EXPECT_EQ(ok.status, 200) << ok.error_text;
    auto again = co_await good.post(request_to("https://localhost:" + std::to_string(sink.port()) + "/"));
    EXPECT_EQ(again.status, 200) << again.error_text;
    hook_client wrong_ca(ioc.get_executor(), net::make_client_tls_context_only(tls_dir + "other_ca.crt"),
                         loopback());
    auto bad = co_await wrong_ca.post(request_to(sink.url()));
    EXPECT_FALSE(bad.status.has_value());
    EXPECT_EQ(bad.error_text.rfind("TLS", 0), 0u) << bad.error_text;
    good.close_idle();
    co_await sink.shutdown();
  });
}

TEST(hook_client, refuses_other_schemes_and_https_without_a_tls_context) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    hook_client client(ioc.get_executor(), nullptr, loopback());
    EXPECT_EQ((co_await client.post(request_to("ftp://127.0.0.1/"))).error_text, "invalid target URL");
    EXPECT_EQ((co_await client.post(request_to("https://127.0.0.1/"))).error_text, "invalid target URL");
  });
}

}  // namespace
}  // namespace kazoo_bridge::sinks
