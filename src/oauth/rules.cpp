// Pure rules of the authorization server; see rules.hpp for the RFC behind each one.
#include <kazoo_bridge/oauth/rules.hpp>

#include <algorithm>
#include <array>

#include <kazoo_bridge/net/url.hpp>
#include <kazoo_bridge/oauth/crypto.hpp>

namespace kazoo_bridge::oauth {
namespace {

constexpr std::array<std::string_view, 3> canonical_scopes{scope_calls, scope_dial, scope_account};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

token_error bad_request(std::string error, std::string description) {
  return token_error{400, std::move(error), std::move(description), false};
}

token_error invalid_client(std::string description) {
  return token_error{401, "invalid_client", std::move(description), true};
}

}  // namespace

// ---------------------------------------------------------------------------------------- scopes

std::optional<std::vector<std::string>> parse_scopes(std::string_view text) {
  std::vector<std::string> asked;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != ',') ++j;
    if (j > i) {
      auto s = text.substr(i, j - i);
      if (std::find(canonical_scopes.begin(), canonical_scopes.end(), s) == canonical_scopes.end()) {
        return std::nullopt;
      }
      asked.emplace_back(s);
    }
    i = j;
  }
  std::vector<std::string> out;
  for (auto s : canonical_scopes) {
    if (contains(asked, s)) out.emplace_back(s);
  }
  return out;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out.push_back(' ');
    out += s;
  }
  return out;
}

std::optional<std::vector<std::string>> grant_scopes(const std::vector<std::string>& requested, bool admin) {
  if (requested.empty()) return std::vector<std::string>{std::string(scope_calls), std::string(scope_dial)};
  std::vector<std::string> out;
  for (const auto& s : requested) {
    if (s == scope_account && !admin) continue;  // never `account` for a non-admin
    out.push_back(s);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool scopes_subset(const std::vector<std::string>& sub, const std::vector<std::string>& of) {
  return std::all_of(sub.begin(), sub.end(), [&](const std::string& s) { return contains(of, s); });
}

// ------------------------------------------------------------------------------------- clients

std::optional<std::string> redirect_uri_problem(std::string_view uri) {
  if (uri.empty()) return "is empty";
  if (uri.size() > max_param_length) return "is too long";
  if (uri.find('#') != std::string_view::npos) return "must not contain a fragment (RFC 6749 §3.1.2)";
  auto u = net::parse_url(uri);
  if (!u || (u->scheme != "http" && u->scheme != "https")) return "must be an absolute http(s) URL";
  // parse_url normalises; the registered string is compared byte for byte later, so it must already be
  // in the form the client will send (no whitespace, nothing parse_url would drop).
  if (u->scheme == "http") {
    const bool loopback = u->host == "127.0.0.1" || u->host == "::1" || u->host == "localhost";
    if (!loopback) return "must use https (http only for loopback, RFC 9700 §2.6 / RFC 8252 §7.3)";
  }
  return std::nullopt;
}

// ------------------------------------------------------------------------------ authorize request

std::optional<std::string> single_param(const param_list& params, std::string_view name, bool* repeated) {
  std::optional<std::string> found;
  int count = 0;
  for (const auto& [k, v] : params) {
    if (k != name || v.empty()) continue;  // RFC 6749 §3.1: empty = omitted
    ++count;
    if (!found) found = v;
  }
  if (repeated != nullptr) *repeated = count > 1;
  if (count > 1) return std::nullopt;
  return found;
}

bool has_repeated_param(const param_list& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].second.empty()) continue;
    for (std::size_t j = i + 1; j < params.size(); ++j) {
      if (!params[j].second.empty() && params[j].first == params[i].first) return true;
    }
  }
  return false;
}

authorize_validation validate_authorize(const param_list& params, const std::optional<client_info>& client) {
  bool rep = false;
  auto client_id = single_param(params, "client_id", &rep);
  if (rep) return page_error{"invalid_request", "client_id is repeated"};
  if (!client_id) return page_error{"invalid_request", "client_id is missing"};
  if (!client || client->client_id != *client_id) return page_error{"invalid_client", "unknown client_id"};
  auto redirect_uri = single_param(params, "redirect_uri", &rep);
  if (rep) return page_error{"invalid_request", "redirect_uri is repeated"};
  if (!redirect_uri) return page_error{"invalid_request", "redirect_uri is missing"};
  if (!contains(client->redirect_uris, *redirect_uri)) {
    return page_error{"invalid_request", "redirect_uri is not registered for this client"};
  }

  // From here the redirect URI is trusted: errors go back to it.
  redirect_error err{*redirect_uri, "invalid_request", "", std::nullopt};
  auto state = single_param(params, "state", &rep);
  if (state && state->size() <= max_param_length) err.state = state;
  auto fail = [&](std::string error, std::string description) {
    err.error = std::move(error);
    err.description = std::move(description);
    return err;
  };
  if (has_repeated_param(params)) return fail("invalid_request", "a parameter is repeated");
  for (const auto& [k, v] : params) {
    if (v.size() > max_param_length || k.size() > 64) return fail("invalid_request", "a parameter is too long");
  }
  auto response_type = single_param(params, "response_type");
  if (!response_type) return fail("invalid_request", "response_type is missing");
  if (*response_type != "code") return fail("unsupported_response_type", "only response_type=code is supported");
  if (!state) return fail("invalid_request", "state is missing");

  authorize_request out;
  out.client_id = *client_id;
  out.redirect_uri = *redirect_uri;
  out.state = *state;
  out.scope_text = single_param(params, "scope").value_or("");
  auto scopes = parse_scopes(out.scope_text);
  if (!scopes) return fail("invalid_scope", "unknown scope; supported: calls dial account");
  out.scopes = std::move(*scopes);

  auto challenge = single_param(params, "code_challenge");
  auto method = single_param(params, "code_challenge_method");
  if (challenge || method) {
    if (!method || *method != "S256") return fail("invalid_request", "code_challenge_method must be S256");
    if (!challenge) return fail("invalid_request", "code_challenge is missing");
    if (!pkce_challenge_well_formed(*challenge)) return fail("invalid_request", "code_challenge is malformed");
    out.code_challenge = *challenge;
  } else if (client->is_public || client->pkce_required) {
    return fail("invalid_request", "code_challenge (PKCE, S256) is required for this client");
  }
  return out;
}

// ---------------------------------------------------------------------------------------- PKCE

std::string pkce_s256(std::string_view verifier) { return base64url(sha256_raw(verifier)); }

bool pkce_verifier_well_formed(std::string_view v) {
  return v.size() >= 43 && v.size() <= 128 && std::all_of(v.begin(), v.end(), unreserved);
}

bool pkce_challenge_well_formed(std::string_view c) {
  return c.size() == 43 && std::all_of(c.begin(), c.end(), [](char ch) {
           return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '_';
         });
}

bool pkce_matches(std::string_view verifier, std::string_view challenge) {
  return equal_constant_time(pkce_s256(verifier), challenge);
}

// ------------------------------------------------------------------------------ token endpoint

std::variant<client_credentials, token_error> extract_client(const param_list& body,
                                                             std::string_view authorization_header) {
  bool rep = false;
  auto body_id = single_param(body, "client_id", &rep);
  if (rep) return bad_request("invalid_request", "client_id is repeated");
  auto body_secret = single_param(body, "client_secret", &rep);
  if (rep) return bad_request("invalid_request", "client_secret is repeated");

  auto h = authorization_header;
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  const bool basic = h.size() >= 6 && (h.substr(0, 6) == "Basic " || h.substr(0, 6) == "basic " ||
                                       h.substr(0, 6) == "BASIC ");
  if (basic) {
    if (body_secret) {
      return bad_request("invalid_request", "use one client authentication method, not Basic and client_secret");
    }
    auto b64 = h.substr(6);
    while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
    while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
    std::string decoded;
    if (!base64_decode(b64, decoded)) return invalid_client("malformed Basic credentials");
    auto colon = decoded.find(':');
    if (colon == std::string::npos) return invalid_client("malformed Basic credentials");
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding (oauth4webapi does it).
    client_credentials c{net::url_decode(decoded.substr(0, colon)), net::url_decode(decoded.substr(colon + 1)),
                         true};
    if (c.client_id.empty()) return invalid_client("malformed Basic credentials");
    if (body_id && *body_id != c.client_id) {
      return bad_request("invalid_request", "client_id in the body differs from the Basic credentials");
    }
    return c;
  }
  // Any other scheme (typically `Bearer <old access token>` on a Zapier refresh) is not client
  // authentication and is ignored.
  if (!body_id) return invalid_client("client authentication is required");
  return client_credentials{*body_id, body_secret, false};
}

std::optional<token_error> authenticate_client(const client_credentials& cred,
                                               const std::optional<client_info>& client) {
  if (!client || client->client_id != cred.client_id) return invalid_client("unknown client or wrong secret");
  if (client->is_public) {
    if (cred.secret) return invalid_client("a public client has no secret");
    return std::nullopt;
  }
  if (!cred.secret) return invalid_client("client authentication is required");
  if (!equal_constant_time(sha256_hex(*cred.secret), client->secret_hash)) {
    return invalid_client("unknown client or wrong secret");
  }
  return std::nullopt;
}

std::variant<token_grant, token_error> validate_token_request(const param_list& body) {
  if (has_repeated_param(body)) return bad_request("invalid_request", "a parameter is repeated");
  for (const auto& [k, v] : body) {
    if (v.size() > max_param_length || k.size() > 64) return bad_request("invalid_request", "a parameter is too long");
  }
  auto grant_type = single_param(body, "grant_type");
  if (!grant_type) return bad_request("invalid_request", "grant_type is missing");
  if (*grant_type == "authorization_code") {
    code_grant g;
    auto code = single_param(body, "code");
    if (!code) return bad_request("invalid_request", "code is missing");
    g.code = *code;
    g.redirect_uri = single_param(body, "redirect_uri");
    g.code_verifier = single_param(body, "code_verifier");
    if (g.code_verifier && !pkce_verifier_well_formed(*g.code_verifier)) {
      return bad_request("invalid_request", "code_verifier is malformed (RFC 7636 §4.1)");
    }
    return token_grant{std::move(g)};
  }
  if (*grant_type == "refresh_token") {
    refresh_grant g;
    auto rt = single_param(body, "refresh_token");
    if (!rt) return bad_request("invalid_request", "refresh_token is missing");
    g.refresh_token = *rt;
    if (auto scope = single_param(body, "scope")) {
      auto s = parse_scopes(*scope);
      if (!s) return bad_request("invalid_scope", "unknown scope");
      g.scopes = std::move(*s);
    }
    return token_grant{std::move(g)};
  }
  return bad_request("unsupported_grant_type", "supported: authorization_code, refresh_token");
}

code_verdict check_code(const code_state& code, const code_grant& g, std::string_view client_id,
                        std::int64_t now_ms) {
  if (code.used) return code_verdict::reused;
  if (now_ms >= code.expires_at_ms) return code_verdict::expired;
  if (code.client_id != client_id) return code_verdict::wrong_client;
  if (g.redirect_uri && *g.redirect_uri != code.redirect_uri) return code_verdict::wrong_redirect;
  if (code.code_challenge.empty()) {
    if (g.code_verifier) return code_verdict::pkce_downgrade;
    return code_verdict::ok;
  }
  if (!g.code_verifier) return code_verdict::pkce_missing;
  if (!pkce_matches(*g.code_verifier, code.code_challenge)) return code_verdict::pkce_mismatch;
  return code_verdict::ok;
}

refresh_verdict decide_refresh(const refresh_state& rt, std::string_view client_id, std::int64_t now_ms,
                               std::int64_t grace_ms) {
  if (rt.client_id != client_id) return refresh_verdict::wrong_client;
  if (rt.revoked_at_ms) return refresh_verdict::revoked;
  if (rt.rotated_at_ms) {
    // Reuse detection comes before expiry: a rotated token presented late is still a replay signal.
    if (now_ms - *rt.rotated_at_ms <= grace_ms) {
      return now_ms >= rt.expires_at_ms ? refresh_verdict::expired : refresh_verdict::grace_reissue;
    }
    return refresh_verdict::reuse_detected;
  }
  if (now_ms >= rt.expires_at_ms) return refresh_verdict::expired;
  return refresh_verdict::rotate;
}

}  // namespace kazoo_bridge::oauth
