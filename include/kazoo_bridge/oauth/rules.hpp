#pragma once
/// The pure decisions of the authorization server (RFC 6749, RFC 7636, RFC 9700, OAuth 2.1): parameter
/// tables, scopes, request validation, client authentication, PKCE and refresh-token rotation. No I/O:
/// every input is a value, `now` is a parameter, and everything here is table-tested.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kazoo_bridge::oauth {

/// Decoded form or query parameters in request order (duplicates kept, so they can be refused).
using param_list = std::vector<std::pair<std::string, std::string>>;

/// Longest accepted parameter value. Longer ones are refused (invalid_request) rather than stored,
/// echoed or hashed: a `state` of 1 MB would otherwise be bounced back in a Location header.
inline constexpr std::size_t max_param_length = 2048;

// ---------------------------------------------------------------------------------------- scopes

/// The scopes we grant (design.md): `calls` read own calls and subscribe hooks, `dial` click-to-call,
/// `account` every user of the account (Kazoo account admins only).
inline constexpr std::string_view scope_calls = "calls", scope_dial = "dial", scope_account = "account";

/// Parses a scope parameter: space-separated per RFC 6749 §3.3, commas tolerated (Zapier's UI allows
/// "comma- or space-separated", reference §2.1). Duplicates are dropped, order is canonical
/// (calls, dial, account). nullopt when a scope is unknown (-> invalid_scope).
std::optional<std::vector<std::string>> parse_scopes(std::string_view text);

/// "calls dial" (canonical order, one space).
std::string join_scopes(const std::vector<std::string>& scopes);

/// What the user gets. Nothing asked -> `calls dial`. `account` only for admins: a non-admin asking for
/// it together with other scopes gets the others; asking for `account` alone gets nullopt (invalid_scope).
std::optional<std::vector<std::string>> grant_scopes(const std::vector<std::string>& requested, bool admin);

/// True when every scope of `sub` is in `of` (refresh with a narrower scope, RFC 6749 §6).
bool scopes_subset(const std::vector<std::string>& sub, const std::vector<std::string>& of);

// ------------------------------------------------------------------------------------- clients

/// A registered client as the rules need it.
struct client_info {
  std::string client_id, name;
  std::string secret_hash;  ///< sha256_hex of the secret; empty for a public client
  bool is_public = false;
  bool pkce_required = true;
  std::vector<std::string> redirect_uris;
};

/// A redirect URI we accept at registration: absolute, no fragment (RFC 6749 §3.1.2), https, or http only
/// on a loopback host (RFC 8252 §7.3 / RFC 9700 §2.1), or a private-use scheme ("com.example.app:/cb").
/// Returns the reason it is refused, or nullopt.
std::optional<std::string> redirect_uri_problem(std::string_view uri);

// ------------------------------------------------------------------------------ authorize request

/// A validated authorization request (GET /oauth/authorize, or the hidden fields of the login form).
struct authorize_request {
  std::string client_id, redirect_uri, state;
  std::vector<std::string> scopes;  ///< as asked (may be empty = default)
  std::string scope_text;           ///< the raw `scope` parameter, echoed in the form
  std::string code_challenge;       ///< empty = no PKCE
};

/// An error shown on OUR page, never redirected: the client or the redirect URI cannot be trusted
/// (RFC 6749 §4.1.2.1, RFC 9700 §4.11 open redirectors).
struct page_error {
  std::string error, description;
  unsigned status = 400;  ///< the HTTP status of our error page
};

/// An error sent back to the (validated, registered) redirect URI (RFC 6749 §4.1.2.1).
struct redirect_error {
  std::string redirect_uri, error, description;
  std::optional<std::string> state;  ///< echoed unchanged when it was given once
};

using authorize_validation = std::variant<authorize_request, page_error, redirect_error>;

/// Validates the parameters of an authorization request against the client found for `client_id`
/// (`client` = nullopt when unknown). Rules, in order:
///  - empty values count as absent (RFC 6749 §3.1);
///  - client_id / redirect_uri missing, repeated, oversized, unknown or not an exact registered match
///    -> page_error (exact string match, RFC 9700 §4.1.3);
///  - any other repeated parameter, an oversized one, missing state -> invalid_request (redirected);
///  - response_type missing -> invalid_request, not "code" -> unsupported_response_type;
///  - an unknown scope -> invalid_scope;
///  - code_challenge_method other than S256 (including a challenge without a method, whose default would
///    be "plain", RFC 7636 §4.3), or a challenge that is not 43 base64url characters -> invalid_request;
///  - no challenge while the client must use PKCE (public clients always, RFC 9700 §2.1.1) -> invalid_request.
authorize_validation validate_authorize(const param_list& params, const std::optional<client_info>& client);

/// The value of `name` if it appears exactly once with a non-empty value; nullopt if absent or empty;
/// `repeated` is set when it appears more than once.
std::optional<std::string> single_param(const param_list& params, std::string_view name, bool* repeated = nullptr);

/// True when `params` repeats any parameter name (with non-empty values; RFC 6749 §3.1/§3.2).
bool has_repeated_param(const param_list& params);

// ---------------------------------------------------------------------------------------- PKCE

/// BASE64URL(SHA256(verifier)) (RFC 7636 §4.2, S256).
std::string pkce_s256(std::string_view verifier);
/// A verifier of 43..128 characters from [A-Z a-z 0-9 - . _ ~] (RFC 7636 §4.1).
bool pkce_verifier_well_formed(std::string_view verifier);
/// A S256 challenge: exactly 43 base64url characters (32 bytes of SHA-256).
bool pkce_challenge_well_formed(std::string_view challenge);
/// The verifier matches the stored challenge (constant time).
bool pkce_matches(std::string_view verifier, std::string_view challenge);

// ------------------------------------------------------------------------------ token endpoint

/// RFC 6749 §5.2 error, with the HTTP status it is sent with.
struct token_error {
  unsigned status = 400;
  std::string error, description;
  bool www_authenticate = false;  ///< 401 + WWW-Authenticate: Basic (invalid_client)
};

/// The client credentials a token/revoke/introspect request presented.
struct client_credentials {
  std::string client_id;
  std::optional<std::string> secret;  ///< nullopt: none presented (a public client)
  bool via_basic = false;             ///< client_secret_basic, else client_secret_post / none
};

/// Extracts client authentication (RFC 6749 §2.3.1): `Authorization: Basic` with form-urlencoded id and
/// secret, or client_id/client_secret in the body. Exactly one method: Basic plus a body secret is
/// invalid_request (400). A body client_id next to Basic must name the same client. Any other
/// Authorization scheme (a stale `Bearer` that Zapier's middleware adds on refresh, reference §2.3) is
/// ignored. A malformed Basic header or no client_id at all -> invalid_client (401).
std::variant<client_credentials, token_error> extract_client(const param_list& body,
                                                             std::string_view authorization_header);

/// Checks presented credentials against the stored client: a confidential client must present its
/// secret (constant-time compare of SHA-256 hashes); a public client must not claim one. Unknown
/// client or wrong secret -> invalid_client (401, WWW-Authenticate).
std::optional<token_error> authenticate_client(const client_credentials& cred,
                                               const std::optional<client_info>& client);

/// A token request, validated for shape (not yet against stored grants).
struct code_grant {
  std::string code;
  std::optional<std::string> redirect_uri;   ///< compared when sent (OAuth 2.1 dropped it)
  std::optional<std::string> code_verifier;  ///< empty counts as absent (Zapier sends `code_verifier=`)
};
struct refresh_grant {
  std::string refresh_token;
  std::optional<std::vector<std::string>> scopes;  ///< a narrower scope, or nullopt = same
};
using token_grant = std::variant<code_grant, refresh_grant>;

/// grant_type and its parameters: a repeated or oversized parameter -> invalid_request; no grant_type ->
/// invalid_request; other than authorization_code / refresh_token -> unsupported_grant_type; a missing
/// code / refresh_token -> invalid_request; a malformed verifier -> invalid_request; an unknown scope ->
/// invalid_scope.
std::variant<token_grant, token_error> validate_token_request(const param_list& body);

/// What the stored code says, for check_code().
struct code_state {
  std::string client_id, redirect_uri, code_challenge;
  std::int64_t expires_at_ms = 0;
  bool used = false;
};

enum class code_verdict {
  ok,
  reused,          ///< single use: deny and revoke what the code issued (RFC 6749 §4.1.2)
  expired,         ///< invalid_grant
  wrong_client,    ///< invalid_grant (the code was issued to another client)
  wrong_redirect,  ///< invalid_grant (RFC 6749 §4.1.3)
  pkce_missing,    ///< invalid_grant: a challenge was sent, no verifier now
  pkce_mismatch,   ///< invalid_grant
  pkce_downgrade,  ///< invalid_request: a verifier for a code issued without challenge (RFC 9700 §4.8.2)
};

/// The authorization_code checks once the code row is found (order matters: reuse first, so a replay is
/// caught even by the wrong client or after expiry).
code_verdict check_code(const code_state& code, const code_grant& g, std::string_view client_id,
                        std::int64_t now_ms);

/// What the stored refresh token says, for decide_refresh().
struct refresh_state {
  std::string client_id;
  std::int64_t expires_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms, rotated_at_ms;
};

enum class refresh_verdict {
  rotate,          ///< first use: issue a new access + refresh token, mark this one rotated
  grace_reissue,   ///< used again within the grace window: issue another new pair in the same family
                   ///< (ORY Hydra's behaviour, reference §4.8), so two Zap runs refreshing at once both win
  reuse_detected,  ///< used again after the window: revoke the whole family (RFC 9700 §4.14.2)
  revoked,         ///< invalid_grant
  expired,         ///< invalid_grant
  wrong_client,    ///< invalid_grant
};

/// Rotation decision with a grace window (`grace_ms`, counted from the first rotation).
refresh_verdict decide_refresh(const refresh_state& rt, std::string_view client_id, std::int64_t now_ms,
                               std::int64_t grace_ms);

}  // namespace kazoo_bridge::oauth
