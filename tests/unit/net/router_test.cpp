#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/router.hpp>
#include <support/run_coro.hpp>

namespace kazoo_bridge::net {
namespace {

using http::verb;

awaitable<response> reply_named(std::string name, request_context ctx) {
  nlohmann::json params = ctx.params;
  co_return json_response(http::status::ok, {{"route", name}, {"params", params}});
}

// Not a lambda coroutine: the lambda only forwards its by-value arguments (style B.3 rule 4).
handler named(std::string name) {
  return [name](request_context ctx) { return reply_named(name, std::move(ctx)); };
}

router api_router() {
  router r;
  r.add(verb::get, "/", named("root"));
  r.add(verb::get, "/api/v1/calls", named("list"));
  r.add(verb::post, "/api/v1/calls", named("dial"));
  r.add(verb::get, "/api/v1/calls/{id}", named("get"));
  r.add(verb::get, "/api/v1/calls/stats", named("stats"));
  r.add(verb::delete_, "/api/v1/hooks/{id}", named("unhook"));
  r.add(verb::get, "/a/{x}/b/{y}", named("two"));
  return r;
}

struct match_case {
  verb v;
  const char* path;
  const char* pattern;  // "" = no handler
  std::map<std::string, std::string> params;
  std::vector<verb> allowed;
};

class router_match : public ::testing::TestWithParam<match_case> {};

TEST_P(router_match, table) {
  const auto& c = GetParam();
  auto r = api_router();
  auto m = r.match(c.v, c.path);
  EXPECT_EQ(m.h != nullptr, std::string(c.pattern) != "") << c.path;
  EXPECT_EQ(m.pattern, c.pattern);
  EXPECT_EQ(m.params, c.params);
  EXPECT_EQ(m.allowed, c.allowed);
}

INSTANTIATE_TEST_SUITE_P(
    table, router_match,
    ::testing::Values(
        match_case{verb::get, "/", "/", {}, {verb::get}},
        match_case{verb::get, "/api/v1/calls", "/api/v1/calls", {}, {verb::get, verb::post}},
        match_case{verb::post, "/api/v1/calls", "/api/v1/calls", {}, {verb::get, verb::post}},
        match_case{verb::delete_, "/api/v1/calls", "", {}, {verb::get, verb::post}},
        match_case{verb::get, "/api/v1/calls/abc", "/api/v1/calls/{id}", {{"id", "abc"}}, {verb::get}},
        // a literal beats a placeholder, whatever the registration order
        match_case{verb::get, "/api/v1/calls/stats", "/api/v1/calls/stats", {}, {verb::get}},
        // percent-decoded, '+' stays literal in a path
        match_case{verb::get, "/api/v1/calls/a%40b+c", "/api/v1/calls/{id}", {{"id", "a@b+c"}},
                   {verb::get}},
        match_case{verb::get, "/api/v1/calls/", "", {}, {}},        // empty segment
        match_case{verb::get, "/api/v1/calls/x/y", "", {}, {}},     // too many segments
        match_case{verb::get, "/api/v1/call", "", {}, {}},
        match_case{verb::get, "/API/v1/calls", "", {}, {}},         // case-sensitive
        match_case{verb::get, "/a/1/b/2", "/a/{x}/b/{y}", {{"x", "1"}, {"y", "2"}}, {verb::get}},
        match_case{verb::get, "/a/1/c/2", "", {}, {}},
        match_case{verb::delete_, "/api/v1/hooks/h1", "/api/v1/hooks/{id}", {{"id", "h1"}},
                   {verb::delete_}},
        match_case{verb::get, "/api/v1/hooks/h1", "", {}, {verb::delete_}},
        match_case{verb::get, "relative", "", {}, {}}));

TEST(router, rejects_bad_and_duplicate_patterns) {
  router r;
  EXPECT_THROW(r.add(verb::get, "no-slash", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "/a/{b", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "/a/x{b}", named("x")), std::invalid_argument);
  r.add(verb::get, "/a/{b}", named("x"));
  EXPECT_THROW(r.add(verb::get, "/a/{b}", named("y")), std::invalid_argument);
  r.add(verb::put, "/a/{b}", named("y"));
  auto routes = r.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0], (std::pair<verb, std::string>{verb::get, "/a/{b}"}));
  EXPECT_EQ(routes[1], (std::pair<verb, std::string>{verb::put, "/a/{b}"}));
}

request make_request(verb v, std::string target) {
  request req{v, target, 11};
  return req;
}

// GCC 12 destroys a braced aggregate temporary twice when it is built inside a co_await
// expression, so the context is always a named local first. `r` by reference: always awaited
// directly by the test coroutine that owns the router.
awaitable<response> dispatch(const router& r, verb v, std::string target) {
  request_context ctx{make_request(v, std::move(target)), {}, {}};
  auto res = co_await r.dispatch(std::move(ctx));
  co_return res;
}

TEST(router, dispatch_calls_the_handler_with_params_and_query) {
  asio::io_context ioc;
  router r;
  r.add(verb::get, "/calls/{id}", [](request_context ctx) -> awaitable<response> {
    co_return json_response(http::status::ok,
                            {{"id", ctx.params.at("id")}, {"limit", ctx.query()["limit"]},
                             {"path", std::string(ctx.path())}});
  });
  response res;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    res = co_await dispatch(r, verb::get, "/calls/c%201?limit=3");
  });
  EXPECT_EQ(res.result(), http::status::ok);
  auto body = nlohmann::json::parse(res.body());
  EXPECT_EQ(body["id"], "c 1");
  EXPECT_EQ(body["limit"], "3");
  EXPECT_EQ(body["path"], "/calls/c%201");
}

TEST(router, dispatch_answers_404_and_405_as_json_errors) {
  asio::io_context ioc;
  auto r = api_router();
  response not_found;
  response not_allowed;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    not_found = co_await dispatch(r, verb::get, "/nope");
    not_allowed = co_await dispatch(r, verb::put, "/api/v1/calls");
  });
  EXPECT_EQ(not_found.result(), http::status::not_found);
  EXPECT_EQ(nlohmann::json::parse(not_found.body())["error"], "not_found");
  EXPECT_EQ(not_found[http::field::content_type], "application/json");
  EXPECT_EQ(not_allowed.result(), http::status::method_not_allowed);
  EXPECT_EQ(not_allowed[http::field::allow], "GET, POST");
  auto body = nlohmann::json::parse(not_allowed.body());
  EXPECT_EQ(body["error"], "method_not_allowed");
  EXPECT_TRUE(body.contains("error_description"));
}

TEST(router, fallback_replaces_404_only) {
  asio::io_context ioc;
  auto r = api_router();
  r.set_fallback(named("fallback"));
  response unknown;
  response wrong_method;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    unknown = co_await dispatch(r, verb::get, "/anything/x");
    wrong_method = co_await dispatch(r, verb::put, "/api/v1/calls");
  });
  EXPECT_EQ(nlohmann::json::parse(unknown.body())["route"], "fallback");
  EXPECT_EQ(wrong_method.result(), http::status::method_not_allowed);
}

TEST(router, absolute_form_target_is_routed_by_its_path) {
  request_context ctx{make_request(verb::get, "http://example.com:8080/api/v1/calls?x=1"), {}, {}};
  EXPECT_EQ(ctx.path(), "/api/v1/calls");
  EXPECT_EQ(ctx.query().at("x"), "1");
}

TEST(router, handler_exception_propagates_to_the_caller) {
  asio::io_context ioc;
  router r;
  r.add(verb::get, "/boom", [](request_context) -> awaitable<response> {
    throw std::runtime_error("boom");
    co_return response{};
  });
  bool thrown = false;
  test::run_coro(ioc, [&]() -> awaitable<void> {
    try {
      co_await dispatch(r, verb::get, "/boom");
    } catch (const std::runtime_error&) {
      thrown = true;
    }
  });
  EXPECT_TRUE(thrown);
}

}  // namespace
}  // namespace kazoo_bridge::net
