// ws_client against fake_ws_source over loopback: ws + wss, frames both ways, keepalive, close.
#include <gtest/gtest.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/net/ws_client.hpp>
#include <support/fake_ws_source.hpp>
#include <support/run_coro.hpp>
#include <support/wait_until.hpp>

namespace kazoo_bridge::net {
namespace {

using namespace std::chrono_literals;
using test::fake_ws_source;

const std::string tls_dir = std::string(KAZOO_BRIDGE_TEST_DATA) + "/tls/";

std::shared_ptr<asio::ssl::context> server_tls() {
  return make_server_tls_context(tls_dir + "server.crt", tls_dir + "server.key");
}

url parse(const std::string& text) { return parse_url(text).value(); }

ws_options fast_options() {
  ws_options o;
  o.handshake_timeout = 2s;
  o.ping_interval = 50ms;
  o.idle_timeout = 250ms;
  return o;
}

awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(use_nothrow);
}

TEST(ws_client, exchanges_text_and_binary_frames_without_a_subprotocol) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor());
  std::vector<ws_message> got;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    ws_client ws(ioc.get_executor(), nullptr);
    auto c = co_await ws.connect(parse(src.url("/any/path")));
    if (!c) {
      ADD_FAILURE() << c.error().message();
      co_return;
    }
    EXPECT_TRUE(ws.is_open());
    EXPECT_EQ(ws.handshake_status(), 101u);
    auto w = co_await ws.write(R"({"action":"subscribe"})");
    EXPECT_TRUE(w);
    src.send_text(R"({"action":"reply"})");
    src.send_binary(std::string("\x00\x01\x02", 3));
    for (int i = 0; i < 2; ++i) {
      auto m = co_await ws.read();
      EXPECT_TRUE(m);
      if (m) got.push_back(*m);
    }
    EXPECT_TRUE(co_await test::wait_until([&] { return src.received().size() == 1; }));
    ws.close();
    co_await src.shutdown();
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].text, R"({"action":"reply"})");
  EXPECT_FALSE(got[0].binary);
  EXPECT_EQ(got[1].text, std::string("\x00\x01\x02", 3));
  EXPECT_TRUE(got[1].binary);
  ASSERT_EQ(src.received().size(), 1u);
  EXPECT_EQ(src.received()[0], R"({"action":"subscribe"})");
  ASSERT_EQ(src.handshakes().size(), 1u);
  const auto& hs = src.handshakes()[0];
  EXPECT_EQ(hs.target(), "/any/path");
  // Kazoo answers 400 to any subprotocol offer (reference/kazoo.md §1.1).
  EXPECT_EQ(hs.find(http::field::sec_websocket_protocol), hs.end());
  EXPECT_EQ(hs[http::field::host], "127.0.0.1:" + std::to_string(src.port()));
  EXPECT_EQ(src.connections(), 1u);
}

TEST(ws_client, wss_with_the_test_ca_by_name_and_by_ip) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor(), server_tls());
  std::string echoed;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    auto ctx = make_client_tls_context_only(tls_dir + "ca.crt");
    for (std::string host : {"localhost", "127.0.0.1"}) {
      ws_client ws(ioc.get_executor(), ctx, fast_options());
      auto c = co_await ws.connect(parse("wss://" + host + ":" + std::to_string(src.port()) + "/"));
      if (!c) {
        ADD_FAILURE() << host << ": " << c.error().message();
        co_return;
      }
      src.send_text("hello " + host);
      auto m = co_await ws.read();
      if (m) echoed += m->text + ";";
      ws.close();
    }
    co_await src.shutdown();
  });
  EXPECT_EQ(echoed, "hello localhost;hello 127.0.0.1;");
  EXPECT_EQ(src.connections(), 2u);
}

TEST(ws_client, wss_rejects_an_unknown_ca) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor(), server_tls());
  result<void> c;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    ws_client ws(ioc.get_executor(), make_client_tls_context_only(tls_dir + "other_ca.crt"));
    c = co_await ws.connect(parse(src.url()));
    co_await src.shutdown();
  });
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().category(), asio::error::get_ssl_category()) << c.error().message();
  EXPECT_EQ(src.connections(), 0u);
}

TEST(ws_client, silent_server_is_detected_as_timeout) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor());
  result<ws_message> r = make_error_code(errc::closed);
  std::size_t pings_before_stall = 0;
  test::run_coro(
      ioc,
      [&]() -> awaitable<void> {
        ws_client ws(ioc.get_executor(), nullptr, fast_options());
        auto c = co_await ws.connect(parse(src.url()));
        if (!c) {
          ADD_FAILURE() << c.error().message();
          co_return;
        }
        // Pongs are seen by the pending read(), as in the daemon (which always reads).
        bool reader_done = false;
        asio::co_spawn(ioc, [&]() -> awaitable<void> { r = co_await ws.read(); },
                       [&](std::exception_ptr) { reader_done = true; });
        // While the server reads, pings are answered and the connection stays up well past
        // idle_timeout.
        EXPECT_TRUE(co_await test::wait_until([&] { return src.pings_received() >= 6; }));
        EXPECT_TRUE(ws.is_open());
        EXPECT_FALSE(reader_done);
        pings_before_stall = src.pings_received();
        src.stall();  // no more pongs, no frames
        EXPECT_TRUE(co_await test::wait_until([&] { return reader_done; }, 1s));
        EXPECT_FALSE(ws.is_open());
        co_await src.shutdown();
      },
      3s);
  EXPECT_GE(pings_before_stall, 6u);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::timeout);
}

TEST(ws_client, pings_are_sent_while_traffic_flows) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor());
  int frames = 0;
  bool reader_done = false;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    ws_options o = fast_options();
    o.idle_timeout = 2s;
    ws_client ws(ioc.get_executor(), nullptr, o);
    auto c = co_await ws.connect(parse(src.url()));
    if (!c) {
      ADD_FAILURE() << c.error().message();
      co_return;
    }
    // A busy server (a frame every 5 ms) must not suppress our pings: Kazoo may count only
    // client frames as activity.
    asio::co_spawn(ioc, [&]() -> awaitable<void> {
      while (ws.is_open()) {
        auto m = co_await ws.read();
        if (!m) break;
        ++frames;
      }
    }, [&](std::exception_ptr) { reader_done = true; });
    while (src.pings_received() < 4) {
      src.send_text("event");
      co_await pause(5ms);
    }
    ws.close();
    EXPECT_TRUE(co_await test::wait_until([&] { return reader_done; }));
    co_await src.shutdown();
  });
  EXPECT_GE(src.pings_received(), 4u);
  EXPECT_GT(frames, 10);
}

TEST(ws_client, dropped_connection_fails_read_with_a_network_error) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor());
  result<ws_message> r = make_error_code(errc::closed);
  test::run_coro(ioc, [&]() -> awaitable<void> {
    ws_client ws(ioc.get_executor(), nullptr, fast_options());
    auto c = co_await ws.connect(parse(src.url()));
    if (!c) {
      ADD_FAILURE() << c.error().message();
      co_return;
    }
    src.drop();
    r = co_await ws.read();
    auto w = co_await ws.write("after drop");
    EXPECT_FALSE(w);
    co_await src.shutdown();
  });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error(), errc::timeout);
  EXPECT_NE(r.error(), errc::closed);
}

TEST(ws_client, close_cancels_a_pending_read_and_later_writes) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor());
  result<ws_message> pending = make_error_code(errc::timeout);
  result<void> after = result<void>{};
  test::run_coro(ioc, [&]() -> awaitable<void> {
    auto ws = std::make_unique<ws_client>(ioc.get_executor(), nullptr, fast_options());
    auto c = co_await ws->connect(parse(src.url()));
    if (!c) {
      ADD_FAILURE() << c.error().message();
      co_return;
    }
    bool read_done = false;
    asio::co_spawn(ioc, [&]() -> awaitable<void> { pending = co_await ws->read(); },
                   [&](std::exception_ptr) { read_done = true; });
    co_await pause(20ms);
    ws->close();
    ws->close();  // idempotent
    EXPECT_TRUE(co_await test::wait_until([&] { return read_done; }, 1s));
    after = co_await ws->write("x");
    ws.reset();
    co_await src.shutdown();
  });
  ASSERT_FALSE(pending);
  EXPECT_EQ(pending.error(), errc::closed);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error(), errc::closed);
}

TEST(ws_client, concurrent_writes_are_serialised_and_all_arrive) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor());
  int ok = 0;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    ws_client ws(ioc.get_executor(), nullptr);
    auto c = co_await ws.connect(parse(src.url()));
    if (!c) {
      ADD_FAILURE() << c.error().message();
      co_return;
    }
    int done = 0;
    for (int i = 0; i < 20; ++i) {
      asio::co_spawn(ioc, ws.write("msg " + std::to_string(i) + std::string(10000, 'x')),
                     [&](std::exception_ptr, result<void> r) {
                       ++done;
                       if (r) ++ok;
                     });
    }
    EXPECT_TRUE(co_await test::wait_until([&] { return done == 20; }));
    EXPECT_TRUE(co_await test::wait_until([&] { return src.received().size() == 20; }));
    ws.close();
    co_await src.shutdown();
  });
  EXPECT_EQ(ok, 20);
  ASSERT_EQ(src.received().size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(src.received()[static_cast<std::size_t>(i)].rfind("msg " + std::to_string(i) + "x", 0), 0u);
  }
}

TEST(ws_client, oversized_message_gives_too_large) {
  asio::io_context ioc;
  fake_ws_source src(ioc.get_executor());
  result<ws_message> r = make_error_code(errc::closed);
  test::run_coro(ioc, [&]() -> awaitable<void> {
    ws_options o;
    o.max_message = 1024;
    ws_client ws(ioc.get_executor(), nullptr, o);
    auto c = co_await ws.connect(parse(src.url()));
    if (!c) {
      ADD_FAILURE() << c.error().message();
      co_return;
    }
    src.send_text(std::string(4096, 'z'));
    r = co_await ws.read();
    co_await src.shutdown();
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::too_large);
}

TEST(ws_client, rejects_non_websocket_schemes_and_unreachable_servers) {
  asio::io_context ioc;
  result<void> http_scheme;
  result<void> wss_without_tls;
  result<void> refused;
  result<ws_message> unconnected_read = make_error_code(errc::closed);
  std::uint16_t port = 0;
  {
    tcp::acceptor a(ioc, tcp::endpoint{asio::ip::address_v4::loopback(), 0});
    port = a.local_endpoint().port();
  }
  test::run_coro(ioc, [&]() -> awaitable<void> {
    ws_client ws(ioc.get_executor(), nullptr);
    unconnected_read = co_await ws.read();
    http_scheme = co_await ws.connect(parse("http://127.0.0.1:1/"));
    wss_without_tls = co_await ws.connect(parse("wss://127.0.0.1:1/"));
    refused = co_await ws.connect(parse("ws://127.0.0.1:" + std::to_string(port) + "/"));
  });
  EXPECT_EQ(unconnected_read.error(), asio::error::not_connected);
  EXPECT_EQ(http_scheme.error(), boost::system::errc::invalid_argument);
  EXPECT_EQ(wss_without_tls.error(), boost::system::errc::invalid_argument);
  EXPECT_EQ(refused.error(), asio::error::connection_refused);
}

}  // namespace
}  // namespace kazoo_bridge::net
