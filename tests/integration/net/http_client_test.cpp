// http_client against fake_http_endpoint (our http_server) over loopback, plain and TLS.
#include <gtest/gtest.h>

#include <boost/asio/ssl/error.hpp>

#include <kazoo_bridge/net/http_client.hpp>
#include <kazoo_bridge/net/tls.hpp>
#include <support/fake_http_endpoint.hpp>
#include <support/run_coro.hpp>

namespace kazoo_bridge::net {
namespace {

using namespace std::chrono_literals;
using test::fake_http_endpoint;
using test::scripted_reply;

const std::string tls_dir = std::string(KAZOO_BRIDGE_TEST_DATA) + "/tls/";

std::shared_ptr<asio::ssl::context> server_tls(const std::string& cert = "server.crt") {
  return make_server_tls_context(tls_dir + cert, tls_dir + "server.key");
}

std::shared_ptr<asio::ssl::context> client_tls(const std::string& ca = "ca.crt") {
  return make_client_tls_context_only(tls_dir + ca);
}

client_request get(std::string url) {
  client_request r;
  r.url = std::move(url);
  return r;
}

class http_client_test : public ::testing::Test {
 protected:
  asio::io_context ioc_;
};

TEST_F(http_client_test, sends_request_and_returns_response) {
  fake_http_endpoint ep(ioc_.get_executor());
  scripted_reply reply;
  reply.status = http::status::created;
  reply.body = R"({"id":"h1"})";
  reply.headers = {{"X-Reply", "yes"}};
  ep.push(reply);
  result<response> res = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), nullptr);
    client_request r;
    r.method = http::verb::post;
    r.url = ep.url("/hooks?x=1");
    r.headers = {{"Authorization", "Bearer t0ken"}, {"webhook-id", "evt_1"}};
    r.body = R"({"a":1})";
    r.content_type = "application/json";
    res = co_await client.send(std::move(r));
    co_await ep.shutdown();
  });
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->result(), http::status::created);
  EXPECT_EQ(res->body(), R"({"id":"h1"})");
  EXPECT_EQ((*res)["X-Reply"], "yes");
  ASSERT_EQ(ep.request_count(), 1u);
  const auto& req = ep.requests()[0];
  EXPECT_EQ(req.method(), http::verb::post);
  EXPECT_EQ(req.target(), "/hooks?x=1");
  EXPECT_EQ(req[http::field::host], "127.0.0.1:" + std::to_string(ep.port()));
  EXPECT_EQ(req[http::field::authorization], "Bearer t0ken");
  EXPECT_EQ(req["webhook-id"], "evt_1");
  EXPECT_EQ(req[http::field::content_type], "application/json");
  EXPECT_EQ(req.body(), R"({"a":1})");
  EXPECT_FALSE(req[http::field::user_agent].empty());
}

TEST_F(http_client_test, statuses_are_values_and_the_script_is_followed) {
  fake_http_endpoint ep(ioc_.get_executor());
  ep.push(http::status::internal_server_error);
  ep.push(http::status::service_unavailable);
  ep.push(http::status::ok, R"({"ok":true})");
  std::vector<unsigned> statuses;
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), nullptr);
    for (int i = 0; i < 4; ++i) {
      auto res = co_await client.send(get(ep.url("/x")));
      EXPECT_TRUE(res);
      if (res) statuses.push_back(res->result_int());
    }
    co_await ep.shutdown();
  });
  EXPECT_EQ(statuses, (std::vector<unsigned>{500, 503, 200, 200}));
  EXPECT_EQ(ep.request_count(), 4u);
}

TEST_F(http_client_test, slow_endpoint_gives_errc_timeout) {
  fake_http_endpoint ep(ioc_.get_executor());
  scripted_reply slow;
  slow.delay = 5s;
  ep.push(slow);
  result<response> res = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    client_options o;
    o.total_timeout = 200ms;
    http_client client(ioc_.get_executor(), nullptr, o);
    res = co_await client.send(get(ep.url()));
    co_await ep.shutdown();
  });
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), errc::timeout);
  EXPECT_EQ(ep.request_count(), 1u);
}

TEST_F(http_client_test, body_above_max_gives_errc_too_large) {
  fake_http_endpoint ep(ioc_.get_executor());
  scripted_reply huge;
  huge.body = std::string(200 * 1024, 'x');
  ep.push(huge);
  ep.push(http::status::ok, std::string(1000, 'y'));
  result<response> big = make_error_code(errc::closed);
  result<response> small = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    client_options o;
    o.max_body = 64 * 1024;
    http_client client(ioc_.get_executor(), nullptr, o);
    big = co_await client.send(get(ep.url()));
    small = co_await client.send(get(ep.url()));
    co_await ep.shutdown();
  });
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), errc::too_large);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->body().size(), 1000u);
}

TEST_F(http_client_test, redirects_are_returned_not_followed) {
  fake_http_endpoint ep(ioc_.get_executor());
  scripted_reply moved;
  moved.status = http::status::found;
  moved.headers = {{"Location", "/elsewhere"}};
  ep.push(moved);
  result<response> res = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), nullptr);
    res = co_await client.send(get(ep.url("/start")));
    co_await ep.shutdown();
  });
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), http::status::found);
  EXPECT_EQ((*res)[http::field::location], "/elsewhere");
  EXPECT_EQ(ep.request_count(), 1u) << "the Location must not be fetched";
}

TEST_F(http_client_test, connection_refused_is_returned_as_is) {
  std::uint16_t port = 0;
  {
    tcp::acceptor a(ioc_, tcp::endpoint{asio::ip::address_v4::loopback(), 0});
    port = a.local_endpoint().port();
  }  // closed: nobody listens there now
  result<response> res = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), nullptr);
    res = co_await client.send(get("http://127.0.0.1:" + std::to_string(port) + "/"));
  });
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), asio::error::connection_refused);
}

TEST_F(http_client_test, address_filter_blocks_private_targets) {
  fake_http_endpoint ep(ioc_.get_executor());
  result<response> res = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    client_options o;
    o.allow_address = [](const asio::ip::address& a) { return !a.is_loopback(); };
    http_client client(ioc_.get_executor(), nullptr, o);
    res = co_await client.send(get(ep.url()));
    co_await ep.shutdown();
  });
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), errc::forbidden);
  EXPECT_EQ(ep.request_count(), 0u);
}

TEST_F(http_client_test, bad_urls_are_rejected_before_any_io) {
  std::vector<result<response>> results;
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), nullptr);
    results.push_back(co_await client.send(get("not a url")));
    results.push_back(co_await client.send(get("ws://127.0.0.1:1/")));
    results.push_back(co_await client.send(get("https://127.0.0.1:1/")));  // no TLS context
  });
  for (auto& r : results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), boost::system::errc::invalid_argument);
  }
}

TEST_F(http_client_test, tls_with_the_test_ca_succeeds_by_ip_and_by_name) {
  fake_http_endpoint ep(ioc_.get_executor(), server_tls());
  ep.push(http::status::ok, R"({"tls":1})");
  ep.push(http::status::ok, R"({"tls":2})");
  result<response> by_ip = make_error_code(errc::closed);
  result<response> by_name = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), client_tls());
    by_ip = co_await client.send(get(ep.url("/secure")));
    by_name = co_await client.send(get("https://localhost:" + std::to_string(ep.port()) + "/n"));
    co_await ep.shutdown();
  });
  ASSERT_TRUE(by_ip) << by_ip.error().message();
  EXPECT_EQ(by_ip->body(), R"({"tls":1})");
  ASSERT_TRUE(by_name) << by_name.error().message();
  EXPECT_EQ(by_name->body(), R"({"tls":2})");
  ASSERT_EQ(ep.request_count(), 2u);
  EXPECT_EQ(ep.requests()[1][http::field::host], "localhost:" + std::to_string(ep.port()));
}

TEST_F(http_client_test, tls_fails_for_a_certificate_of_another_host) {
  fake_http_endpoint ep(ioc_.get_executor(), server_tls("wrong_host.crt"));
  result<response> res = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), client_tls());
    res = co_await client.send(get(ep.url()));
    co_await ep.shutdown();
  });
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().category(), asio::error::get_ssl_category()) << res.error().message();
  EXPECT_EQ(ep.request_count(), 0u);
}

TEST_F(http_client_test, tls_fails_for_an_unknown_ca) {
  fake_http_endpoint ep(ioc_.get_executor(), server_tls());
  result<response> res = make_error_code(errc::closed);
  result<response> system_store = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), client_tls("other_ca.crt"));
    res = co_await client.send(get(ep.url()));
    // The production context (system trust store only) does not know the test CA either.
    http_client prod(ioc_.get_executor(), make_client_tls_context());
    system_store = co_await prod.send(get(ep.url()));
    co_await ep.shutdown();
  });
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().category(), asio::error::get_ssl_category()) << res.error().message();
  ASSERT_FALSE(system_store);
  EXPECT_EQ(ep.request_count(), 0u);
}

TEST_F(http_client_test, tls_server_context_can_be_swapped_for_new_connections) {
  fake_http_endpoint ep(ioc_.get_executor(), server_tls("wrong_host.crt"));
  result<response> before = make_error_code(errc::closed);
  result<response> after = make_error_code(errc::closed);
  test::run_coro(ioc_, [&]() -> awaitable<void> {
    http_client client(ioc_.get_executor(), client_tls());
    before = co_await client.send(get(ep.url()));
    ep.server().set_tls_context(server_tls());  // what a SIGHUP reload will do
    after = co_await client.send(get(ep.url()));
    co_await ep.shutdown();
  });
  EXPECT_FALSE(before);
  EXPECT_TRUE(after) << after.error().message();
}

TEST(tls_context, bad_files_throw_at_startup) {
  EXPECT_THROW(make_server_tls_context(tls_dir + "missing.crt", tls_dir + "server.key"),
               boost::system::system_error);
  EXPECT_THROW(make_server_tls_context(tls_dir + "ca.crt", tls_dir + "server.key"),
               boost::system::system_error);  // key does not match the certificate
  EXPECT_THROW(make_client_tls_context(tls_dir + "missing-ca.crt"), boost::system::system_error);
}

}  // namespace
}  // namespace kazoo_bridge::net
