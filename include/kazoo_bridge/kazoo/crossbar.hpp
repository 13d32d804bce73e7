#pragma once
/// Pure pieces of Kazoo's Crossbar REST API (reference/kazoo.md §5): response classification, token
/// facts, request bodies and pagination. No I/O; crossbar_client.hpp does the requests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::kazoo {

/// A Crossbar token (JWT, RS256) and what we know about it.
struct auth_token {
  std::string token;
  std::string account_id;
  std::optional<std::string> owner_id;  ///< user_auth only; api_auth has no owner (§5.2)
  std::int64_t expires_at_ms = 0;
};

/// Default token lifetime when the JWT carries no readable `exp` (crossbar token_auth_expiry_s, §5.2).
inline constexpr std::int64_t default_token_lifetime_ms = 3600 * 1000;

/// Reads the `exp` claim (Unix seconds) of a JWT without verifying it (we are its client, not its
/// judge); nullopt when the token is not a JWT or has no numeric exp.
std::optional<std::int64_t> jwt_expiry_ms(std::string_view token);

/// The token is due for a refresh: it expires within `margin_ms` (or has expired). Kazoo tokens are
/// absolute, not sliding (§5.2), so the only way to keep one valid is to get a new one in time.
bool token_needs_refresh(const auth_token& t, std::int64_t now_ms, std::int64_t margin_ms);

/// Turns an api_auth / user_auth success envelope into a token; errc::bad_payload when fields miss.
result<auth_token> token_from_auth_response(const nlohmann::json& envelope, std::int64_t now_ms);

/// Maps a Crossbar HTTP answer to the envelope or a domain error (§5.1): 401 -> auth_expired
/// (auth_failed for the auth endpoints, see `is_auth_request`), 403 forbidden, 404 not_found,
/// 429 rate_limited, 5xx unavailable, other 4xx peer_error, unparsable body bad_payload.
result<nlohmann::json> classify_response(unsigned status, std::string_view body, bool is_auth_request);

/// `{"data":{"api_key":"..."}}` for PUT /v2/api_auth (§5.2).
std::string api_auth_body(std::string_view api_key);

/// `{"data":{"credentials":md5,"account_name":...,"method":"md5"}}` for PUT /v2/user_auth (§5.2);
/// `credentials_md5` is the lower-case hex md5 of "user:password" (user names are lower case).
std::string user_auth_body(std::string_view account_name, std::string_view credentials_md5);

/// The next page of a listing: `first_page_path` (always the path of the FIRST page) plus the envelope's
/// `next_start_key`, or nullopt on the last page (`next_start_key` absent, §5.1 pagination).
std::optional<std::string> next_page_path(std::string_view first_page_path, const nlohmann::json& envelope);

/// CDR listing path for everything created since `from_unix_s` up to `to_unix_s`, in Gregorian seconds,
/// clamped to Crossbar's maximum range of 2,682,000 s (§5.6), ascending so the oldest come first.
std::string cdrs_path(std::string_view account_id, std::int64_t from_unix_s, std::int64_t to_unix_s);

/// The Crossbar maximum CDR range (31 days + 1 hour, §5.6).
inline constexpr std::int64_t cdr_max_range_s = 2682000;

}  // namespace kazoo_bridge::kazoo
