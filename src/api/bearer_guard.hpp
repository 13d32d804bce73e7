#pragma once
// The bearer-token gate every authenticated /api/v1 route starts with (RFC 6750), written once for
// v1_routes, hook_routes and dial_routes so they answer a bad or missing token identically.
// Private to the api module.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include <kazoo_bridge/api/bearer.hpp>
#include <kazoo_bridge/api/caller.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/net/http.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::api::detail {

/// What the gate needs of a request, copied out before the handler's first co_await (coroutines take
/// everything by value, style guide B.3).
struct bearer_request {
  unsigned version = 11;
  bool keep_alive = true;
  std::size_t authorization_count = 0;
  std::optional<std::string> authorization;
  bool token_in_query = false;  ///< an access_token query parameter (refused: RFC 6750 §2.3, RFC 9700)
};
bearer_request bearer_request_of(const net::request_context& ctx);

/// The API's error body ({"error", "error_description"}, design.md) with `Cache-Control: no-store`:
/// these answers concern personal data, which no shared cache may keep (RFC 9111 §5.2.2.5).
net::response api_error(const bearer_request& m, net::http::status s, std::string code, std::string description);

/// api_error() plus a WWW-Authenticate challenge in `realm` (RFC 6750 §3; without an error code, no
/// error_description either, §3.1).
net::response api_challenge(const bearer_request& m, const std::string& realm, net::http::status s, std::string code,
                            std::string description, bearer_challenge c);

/// 503 temporarily_unavailable with Retry-After (never a 4xx for our own failure: a client would
/// take it as its fault, and Zapier marks the connection stale).
net::response api_unavailable(const bearer_request& m, std::chrono::seconds retry_after, std::string description);

struct gate_options {
  std::string realm;
  std::chrono::seconds retry_after{5};
  std::shared_ptr<spdlog::logger> log;
};

struct auth_outcome {
  std::optional<caller> who;             ///< set when the token is good
  std::optional<net::response> refusal;  ///< set otherwise: the answer to send
};

/// The token must come in one `Authorization: Bearer` header (RFC 6750 §2.1), never in the URL;
/// `authenticate` then decides: unknown, expired or revoked is 401 invalid_token, an error is 503.
/// Scopes are the route's business. The token itself is never logged (style guide B.7).
awaitable<auth_outcome> authenticate_bearer(authenticate_fn authenticate, bearer_request m, gate_options o);

}  // namespace kazoo_bridge::api::detail
