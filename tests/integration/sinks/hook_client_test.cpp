#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <array>
#include <vector>

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

// A raw HTTP/1.1 server on one accepted connection: for each scripted reply it reads one request
// (head up to the empty line, then Content-Length body bytes), records the bytes exactly as they
// arrived, and writes the reply verbatim. It sees what a real sink sees, with no parser in between.
struct raw_exchange {
  std::string head, body;
};

awaitable<void> raw_server(tcp::acceptor& acceptor, std::vector<std::string> replies,
                           std::vector<raw_exchange>* seen) {
  auto [aec, sock] = co_await acceptor.async_accept(use_nothrow);
  if (aec) co_return;
  std::string in;
  for (const auto& reply : replies) {
    auto [rec, n] = co_await asio::async_read_until(sock, asio::dynamic_buffer(in), "\r\n\r\n", use_nothrow);
    if (rec) co_return;
    raw_exchange x;
    x.head = in.substr(0, n);
    in.erase(0, n);
    std::size_t length = 0;
    const auto at = x.head.find("\r\nContent-Length: ");
    if (at != std::string::npos) length = std::stoul(x.head.substr(at + 18));
    if (in.size() < length) {
      auto [bec, bn] = co_await asio::async_read(sock, asio::dynamic_buffer(in),
                                                 asio::transfer_exactly(length - in.size()), use_nothrow);
      if (bec) co_return;
    }
    x.body = in.substr(0, length);
    in.erase(0, length);
    seen->push_back(std::move(x));
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(reply), use_nothrow);
    if (wec) co_return;
  }
  // Whatever else arrives on this connection (nothing should) is recorded as a request head.
  auto [rec, n] = co_await asio::async_read_until(sock, asio::dynamic_buffer(in), "\r\n\r\n", use_nothrow);
  if (!rec) seen->push_back({in, ""});
}

std::string url_of(const tcp::acceptor& acceptor, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + std::string(path);
}

constexpr std::string_view ok_reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";

// The head split into its request line and its header lines, in order.
std::vector<std::string> lines_of(const std::string& head) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (auto at = head.find("\r\n"); at != std::string::npos && at != from; at = head.find("\r\n", from)) {
    out.push_back(head.substr(from, at - from));
    from = at + 2;
  }
  return out;
}

TEST(hook_client, a_sink_receives_every_header_and_the_body_byte_for_byte) {
  asio::io_context ioc;
  std::vector<raw_exchange> seen;
  std::uint16_t port = 0;
  const std::string long_body(3000, 'b');
  const std::string short_body = R"({"id":"ev_2"})";
  run_coro(ioc, [&]() -> awaitable<void> {
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
    asio::co_spawn(ioc, raw_server(acceptor, {std::string(ok_reply), std::string(ok_reply)}, &seen),
                   [](std::exception_ptr) {});
    auto o = loopback();
    o.user_agent = "test-agent/1.0";
    hook_client client(ioc.get_executor(), nullptr, o);
    // A long body first, then a short one on the same connection: the second head is written
    // into the first one's buffer and must carry nothing of it.
    // Named, not braced temporaries in the co_await expression (GCC 12, see net/connect.hpp).
    hook_request long_one{url_of(acceptor, "/hooks/a?x=1&y=2"), std::make_shared<const std::string>(long_body),
                          "evt_first", 1614265330, "v1,first="};
    hook_request short_one{url_of(acceptor, "/b"), std::make_shared<const std::string>(short_body), "evt_2",
                           1700000000, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="};
    auto first = co_await client.post(std::move(long_one));
    auto second = co_await client.post(std::move(short_one));
    EXPECT_EQ(first.status, 200) << first.error_text;
    EXPECT_EQ(second.status, 200) << second.error_text;
    EXPECT_TRUE(second.reused_connection);
    client.close_idle();  // the server's last read ends with the connection
    error_code ignored;
    acceptor.close(ignored);
  });
  ASSERT_EQ(seen.size(), 2u);
  const auto host = "Host: 127.0.0.1:" + std::to_string(port);
  auto expect_request = [&](const raw_exchange& x, const std::string& request_line, const std::string& body,
                            std::vector<std::string> headers) {
    auto lines = lines_of(x.head);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), request_line);
    lines.erase(lines.begin());
    // Every header exactly once, nothing else (no Connection header: keep-alive is the default).
    std::sort(lines.begin(), lines.end());
    std::sort(headers.begin(), headers.end());
    EXPECT_EQ(lines, headers);
    EXPECT_TRUE(x.head.ends_with("\r\n\r\n"));
    EXPECT_EQ(x.body, body);
  };
  expect_request(seen[0], "POST /hooks/a?x=1&y=2 HTTP/1.1", long_body,
                 {host, "User-Agent: test-agent/1.0", "Content-Type: application/json", "Content-Length: 3000",
                  "webhook-id: evt_first", "webhook-timestamp: 1614265330", "webhook-signature: v1,first="});
  expect_request(seen[1], "POST /b HTTP/1.1", short_body,
                 {host, "User-Agent: test-agent/1.0", "Content-Type: application/json",
                  "Content-Length: " + std::to_string(short_body.size()), "webhook-id: evt_2",
                  "webhook-timestamp: 1700000000",
                  "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="});
}

TEST(hook_client, header_values_with_control_characters_are_refused_before_sending) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    hook_client client(ioc.get_executor(), nullptr, loopback());
    auto with_id = [&](std::string id, std::string sig) {
      return hook_request{sink.url("/a"), std::make_shared<const std::string>("{}"), std::move(id), 1614265330,
                          std::move(sig)};
    };
    for (auto r : {with_id("ev_1\r\nX-Injected: 1", "v1,abc="), with_id("ev_1\nX-Injected: 1", "v1,abc="),
                   with_id("ev_1", "v1,abc=\r\n\r\nGET /admin HTTP/1.1"), with_id(std::string("ev\0_1", 5), "v1,a")}) {
      auto res = co_await client.post(std::move(r));
      EXPECT_FALSE(res.status.has_value());
      EXPECT_EQ(res.error, make_error_code(boost::system::errc::invalid_argument));
      EXPECT_EQ(res.error_text, "invalid header value");
    }
    // In the URL: refused as an invalid target (parse_url rejects control characters).
    auto in_url = co_await client.post(request_to(sink.url("/a\r\nX-Injected: 1")));
    EXPECT_EQ(in_url.error_text, "invalid target URL");
    auto o = loopback();
    o.user_agent = "agent\r\nX-Injected: 1";
    hook_client bad_agent(ioc.get_executor(), nullptr, o);
    EXPECT_EQ((co_await bad_agent.post(request_to(sink.url()))).error_text, "invalid header value");
    EXPECT_EQ(sink.request_count(), 0u);
    // A tab is a legal field character (RFC 9110 §5.5) and goes through.
    auto tab = co_await client.post(with_id("ev\t1", "v1,abc="));
    EXPECT_EQ(tab.status, 200) << tab.error_text;
    client.close_idle();
    co_await sink.shutdown();
  });
}

TEST(hook_client, interim_responses_are_skipped_and_a_chunked_body_is_read_and_capped) {
  asio::io_context ioc;
  std::vector<raw_exchange> seen;
  run_coro(ioc, [&]() -> awaitable<void> {
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    const std::string chunked =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    // Two connections, one reply each (the accepts complete in order).
    asio::co_spawn(ioc, raw_server(acceptor, {chunked}, &seen), [](std::exception_ptr) {});
    asio::co_spawn(ioc, raw_server(acceptor, {chunked}, &seen), [](std::exception_ptr) {});
    auto o = loopback();
    o.max_response_bytes = 11;
    hook_client at_cap(ioc.get_executor(), nullptr, o);
    auto r = co_await at_cap.post(request_to(url_of(acceptor, "/")));
    EXPECT_EQ(r.status, 429) << r.error_text;
    EXPECT_EQ(r.snippet, "hello world");
    EXPECT_EQ(r.retry_after, "7");
    EXPECT_EQ(at_cap.idle_connections(), 1u);  // a body exactly at the cap is complete: reusable
    // One byte over the cap: cut there, and the connection (its body unread) is not kept.
    o.max_response_bytes = 10;
    hook_client over_cap(ioc.get_executor(), nullptr, o);
    auto cut = co_await over_cap.post(request_to(url_of(acceptor, "/")));
    EXPECT_EQ(cut.status, 429) << cut.error_text;
    EXPECT_EQ(cut.snippet, "hello worl");
    EXPECT_EQ(cut.retry_after, "7");
    EXPECT_EQ(over_cap.idle_connections(), 0u);
    at_cap.close_idle();
    error_code ignored;
    acceptor.close(ignored);
  });
  EXPECT_EQ(seen.size(), 2u);
}

TEST(hook_client, a_full_target_cache_starts_over_without_losing_idle_connections) {
  asio::io_context ioc;
  run_coro(ioc, [&]() -> awaitable<void> {
    fake_http_endpoint sink(ioc.get_executor());
    auto o = loopback();
    o.max_cached_targets = 1;
    hook_client client(ioc.get_executor(), nullptr, o);
    // Each new URL restarts the one-entry cache; the origin's idle connection survives it.
    const std::array<std::string, 4> paths{"/a", "/b", "/a", "/c"};
    for (std::size_t i = 0; i < paths.size(); ++i) {
      auto r = co_await client.post(request_to(sink.url(paths[i])));
      EXPECT_EQ(r.status, 200) << paths[i] << " " << r.error_text;
      EXPECT_EQ(r.reused_connection, i > 0) << paths[i];
    }
    EXPECT_EQ(client.idle_connections(), 1u);
    EXPECT_EQ(sink.request_count(), 4u);
    if (sink.request_count() == 4) {
      EXPECT_EQ(sink.requests()[3].target(), "/c");
    }
    client.close_idle();
    EXPECT_EQ(client.idle_connections(), 0u);
    co_await sink.shutdown();
  });
}

}  // namespace
}  // namespace kazoo_bridge::sinks
