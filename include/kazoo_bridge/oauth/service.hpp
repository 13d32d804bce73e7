#pragma once
/// The OAuth 2.0 authorization server (issue #3, docs/oauth.md): the authorization endpoint's two steps
/// (validate + show the login form, then log in with Kazoo and issue a code), the token endpoint
/// (authorization_code, refresh_token with rotation and a grace window), revocation (RFC 7009),
/// introspection (RFC 7662), metadata (RFC 8414) and bearer-token authentication for the API.
/// HTTP framing lives in api/oauth_routes.hpp; this class speaks values.

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/kazoo/crossbar_client.hpp>
#include <kazoo_bridge/oauth/identity.hpp>
#include <kazoo_bridge/oauth/rules.hpp>
#include <kazoo_bridge/oauth/throttle.hpp>
#include <kazoo_bridge/store/oauth_store.hpp>

namespace kazoo_bridge::oauth {

struct service_options {
  std::string issuer = "http://127.0.0.1:8080";  ///< server.public_url (RFC 8414 issuer, RFC 9207 `iss`)
  std::chrono::seconds access_token_ttl{3600};
  std::chrono::seconds refresh_token_ttl{std::chrono::hours{24 * 90}};  ///< from the last rotation
  std::chrono::seconds refresh_grace{60};  ///< previous refresh token still accepted after a rotation
  std::chrono::seconds code_ttl{60};
  std::chrono::seconds form_ttl{600};  ///< how long a login form (its CSRF token) stays valid
  login_throttle_options throttle{};
  /// Clock for tests (Unix ms); default now_unix_ms().
  std::int64_t (*clock)() = nullptr;
};

/// GET /oauth/authorize passed: show the login form for this request.
struct login_form {
  authorize_request req;
  std::string client_name;
  std::string form_token;  ///< CSRF token: HMAC over the request, the browser binding and an expiry
  std::vector<std::string> scopes_shown;  ///< what the page lists (the default when none was asked)
};

/// What the authorization endpoint answers.
struct redirect_to {
  std::string location;  ///< 303 See Other after the POST (RFC 9700 §4.12: never 307), 302 after a GET
};
struct show_form {
  login_form form;
  unsigned status = 200;
  std::string message;                     ///< shown above the form ("" the first time)
  std::optional<std::int64_t> retry_after_s;  ///< 429
  std::string account, username;           ///< refilled after a failure (never the password)
};
using authorize_outcome = std::variant<show_form, page_error, redirect_to>;

/// Result of a token / introspection request: the JSON body of a 200, or an RFC 6749 §5.2 error.
using json_outcome = std::variant<nlohmann::json, token_error>;

/// Thread/executor: I/O thread; database work is offloaded to `db_pool` (one thread, shared with the
///   committer), so no SQLite call ever runs on the I/O thread.
/// Lifetime: the pool, store, crossbar client, metrics registry must outlive it; it holds no tasks of its
///   own (every method completes within the awaiting coroutine).
/// Cancellation: none of its own; a Crossbar request ends at the HTTP client's deadline.
/// Errors: never thrown to the caller for request problems; "could not check" (database busy, Kazoo down)
///   comes back as a 503 outcome (token endpoint: temporarily_unavailable) or an error result
///   (authenticate()), never as a 4xx, so Zapier does not mark a connection stale (reference §2.3).
class service {
 public:
  service(asio::thread_pool& db_pool, store::oauth_store& store, kazoo::crossbar_client& crossbar,
          service_options o, metrics_registry& metrics, std::shared_ptr<spdlog::logger> log);

  /// GET /oauth/authorize. `browser_binding` is the value of the browser's CSRF cookie (the routes set it).
  awaitable<authorize_outcome> begin_authorize(param_list query, std::string browser_binding);
  /// POST /oauth/authorize: the login form (hidden request fields + account, username, password, csrf).
  awaitable<authorize_outcome> login(param_list form, std::string browser_binding, std::string remote_ip);
  /// POST /oauth/token.
  awaitable<json_outcome> token(param_list body, std::string authorization_header);
  /// POST /oauth/revoke (RFC 7009): nullopt = 200 (also for an unknown token, so existence never leaks).
  awaitable<std::optional<token_error>> revoke(param_list body, std::string authorization_header);
  /// POST /oauth/introspect (RFC 7662), client-authenticated.
  awaitable<json_outcome> introspect(param_list body, std::string authorization_header);
  /// GET /.well-known/oauth-authorization-server (RFC 8414).
  nlohmann::json metadata() const;

  /// The access a bearer token grants: nullopt = unknown, expired or revoked (API: 401 invalid_token);
  /// an error = could not check (database busy: API answers 503).
  awaitable<result<std::optional<access>>> authenticate(std::string bearer_token);

  const service_options& options() const { return opts_; }

  /// Called on the I/O thread after a whole grant (token family) was revoked: RFC 7009 revocation of
  /// its refresh token, or reuse of a code / refresh token (RFC 6749 §4.1.2, RFC 9700 §4.14). The app
  /// removes the REST hooks created through that grant (issue #4).
  std::function<void(const std::string& grant_id)> on_grant_revoked;

 private:
  std::int64_t now() const;
  awaitable<std::variant<std::optional<client_info>, error_code>> find_client(std::string client_id);
  /// The client of a request's `client_id` (nullopt: absent, too long or unknown), or the 503 page
  /// when the database cannot be read (authorize GET and POST ask the same way).
  awaitable<std::variant<std::optional<client_info>, page_error>> client_of(std::optional<std::string> client_id);
  std::string form_token(const authorize_request& r, const std::string& binding, std::int64_t expires_s) const;
  bool form_token_valid(const authorize_request& r, const std::string& binding, const std::string& token) const;
  login_form make_form(const authorize_request& r, const client_info& c, const std::string& binding) const;
  std::string redirect_with(const std::string& redirect_uri,
                            std::vector<std::pair<std::string, std::string>> params) const;
  std::string redirect_error_location(const redirect_error& e) const;
  awaitable<result<identity>> kazoo_login(std::string account, std::string username, std::string password);

  asio::thread_pool& db_pool_;
  store::oauth_store& store_;
  kazoo::crossbar_client& crossbar_;
  service_options opts_;
  std::shared_ptr<spdlog::logger> log_;
  std::string form_key_;  ///< per-process HMAC key of login forms (a restart invalidates open forms)
  login_throttle throttle_;
  std::uint64_t logins_ = 0;  ///< successful logins, for the periodic purge of expired rows
  counter &login_ok_, &login_failed_, &login_throttled_, &login_unavailable_;
  counter &issued_code_, &issued_refresh_;
};

/// A newly registered client: the secret is returned once and never stored in clear.
struct registered_client {
  std::string client_id;
  std::optional<std::string> client_secret;  ///< nullopt for a public client
};

/// Registers a client (CLI `client add`). Every redirect URI is checked with redirect_uri_problem();
/// errc::bad_config (with `problem` set) when one is refused or there is none; store errors as is.
result<registered_client> register_client(store::oauth_store& store, std::string name,
                                          std::vector<std::string> redirect_uris, bool is_public, bool pkce_required,
                                          std::string& problem);
/// A new secret for a confidential client (CLI `client rotate-secret`); errc::not_found for an unknown or
/// public client. The old secret stops working at once.
result<std::string> rotate_client_secret(store::oauth_store& store, const std::string& client_id);

/// The stored client as the rules see it.
client_info to_client_info(const store::oauth_client_row& row);

}  // namespace kazoo_bridge::oauth
