#include <kazoo_bridge/kazoo/crossbar_client.hpp>

#include <spdlog/logger.h>

#include <kazoo_bridge/common/log.hpp>
#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::kazoo {

crossbar_client::crossbar_client(net::http_client& http, std::string api_url, std::shared_ptr<spdlog::logger> log)
    : http_(http), api_url_(std::move(api_url)), log_(std::move(log)) {
  while (!api_url_.empty() && api_url_.back() == '/') api_url_.pop_back();
}

awaitable<result<net::response>> crossbar_client::exchange(net::http::verb method, std::string path,
                                                           std::string token, std::string body) {
  net::client_request req;
  req.method = method;
  req.url = api_url_ + path;
  req.headers.emplace_back("Accept", "application/json");
  if (!token.empty()) req.headers.emplace_back("X-Auth-Token", token);
  if (!body.empty()) {
    req.body = std::move(body);
    req.content_type = "application/json";
  }
  auto res = co_await http_.send(std::move(req));
  if (!res) {
    log_->debug("crossbar request failed method={} path={} ec={}", std::string(net::http::to_string(method)),
                path, res.error().message());
    co_return res.error();
  }
  log_->debug("crossbar method={} path={} status={}", std::string(net::http::to_string(method)), path,
              res->result_int());
  co_return std::move(*res);
}

awaitable<result<nlohmann::json>> crossbar_client::send(net::http::verb method, std::string path, std::string token,
                                                        std::string body, bool is_auth) {
  auto res = co_await exchange(method, std::move(path), std::move(token), std::move(body));
  if (!res) co_return res.error();
  co_return classify_response(res->result_int(), res->body(), is_auth);
}

awaitable<result<quickcall_answer>> crossbar_client::quickcall(quickcall_request q, std::string token) {
  std::string path = quickcall_path(q), no_body;
  auto res = co_await exchange(net::http::verb::get, path, std::move(token), no_body);
  if (!res) co_return res.error();
  co_return classify_quickcall(res->result_int(), res->body());
}

awaitable<result<auth_token>> crossbar_client::api_auth(std::string api_key) {
  // Arguments are named locals: GCC 12 mishandles temporaries inside co_await expressions.
  std::string path = "/api_auth", no_token, body = api_auth_body(api_key);
  auto env = co_await send(net::http::verb::put, path, no_token, body, true);
  if (!env) co_return env.error();
  co_return token_from_auth_response(*env, now_unix_ms());
}

awaitable<result<nlohmann::json>> crossbar_client::user_auth(std::string account_name,
                                                             std::string credentials_md5) {
  std::string path = "/user_auth", no_token, body = user_auth_body(account_name, credentials_md5);
  co_return co_await send(net::http::verb::put, path, no_token, body, true);
}

awaitable<result<nlohmann::json>> crossbar_client::get(std::string path, std::string token) {
  std::string no_body;
  co_return co_await send(net::http::verb::get, std::move(path), std::move(token), no_body, false);
}

awaitable<result<std::vector<nlohmann::json>>> crossbar_client::get_all(std::string path, std::string token,
                                                                        std::size_t max_pages) {
  std::vector<nlohmann::json> rows;
  std::string page = path;
  for (std::size_t n = 0; n < max_pages; ++n) {
    auto env = co_await get(page, token);
    if (!env) co_return env.error();
    if (auto data = env->find("data"); data != env->end() && data->is_array()) {
      for (auto& row : *data) rows.push_back(std::move(row));
    }
    auto next = next_page_path(path, *env);
    if (!next) co_return rows;
    page = std::move(*next);
  }
  log_->warn("crossbar listing truncated path={} pages={}", path, max_pages);
  co_return rows;
}

token_source::token_source(crossbar_client& crossbar, std::string api_key, std::shared_ptr<spdlog::logger> log,
                           std::int64_t margin_ms)
    : crossbar_(crossbar), api_key_(std::move(api_key)), log_(std::move(log)), margin_ms_(margin_ms) {}

awaitable<result<auth_token>> token_source::current() {
  if (!token_needs_refresh(token_, now_unix_ms(), margin_ms_)) co_return token_;
  co_return co_await fresh();
}

awaitable<result<auth_token>> token_source::fresh() {
  auto t = co_await crossbar_.api_auth(api_key_);
  if (!t) {
    log_->warn("kazoo api_auth failed url={} error={}", crossbar_.api_url(), t.error().message());
    co_return t.error();
  }
  token_ = *t;
  log_->debug("kazoo token renewed account={} expires_in_s={}", token_.account_id,
              (token_.expires_at_ms - now_unix_ms()) / 1000);
  co_return token_;
}

}  // namespace kazoo_bridge::kazoo
