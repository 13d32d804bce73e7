#pragma once
/// The HTTP face of the OAuth 2.0 authorization server (issue #3, docs/oauth.md):
///   GET  /oauth/authorize                      validate the request, show the login page (or our error page,
///                                              or redirect an error back to the client)
///   POST /oauth/authorize                      the login form: Kazoo user_auth, then 303 to the client with a code
///   POST /oauth/token                          authorization_code and refresh_token grants (RFC 6749 §4.1.3, §6)
///   POST /oauth/revoke                         RFC 7009
///   POST /oauth/introspect                     RFC 7662
///   GET  /.well-known/oauth-authorization-server  RFC 8414 metadata

#include <memory>
#include <string>

#include <kazoo_bridge/net/router.hpp>
#include <kazoo_bridge/oauth/service.hpp>

namespace kazoo_bridge::api {

/// How the login page looks ([oauth] product_name, logo_url, primary_color).
struct oauth_branding {
  std::string product_name = "VoIP";  ///< "Sign in to <product_name>"
  std::string logo_url;               ///< absolute http(s) URL of a logo image; empty = none
  std::string primary_color = "#1f6feb";  ///< #rrggbb (validated by config)
};

/// Name of the cookie that binds a login form to the browser that asked for it (CSRF, docs/oauth.md).
inline constexpr const char* oauth_csrf_cookie = "kb_oauth_csrf";

/// Registers the six routes above. The service outlives the router.
void add_oauth_routes(net::router& r, oauth::service& svc, oauth_branding branding);

}  // namespace kazoo_bridge::api
