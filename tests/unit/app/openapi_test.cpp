// docs/openapi.yaml describes exactly the routes the daemon serves: the (method, path) pairs of its
// `paths` section are compared with the router built by add_http_routes(), the function `serve`
// uses. A route added without documentation, or documentation of a route that does not exist,
// fails here.
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include <kazoo_bridge/app/http_routes.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>
#include <kazoo_bridge/net/http_client.hpp>
#include <kazoo_bridge/oauth/service.hpp>
#include <kazoo_bridge/store/call_history.hpp>
#include <kazoo_bridge/store/hook_store.hpp>
#include <kazoo_bridge/store/oauth_store.hpp>
#include <kazoo_bridge/store/database.hpp>

namespace kazoo_bridge::app {
namespace {

using route_set = std::set<std::pair<std::string, std::string>>;  // (method lower case, path)

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t indent_of(const std::string& line) {
  return line.find_first_not_of(' ') == std::string::npos ? line.size() : line.find_first_not_of(' ');
}

// The subset of YAML the `paths` section uses: "  /path:" (two spaces) opens a path item,
// "    get:" (four spaces) one of its operations. Anything deeper belongs to the operation.
route_set documented_routes(const std::string& yaml) {
  static const std::set<std::string> methods{"get", "put", "post", "delete", "patch", "head", "options", "trace"};
  route_set out;
  std::istringstream in(yaml);
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto stripped = line.substr(std::min(indent_of(line), line.size()));
    if (stripped.empty() || stripped.front() == '#') continue;
    const auto indent = indent_of(line);
    if (indent == 0) {
      in_paths = stripped == "paths:";
      continue;
    }
    if (!in_paths || stripped.back() != ':') continue;
    auto key = stripped.substr(0, stripped.size() - 1);
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front()) {
      key = key.substr(1, key.size() - 2);
    }
    if (indent == 2) {
      path = key;
    } else if (indent == 4 && methods.count(key) && !path.empty()) {
      out.emplace(key, path);
    }
  }
  return out;
}

route_set served_routes() {
  auto db = store::database::open({.path = ":memory:"});
  if (!db) {
    ADD_FAILURE() << "cannot open an in-memory database: " << db.error().message();
    return {};
  }
  store::call_history history(**db);
  store::oauth_store oauth_store(**db);
  store::hook_store hook_store(**db);
  delivery::subscription_index subscriptions;
  asio::thread_pool pool{1};
  asio::io_context ioc;
  metrics_registry metrics;
  auto log = std::make_shared<spdlog::logger>("api", std::make_shared<spdlog::sinks::null_sink_mt>());
  // Built the way `serve` builds them; nothing is sent (the router is only listed).
  net::http_client http(ioc.get_executor(), nullptr);
  kazoo::crossbar_client crossbar(http, "http://127.0.0.1:9/v2", log);
  oauth::service oauth(pool, oauth_store, crossbar, {}, metrics, log);
  kazoo::token_source tokens(crossbar, "key", log);
  net::router r;
  add_http_routes(r, {.probes = {},
                      .metrics = metrics,
                      .v1 = {.authenticate = {}, .db_thread = pool, .history = history, .log = log, .options = {}},
                      .oauth = oauth,
                      .branding = {},
                      .hooks = api::hook_deps{.authenticate = {},
                                              .db_thread = pool,
                                              .hooks = hook_store,
                                              .index = subscriptions,
                                              .wake_delivery = {},
                                              .log = log,
                                              .options = {}},

                      .dial = api::dial_deps{.authenticate = {}, .crossbar = crossbar, .tokens = tokens, .log = log,
                                             .options = {}}});
  route_set out;
  for (const auto& [verb, pattern] : r.routes()) {
    std::string m(net::http::to_string(verb));
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.emplace(m, pattern);
  }
  pool.join();
  return out;
}

std::string list(const route_set& s) {
  std::string out;
  for (const auto& [m, p] : s) out += "\n  " + m + " " + p;
  return out;
}

TEST(OpenApi, DocumentsExactlyTheServedRoutes) {
  const auto yaml = read_text(std::string(KAZOO_BRIDGE_SOURCE_DIR) + "/docs/openapi.yaml");
  ASSERT_FALSE(yaml.empty()) << "docs/openapi.yaml is missing";
  const auto documented = documented_routes(yaml);
  const auto served = served_routes();
  ASSERT_FALSE(served.empty());
  route_set undocumented, not_served;
  std::set_difference(served.begin(), served.end(), documented.begin(), documented.end(),
                      std::inserter(undocumented, undocumented.end()));
  std::set_difference(documented.begin(), documented.end(), served.begin(), served.end(),
                      std::inserter(not_served, not_served.end()));
  EXPECT_TRUE(undocumented.empty()) << "served but not in docs/openapi.yaml:" << list(undocumented);
  EXPECT_TRUE(not_served.empty()) << "in docs/openapi.yaml but not served:" << list(not_served);
}

TEST(OpenApi, ParserReadsThePathsSectionOnly) {
  const std::string yaml =
      "openapi: 3.0.3\n"
      "info:\n  title: x\n"
      "paths:\n"
      "  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"
      "    parameters: []\n"
      "  \"/b/{id}\":\n    # a comment\n    post:\n      summary: y\n    delete:\n      summary: z\n"
      "components:\n  /not-a-path:\n    get:\n";
  EXPECT_EQ(documented_routes(yaml),
            (route_set{{"get", "/a"}, {"post", "/b/{id}"}, {"delete", "/b/{id}"}}));
}

TEST(OpenApi, DeclaresOpenApi303AndTheOAuthScopes) {
  const auto yaml = read_text(std::string(KAZOO_BRIDGE_SOURCE_DIR) + "/docs/openapi.yaml");
  EXPECT_NE(yaml.find("openapi: 3.0.3\n"), std::string::npos);
  EXPECT_NE(yaml.find("authorizationCode:"), std::string::npos);
  for (const char* scope : {"calls:", "dial:", "account:"}) EXPECT_NE(yaml.find(scope), std::string::npos) << scope;
}

}  // namespace
}  // namespace kazoo_bridge::app
