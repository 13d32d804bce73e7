#pragma once
/// Bearer token authentication of the resource server (RFC 6750): parsing the Authorization header
/// and writing the WWW-Authenticate challenges. Pure: no I/O.

#include <optional>
#include <string>
#include <string_view>

namespace kazoo_bridge::api {

/// What an Authorization header value holds.
enum class authorization_kind {
  none,       ///< no header: the request carries no authentication (RFC 6750 §3.1: no error code)
  other,      ///< another scheme (Basic, Digest...): also no bearer credentials
  malformed,  ///< "Bearer" with no token, a token outside the b64token syntax, or trailing data
  bearer,     ///< a well-formed bearer token
};

struct parsed_authorization {
  authorization_kind kind = authorization_kind::none;
  std::string token;  ///< set for `bearer` only
};

/// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive (RFC 9110
/// §11.1); optional whitespace around the field value is ignored (RFC 9110 §5.5).
parsed_authorization parse_authorization(std::optional<std::string_view> header_value);

/// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 6750 §2.1).
bool is_b64token(std::string_view s);

/// A WWW-Authenticate challenge (RFC 6750 §3). Empty members are left out.
struct bearer_challenge {
  std::string realm;
  std::string error;              ///< invalid_request | invalid_token | insufficient_scope
  std::string error_description;  ///< human-readable; characters outside %x20-21 / %x23-5B / %x5D-7E are dropped
  std::string scope;              ///< space-delimited scopes needed (insufficient_scope)
};

/// `Bearer realm="...", error="...", error_description="...", scope="..."`.
std::string www_authenticate(const bearer_challenge& c);

}  // namespace kazoo_bridge::api
