#pragma once
/// Crossbar REST requests (reference/kazoo.md §5) over net::http_client, and the API-key token source.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/kazoo/crossbar.hpp>
#include <kazoo_bridge/kazoo/quickcall.hpp>
#include <kazoo_bridge/net/http_client.hpp>

namespace kazoo_bridge::kazoo {

/// Thread: I/O thread. Lifetime: the http_client outlives it. Cancellation: none of its own; a request ends
/// at the http_client's deadline. Errors: the errc values of classify_response(), plus transport errors.
class crossbar_client {
 public:
  crossbar_client(net::http_client& http, std::string api_url, std::shared_ptr<spdlog::logger> log);

  /// PUT /v2/api_auth (§5.2).
  awaitable<result<auth_token>> api_auth(std::string api_key);
  /// PUT /v2/user_auth (§5.2) with md5 credentials; the whole success envelope (token_from_auth_response()
  /// reads the token, `data.account_name` the account's name). A refused login (401, unknown account 400)
  /// is errc::auth_failed; a disabled account (423) errc::forbidden.
  awaitable<result<nlohmann::json>> user_auth(std::string account_name, std::string credentials_md5);
  /// GET {api_url}{path} with X-Auth-Token; returns the whole success envelope.
  awaitable<result<nlohmann::json>> get(std::string path, std::string token);
  /// Every row of a paginated listing (`data` arrays concatenated), at most max_pages pages.
  awaitable<result<std::vector<nlohmann::json>>> get_all(std::string path, std::string token,
                                                         std::size_t max_pages = 200);

  /// GET quickcall_path(q) (§5.4). Every HTTP answer is a quickcall_answer; the error is a transport
  /// failure only (errc::timeout, connection refused...: Kazoo unreachable).
  awaitable<result<quickcall_answer>> quickcall(quickcall_request q, std::string token);

  const std::string& api_url() const { return api_url_; }

 private:
  awaitable<result<nlohmann::json>> send(net::http::verb method, std::string path, std::string token,
                                         std::string body, bool is_auth);
  awaitable<result<net::response>> exchange(net::http::verb method, std::string path, std::string token,
                                            std::string body);

  net::http_client& http_;
  std::string api_url_;
  std::shared_ptr<spdlog::logger> log_;
};

/// Keeps a valid Crossbar token for the configured API key. Kazoo tokens are absolute (§5.2): current()
/// renews one that expires within `margin`; fresh() always asks for a new one (a new blackhole socket
/// needs a currently valid token, §1.7). Thread: I/O thread.
class token_source {
 public:
  token_source(crossbar_client& crossbar, std::string api_key, std::shared_ptr<spdlog::logger> log,
               std::int64_t margin_ms = 5 * 60 * 1000);

  awaitable<result<auth_token>> current();
  awaitable<result<auth_token>> fresh();
  /// After a 401 from Crossbar the token is dropped so that the next current() renews it.
  void invalidate() { token_ = {}; }
  /// The account the API key belongs to (empty until the first successful api_auth).
  const std::string& account_id() const { return token_.account_id; }

 private:
  crossbar_client& crossbar_;
  std::string api_key_;
  std::shared_ptr<spdlog::logger> log_;
  std::int64_t margin_ms_;
  auth_token token_;
};

}  // namespace kazoo_bridge::kazoo
