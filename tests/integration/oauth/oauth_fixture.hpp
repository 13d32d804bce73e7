#pragma once
// The whole authorization server on 127.0.0.1:0 (routes + service + SQLite) against an in-process
// kazoo-sim Crossbar, and a small HTTP client that keeps the CSRF cookie like a browser would.

#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/api/oauth_routes.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>
#include <kazoo_bridge/net/http_client.hpp>
#include <kazoo_bridge/net/http_server.hpp>
#include <kazoo_bridge/net/tls.hpp>
#include <kazoo_bridge/net/url.hpp>
#include <kazoo_bridge/oauth/crypto.hpp>
#include <kazoo_bridge/oauth/service.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/oauth_store.hpp>

#include "simulator.hpp"
#include "support/log_capture.hpp"
#include "support/run_coro.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::oauth::test {

namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;

/// Moves the service's clock (grace windows, code expiry) without sleeping.
inline std::int64_t clock_offset_ms = 0;
inline std::int64_t test_clock() { return now_unix_ms() + clock_offset_ms; }

inline const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
inline const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
inline const std::string redirect_uri = "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/";

struct reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  json j() const { return json::parse(body, nullptr, false); }
  std::string h(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// One request on a fresh connection.
inline awaitable<reply> exchange(unsigned short port, http::verb verb, std::string target, std::string body,
                                 std::map<std::string, std::string> headers) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::seconds(10));
  auto [cec] = co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_nothrow);
  if (cec) co_return reply{};
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) req.body() = body;
  req.prepare_payload();
  co_await http::async_write(stream, req, use_nothrow);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  auto [rec, rn] = co_await http::async_read(stream, buf, res, use_nothrow);
  if (rec) co_return reply{};
  reply r;
  r.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = res.body();
  co_return r;
}

using kv = std::vector<std::pair<std::string, std::string>>;
using header_map = std::map<std::string, std::string>;

/// "a=1&b=2" with every value encoded.
inline std::string form(const kv& items) {
  std::string out;
  for (const auto& [k, v] : items) {
    if (!out.empty()) out.push_back('&');
    out += net::url_encode(k) + "=" + net::url_encode(v);
  }
  return out;
}

/// The value of a hidden field in the login page.
inline std::string hidden_value(const std::string& html, const std::string& name) {
  auto p = html.find("name=\"" + name + "\" value=\"");
  if (p == std::string::npos) return {};
  p += name.size() + 15;
  return html.substr(p, html.find('"', p) - p);
}

/// Query parameters of a Location header.
inline std::map<std::string, std::string> location_params(const std::string& location) {
  auto q = location.find('?');
  if (q == std::string::npos) return {};
  return net::parse_query(location.substr(q + 1));
}

class oauth_test : public ::testing::Test {
 protected:
  void start(service_options o = {}, bool kazoo_down = false) {
    clock_offset_ms = 0;
    kazoo_sim::sim_options so;
    so.ws_listen = "127.0.0.1:0";
    so.api_listen = "127.0.0.1:0";
    sim = std::make_unique<kazoo_sim::simulator>(ioc.get_executor(), so, sim_logs.logger());
    sim->start();
    // A port nothing listens on stands for "Kazoo unreachable".
    unsigned short kazoo_port = sim->api_port();
    if (kazoo_down) {
      tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      kazoo_port = a.local_endpoint().port();
    }
    auto d = store::database::open({.path = dir.file("kb.db"), .busy_timeout = std::chrono::milliseconds(50)});
    ASSERT_TRUE(d) << d.error().message();
    db = std::move(*d);
    st = std::make_unique<store::oauth_store>(*db);
    std::string problem;
    auto c = register_client(*st, "Zapier", {redirect_uri, "http://127.0.0.1:9000/cb"}, false, true, problem);
    ASSERT_TRUE(c) << problem;
    client_id = c->client_id;
    client_secret = *c->client_secret;
    http_client = std::make_unique<net::http_client>(ioc.get_executor(), net::make_client_tls_context());
    crossbar = std::make_unique<kazoo::crossbar_client>(
        *http_client, "http://127.0.0.1:" + std::to_string(kazoo_port) + "/v2", logs.logger());
    server_options_ = o;
    if (o.issuer == service_options{}.issuer) o.issuer = "http://127.0.0.1:1";  // replaced below
    o.clock = &test_clock;
    // The issuer needs our port, so bind first.
    net::server_options nso;
    nso.listen = "127.0.0.1:0";
    server = std::make_unique<net::http_server>(ioc.get_executor(), nso, router, logs.logger());
    auto ep = server->listen();
    ASSERT_TRUE(ep) << ep.error().message();
    port = ep->port();
    o.issuer = "http://127.0.0.1:" + std::to_string(port);
    issuer = o.issuer;
    svc = std::make_unique<service>(pool, *st, *crossbar, o, metrics, logs.logger());
    api::add_oauth_routes(router, *svc, api::oauth_branding{.product_name = "Acme Voice", .logo_url = "",
                                                            .primary_color = "#1f6feb"});
    asio::co_spawn(ioc, server->run(), [this](std::exception_ptr) { server_done = true; });
  }

  void TearDown() override {
    if (server) server->stop();
    if (sim) sim->stop();
    ioc.run_for(std::chrono::milliseconds(200));
    pool.join();
  }

  std::string authorize_query(const std::string& scope = "calls dial", const std::string& state = "st-123",
                              const std::string& uri = redirect_uri) const {
    return "/oauth/authorize?" + form({{"response_type", "code"},
                                       {"client_id", client_id},
                                       {"redirect_uri", uri},
                                       {"state", state},
                                       {"scope", scope},
                                       {"code_challenge", challenge},
                                       {"code_challenge_method", "S256"}});
  }

  /// GET the login page like a browser (keeping the CSRF cookie).
  awaitable<reply> get_login(std::string target) {
    std::map<std::string, std::string> h;
    if (!cookie.empty()) h["Cookie"] = cookie;
    const std::string no_body;
    auto r = co_await exchange(port, http::verb::get, target, no_body, h);
    auto sc = r.h("set-cookie");
    if (!sc.empty()) cookie = sc.substr(0, sc.find(';'));
    co_return r;
  }

  /// POSTs the login form of `page` with the given credentials.
  awaitable<reply> post_login(const reply& page, std::string account, std::string user, std::string password,
                              std::string decision = "allow") {
    std::vector<std::pair<std::string, std::string>> f;
    for (const char* n : {"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge",
                          "code_challenge_method", "csrf_token"}) {
      auto v = hidden_value(page.body, n);
      if (!v.empty()) f.emplace_back(n, html_unescape(v));
    }
    f.emplace_back("account", account);
    f.emplace_back("username", user);
    f.emplace_back("password", password);
    f.emplace_back("decision", decision);
    std::map<std::string, std::string> h{{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!cookie.empty()) h["Cookie"] = cookie;
    co_return co_await exchange(port, http::verb::post, "/oauth/authorize", form(f), h);
  }

  /// The whole browser part: GET, POST right credentials, return the code (empty on failure).
  awaitable<std::string> login_for_code(std::string user = "alice", std::string password = "alice-secret-1",
                                        std::string scope = "calls dial") {
    auto page = co_await get_login(authorize_query(scope));
    EXPECT_EQ(page.status, 200u);
    auto r = co_await post_login(page, "acme", user, password);
    EXPECT_EQ(r.status, 303u) << r.body;
    auto p = location_params(r.h("location"));
    co_return p["code"];
  }

  awaitable<reply> token_request(kv f, header_map h = header_map()) {
    h["Content-Type"] = "application/x-www-form-urlencoded";
    co_return co_await exchange(port, http::verb::post, "/oauth/token", form(f), h);
  }

  awaitable<reply> exchange_code(std::string code) {
    // Arguments are named locals: GCC 12 mishandles braced temporaries inside co_await expressions.
    const kv f{{"grant_type", "authorization_code"}, {"code", code},       {"redirect_uri", redirect_uri},
               {"client_id", client_id},             {"client_secret", client_secret}, {"code_verifier", verifier}};
    co_return co_await token_request(f);
  }

  awaitable<reply> refresh(std::string rt) {
    const kv f{{"grant_type", "refresh_token"}, {"refresh_token", rt}, {"client_id", client_id},
               {"client_secret", client_secret}};
    co_return co_await token_request(f);
  }

  awaitable<reply> post_form(std::string target, std::vector<std::pair<std::string, std::string>> f) {
    std::map<std::string, std::string> h{{"Content-Type", "application/x-www-form-urlencoded"}};
    f.emplace_back("client_id", client_id);
    f.emplace_back("client_secret", client_secret);
    co_return co_await exchange(port, http::verb::post, target, form(f), h);
  }

  static std::string html_unescape(std::string s) {
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"&quot;", "\""}, {"&#39;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
      for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    }
    return s;
  }

  asio::io_context ioc{1};
  asio::thread_pool pool{1};
  kazoo_bridge::test::log_capture logs{"oauth"};
  kazoo_bridge::test::log_capture sim_logs{"sim"};
  kazoo_bridge::test::temp_dir dir;
  metrics_registry metrics;
  std::unique_ptr<kazoo_sim::simulator> sim;
  std::unique_ptr<store::database> db;
  std::unique_ptr<store::oauth_store> st;
  std::unique_ptr<net::http_client> http_client;
  std::unique_ptr<kazoo::crossbar_client> crossbar;
  net::router router;
  std::unique_ptr<net::http_server> server;
  std::unique_ptr<service> svc;
  service_options server_options_;
  bool server_done = false;
  unsigned short port = 0;
  std::string issuer, client_id, client_secret, cookie;
};

}  // namespace kazoo_bridge::oauth::test
