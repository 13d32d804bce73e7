// The authorization server's flows; the decisions are in rules.cpp, the SQL in store/oauth_store.cpp.
#include <kazoo_bridge/oauth/service.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <spdlog/logger.h>

#include <kazoo_bridge/common/log.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/kazoo/crossbar.hpp>
#include <kazoo_bridge/net/url.hpp>
#include <kazoo_bridge/oauth/crypto.hpp>

namespace kazoo_bridge::oauth {
namespace {

using nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string s) {
  auto sp = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && sp(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && sp(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::vector<std::string> split_scopes(const std::string& s) { return parse_scopes(s).value_or(std::vector<std::string>{}); }

token_error unavailable() {
  return token_error{503, "temporarily_unavailable", "the authorization server cannot complete the request now; retry",
                     false};
}
// The request's client, authenticated against what is stored (DB thread): the error to answer with
// (503 when the database cannot be read), or none. Token, revoke and introspect all begin with it.
std::optional<token_error> check_client(store::oauth_store& st, const client_credentials& cred) {
  auto c = st.find_client(cred.client_id);
  if (!c) return unavailable();
  std::optional<client_info> info;
  if (*c) info = to_client_info(**c);
  return authenticate_client(cred, info);
}

// Revoke and introspect (RFC 7009 §2.1, RFC 7662 §2.1): client credentials, no repeated parameter, and
// the one `token` they are about.
struct token_about {
  client_credentials cred;
  std::string token;
};
std::variant<token_about, token_error> token_about_request(const param_list& body,
                                                           const std::string& authorization_header) {
  auto cred_v = extract_client(body, authorization_header);
  if (auto* e = std::get_if<token_error>(&cred_v)) return *e;
  if (has_repeated_param(body)) return token_error{400, "invalid_request", "a parameter is repeated", false};
  auto token = single_param(body, "token");
  if (!token) return token_error{400, "invalid_request", "token is missing", false};
  return token_about{std::get<client_credentials>(std::move(cred_v)), std::move(*token)};
}

token_error invalid_grant(std::string description) {
  return token_error{400, "invalid_grant", std::move(description), false};
}

std::string json_str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The identity Crossbar's user document describes (reference/kazoo.md §5.3).
identity identity_from_user_doc(const json& doc, identity who, const std::string& login_name) {
  auto name = trim(json_str(doc, "first_name") + " " + json_str(doc, "last_name"));
  who.user_name = name.empty() ? login_name : name;
  who.email = json_str(doc, "email");
  who.admin = json_str(doc, "priv_level") == "admin";
  auto add = [&](std::string n) {
    if (auto at = n.find('@'); at != std::string::npos) n.resize(at);  // presence_id may be "1001@realm"
    if (!n.empty() && std::find(who.extensions.begin(), who.extensions.end(), n) == who.extensions.end()) {
      who.extensions.push_back(std::move(n));
    }
  };
  if (auto it = doc.find("presence_id"); it != doc.end()) {
    if (it->is_string()) add(it->get<std::string>());
    if (it->is_number_integer()) add(std::to_string(it->get<std::int64_t>()));
  }
  if (auto cid = doc.find("caller_id"); cid != doc.end() && cid->is_object()) {
    if (auto in = cid->find("internal"); in != cid->end() && in->is_object()) add(json_str(*in, "number"));
  }
  return who;
}

/// The common columns of the tokens a grant issues.
struct grant_subject {
  std::string client_id, family_id, account_id, user_id, identity;
};

/// Inserts a new access + refresh token pair; the token response body (RFC 6749 §5.1).
result<json> issue_pair(store::oauth_store& st, const service_options& o, const grant_subject& s,
                        std::optional<std::string> parent, const std::string& access_scopes,
                        const std::string& refresh_scopes, std::int64_t now_ms) {
  const std::string access = random_token(32), refresh = random_token(32);
  store::oauth_token_row row;
  row.family_id = s.family_id;
  row.client_id = s.client_id;
  row.account_id = s.account_id;
  row.user_id = s.user_id;
  row.identity = s.identity;
  row.issued_at_ms = now_ms;
  row.token_hash = sha256_hex(access);
  row.kind = "access";
  row.parent_hash = parent;
  row.scopes = access_scopes;
  row.expires_at_ms = now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(o.access_token_ttl).count();
  if (auto ec = st.add_token(row)) return ec;
  row.token_hash = sha256_hex(refresh);
  row.kind = "refresh";
  row.scopes = refresh_scopes;
  row.expires_at_ms = now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(o.refresh_token_ttl).count();
  if (auto ec = st.add_token(row)) return ec;
  return json{{"access_token", access},
              {"token_type", "Bearer"},
              {"expires_in", o.access_token_ttl.count()},
              {"refresh_token", refresh},
              {"scope", access_scopes}};
}

/// Runs `f` inside BEGIN IMMEDIATE ... COMMIT on the DB thread. `f` returns the outcome and whether to
/// commit (a rejected grant may still have to commit a revocation).
template <class F>
json_outcome in_transaction(store::oauth_store& st, spdlog::logger& log, F f) {
  if (auto ec = st.begin()) {
    log.warn("oauth database busy ec={}", ec.message());
    return unavailable();
  }
  std::pair<json_outcome, bool> r{unavailable(), false};
  try {
    r = f();
  } catch (const std::exception& e) {
    st.rollback();
    log.error("oauth grant failed: {}", e.what());
    return unavailable();
  }
  if (!r.second) {
    st.rollback();
    return r.first;
  }
  if (auto ec = st.commit()) {
    st.rollback();
    log.warn("oauth commit failed ec={}", ec.message());
    return unavailable();
  }
  return r.first;
}

}  // namespace

client_info to_client_info(const store::oauth_client_row& row) {
  client_info c;
  c.client_id = row.client_id;
  c.name = row.name;
  c.secret_hash = row.secret_hash.value_or("");
  c.is_public = row.is_public;
  c.pkce_required = row.pkce_required;
  c.redirect_uris = row.redirect_uris;
  return c;
}

service::service(asio::thread_pool& db_pool, store::oauth_store& store, kazoo::crossbar_client& crossbar,
                 service_options o, metrics_registry& metrics, std::shared_ptr<spdlog::logger> log)
    : db_pool_(db_pool),
      store_(store),
      crossbar_(crossbar),
      opts_(std::move(o)),
      log_(std::move(log)),
      form_key_(sha256_raw(random_token(32))),
      throttle_(opts_.throttle),
      login_ok_(metrics.make_counter("kazoo_bridge_oauth_logins_total", "Logins on the OAuth authorization page.",
                                     {{"result", "ok"}})),
      login_failed_(metrics.make_counter("kazoo_bridge_oauth_logins_total",
                                         "Logins on the OAuth authorization page.", {{"result", "failed"}})),
      login_throttled_(metrics.make_counter("kazoo_bridge_oauth_logins_total",
                                            "Logins on the OAuth authorization page.", {{"result", "throttled"}})),
      login_unavailable_(metrics.make_counter("kazoo_bridge_oauth_logins_total",
                                              "Logins on the OAuth authorization page.", {{"result", "unavailable"}})),
      issued_code_(metrics.make_counter("kazoo_bridge_oauth_tokens_issued_total", "Token pairs issued.",
                                        {{"grant_type", "authorization_code"}})),
      issued_refresh_(metrics.make_counter("kazoo_bridge_oauth_tokens_issued_total", "Token pairs issued.",
                                           {{"grant_type", "refresh_token"}})) {
  while (!opts_.issuer.empty() && opts_.issuer.back() == '/') opts_.issuer.pop_back();
}

std::int64_t service::now() const { return opts_.clock != nullptr ? opts_.clock() : now_unix_ms(); }

awaitable<std::variant<std::optional<client_info>, error_code>> service::find_client(std::string client_id) {
  auto* st = &store_;
  // The work is a named lambda handed to offload(): GCC 12 destroys the captures of a lambda temporary
  // inside a co_await expression twice (see common/asio.hpp).
  auto work = [st, client_id]() { return st->find_client(client_id); };
  auto r = co_await offload(db_pool_, work);
  if (!r) co_return r.error();
  if (!*r) co_return std::optional<client_info>{};
  co_return std::optional<client_info>(to_client_info(**r));
}

std::string service::form_token(const authorize_request& r, const std::string& binding, std::int64_t expires_s) const {
  std::string msg = binding;
  for (const std::string* part : {&r.client_id, &r.redirect_uri, &r.state, &r.scope_text, &r.code_challenge}) {
    msg.push_back('\0');
    msg += *part;
  }
  msg.push_back('\0');
  msg += std::to_string(expires_s);
  return std::to_string(expires_s) + "." + base64url(hmac_sha256(form_key_, msg));
}

bool service::form_token_valid(const authorize_request& r, const std::string& binding, const std::string& token) const {
  if (binding.size() < 16) return false;
  auto dot = token.find('.');
  if (dot == std::string::npos) return false;
  std::int64_t expires_s = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + dot, expires_s);
  if (ec != std::errc() || p != token.data() + dot) return false;
  if (now() / 1000 > expires_s) return false;
  return equal_constant_time(form_token(r, binding, expires_s), token);
}

login_form service::make_form(const authorize_request& r, const client_info& c, const std::string& binding) const {
  login_form f;
  f.req = r;
  f.client_name = c.name;
  f.form_token = form_token(r, binding, now() / 1000 + opts_.form_ttl.count());
  // Show what an admin would get; a non-admin never receives `account` (grant_scopes()).
  f.scopes_shown = grant_scopes(r.scopes, true).value_or(r.scopes);
  return f;
}

std::string service::redirect_with(const std::string& redirect_uri,
                                   std::vector<std::pair<std::string, std::string>> params) const {
  std::string out = redirect_uri;
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  params.emplace_back("iss", opts_.issuer);  // RFC 9207: on every authorization response
  for (const auto& [k, v] : params) {
    out.push_back(sep);
    sep = '&';
    out += k;
    out.push_back('=');
    out += net::url_encode(v);
  }
  return out;
}

std::string service::redirect_error_location(const redirect_error& e) const {
  std::vector<std::pair<std::string, std::string>> p{{"error", e.error}, {"error_description", e.description}};
  if (e.state) p.emplace_back("state", *e.state);
  return redirect_with(e.redirect_uri, std::move(p));
}

awaitable<std::variant<std::optional<client_info>, page_error>> service::client_of(
    std::optional<std::string> client_id) {
  std::optional<client_info> client;
  if (client_id && client_id->size() <= max_param_length) {
    auto found = co_await find_client(*client_id);
    if (auto* ec = std::get_if<error_code>(&found)) {
      log_->warn("oauth client lookup failed ec={}", ec->message());
      co_return page_error{"temporarily_unavailable", "The service is busy. Please try again in a moment.", 503};
    }
    client = std::get<std::optional<client_info>>(std::move(found));
  }
  co_return client;
}

awaitable<authorize_outcome> service::begin_authorize(param_list query, std::string browser_binding) {
  auto client_id = single_param(query, "client_id");
  auto looked_up = co_await client_of(std::move(client_id));
  if (auto* busy = std::get_if<page_error>(&looked_up)) co_return *busy;
  const auto client = std::get<std::optional<client_info>>(std::move(looked_up));
  auto v = validate_authorize(query, client);
  if (auto* pe = std::get_if<page_error>(&v)) {
    log_->info("oauth authorize refused error={} reason={}", pe->error, pe->description);
    co_return *pe;
  }
  if (auto* re = std::get_if<redirect_error>(&v)) {
    log_->info("oauth authorize error redirected client={} error={}", client->client_id, re->error);
    co_return redirect_to{redirect_error_location(*re)};
  }
  co_return show_form{make_form(std::get<authorize_request>(v), *client, browser_binding), 200, "", std::nullopt, "",
                      ""};
}

awaitable<result<identity>> service::kazoo_login(std::string account, std::string username, std::string password) {
  // reference/kazoo.md §5.2: credentials = md5("user:password"), user names in lower case.
  std::string credentials = md5_hex(username + ":" + password);
  auto env = co_await crossbar_.user_auth(account, credentials);
  if (!env) co_return env.error();
  auto tok = kazoo::token_from_auth_response(*env, now());
  if (!tok) co_return tok.error();
  if (!tok->owner_id) co_return make_error_code(errc::bad_payload);
  identity who;
  who.account_id = tok->account_id;
  who.user_id = *tok->owner_id;
  if (auto d = env->find("data"); d != env->end() && d->is_object()) who.account_name = json_str(*d, "account_name");
  if (who.account_name.empty()) who.account_name = account;
  std::string path = "/accounts/" + who.account_id + "/users/" + who.user_id;
  auto user = co_await crossbar_.get(path, tok->token);
  if (!user) co_return user.error();
  auto d = user->find("data");
  if (d == user->end() || !d->is_object()) co_return make_error_code(errc::bad_payload);
  co_return identity_from_user_doc(*d, std::move(who), username);
}

awaitable<authorize_outcome> service::login(param_list form, std::string browser_binding, std::string remote_ip) {
  auto client_id = single_param(form, "client_id");
  auto looked_up = co_await client_of(std::move(client_id));
  if (auto* busy = std::get_if<page_error>(&looked_up)) co_return *busy;
  const auto client = std::get<std::optional<client_info>>(std::move(looked_up));
  auto v = validate_authorize(form, client);
  if (auto* pe = std::get_if<page_error>(&v)) co_return *pe;
  if (auto* re = std::get_if<redirect_error>(&v)) co_return redirect_to{redirect_error_location(*re)};
  const auto& req = std::get<authorize_request>(v);

  auto csrf = single_param(form, "csrf_token");
  if (!csrf || !form_token_valid(req, browser_binding, *csrf)) {
    log_->info("oauth login form refused (CSRF token missing, invalid or expired) client={} ip={}", req.client_id,
               remote_ip);
    co_return page_error{"invalid_request",
                         "This sign-in form has expired or did not come from this page. Go back to the application "
                         "and start again.",
                         403};
  }
  if (single_param(form, "decision") == std::optional<std::string>("deny")) {
    // The user pressed Cancel: RFC 6749 §4.1.2.1 access_denied, to the registered URI only.
    co_return redirect_to{redirect_error_location(
        redirect_error{req.redirect_uri, "access_denied", "the user cancelled the sign-in", req.state})};
  }
  show_form again{make_form(req, *client, browser_binding), 400, "", std::nullopt, "", ""};
  auto account = trim(single_param(form, "account").value_or(""));
  auto username = lower(trim(single_param(form, "username").value_or("")));
  auto password = single_param(form, "password").value_or("");
  again.account = account;
  again.username = username;
  if (account.empty() || username.empty() || password.empty()) {
    again.message = "Enter your account name, user name and password.";
    co_return again;
  }
  const std::string user_key = lower(account) + "/" + username;
  const auto t = now();
  if (auto wait = throttle_.check(remote_ip, user_key, t)) {
    login_throttled_.inc();
    log_->warn("oauth login throttled account={} user={} ip={} retry_after_s={}", account, username, remote_ip, *wait);
    again.status = 429;
    again.retry_after_s = *wait;
    again.message = "Too many failed sign-in attempts. Try again in " + std::to_string(*wait) + " seconds.";
    co_return again;
  }
  auto who = co_await kazoo_login(account, username, password);
  if (!who) {
    const auto ec = who.error();
    if (ec == errc::auth_failed || ec == errc::forbidden) {
      throttle_.failed(remote_ip, user_key, now());
      login_failed_.inc();
      log_->info("oauth login refused by kazoo account={} user={} ip={} reason={}", account, username, remote_ip,
                 ec.message());
      again.status = ec == errc::forbidden ? 403 : 400;
      again.message = ec == errc::forbidden ? "This account or user is disabled. Contact your administrator."
                                            : "The account name, user name or password is wrong.";
      co_return again;
    }
    login_unavailable_.inc();
    log_->warn("oauth login could not reach kazoo account={} user={} ec={}", account, username, ec.message());
    again.status = 503;
    again.message = "We could not reach the phone system to check your password. Please try again in a moment.";
    co_return again;
  }
  auto scopes = grant_scopes(req.scopes, who->admin);
  if (!scopes) {
    log_->info("oauth scope refused: non-admin asked for account account={} user={}", account, username);
    co_return redirect_to{redirect_error_location(
        redirect_error{req.redirect_uri, "invalid_scope", "the account scope is only granted to account administrators",
                       req.state})};
  }
  const std::string code = random_token(32);
  store::oauth_code_row row;
  row.code_hash = sha256_hex(code);
  row.client_id = req.client_id;
  row.family_id = random_hex(16);
  row.account_id = who->account_id;
  row.user_id = who->user_id;
  row.identity = to_json_text(*who);
  row.scopes = join_scopes(*scopes);
  row.redirect_uri = req.redirect_uri;
  if (!req.code_challenge.empty()) row.code_challenge = req.code_challenge;
  row.created_at_ms = now();
  row.expires_at_ms = row.created_at_ms + std::chrono::duration_cast<std::chrono::milliseconds>(opts_.code_ttl).count();
  auto* st = &store_;
  // Housekeeping rides on every 100th login (the first one included): codes and tokens expired for
  // a day are deleted, so the tables do not grow without bound and no timer task is needed.
  const bool purge = logins_ % 100 == 0;
  ++logins_;
  auto work = [st, row, purge]() {
    auto ec = st->add_code(row);
    if (!ec && purge) (void)st->purge_expired(row.created_at_ms - 24 * 3600 * 1000);
    return ec;
  };
  auto ec = co_await offload(db_pool_, work);
  if (ec) {
    login_unavailable_.inc();
    log_->warn("oauth code not stored ec={}", ec.message());
    again.status = 503;
    again.message = "The service is busy. Please try again in a moment.";
    co_return again;
  }
  login_ok_.inc();
  log_->info("oauth login ok client={} account={} user={} admin={} scopes=\"{}\"", req.client_id, who->account_id,
             who->user_id, who->admin, row.scopes);
  co_return redirect_to{redirect_with(req.redirect_uri, {{"code", code}, {"state", req.state}})};
}

awaitable<json_outcome> service::token(param_list body, std::string authorization_header) {
  auto cred_v = extract_client(body, authorization_header);
  if (auto* e = std::get_if<token_error>(&cred_v)) co_return *e;
  auto grant_v = validate_token_request(body);
  if (auto* e = std::get_if<token_error>(&grant_v)) co_return *e;
  auto cred = std::get<client_credentials>(std::move(cred_v));
  auto grant = std::get<token_grant>(std::move(grant_v));

  auto* st = &store_;
  auto* log = log_.get();
  const auto opts = opts_;
  const auto t = now();
  auto* code_counter = &issued_code_;
  auto* refresh_counter = &issued_refresh_;
  // Set on the DB thread when reuse detection revokes a whole grant; read here after offload() resumes.
  std::string revoked_grant;
  auto* revoked = &revoked_grant;
  auto work = [st, log, opts, t, cred, grant, code_counter, refresh_counter, revoked]() -> json_outcome {
    if (auto e = check_client(*st, cred)) return *e;

    if (const auto* g = std::get_if<code_grant>(&grant)) {
      return in_transaction(*st, *log, [&]() -> std::pair<json_outcome, bool> {
        auto row = st->find_code(sha256_hex(g->code));
        if (!row) return {unavailable(), false};
        if (!*row) return {invalid_grant("unknown authorization code"), false};
        const auto& code = **row;
        code_state cs{code.client_id, code.redirect_uri, code.code_challenge.value_or(""), code.expires_at_ms,
                      code.used_at_ms.has_value()};
        switch (check_code(cs, *g, cred.client_id, t)) {
          case code_verdict::reused: {
            // RFC 6749 §4.1.2: deny, and revoke every token issued from this code.
            auto n = st->revoke_family(code.family_id, t);
            if (!n) return {unavailable(), false};
            *revoked = code.family_id;
            log->warn("oauth authorization code reused client={} revoked_tokens={}", cred.client_id, *n);
            return {invalid_grant("authorization code already used; its tokens are revoked"), true};
          }
          case code_verdict::expired: return {invalid_grant("authorization code expired"), false};
          case code_verdict::wrong_client: return {invalid_grant("authorization code was issued to another client"), false};
          case code_verdict::wrong_redirect: return {invalid_grant("redirect_uri differs from the authorization request"), false};
          case code_verdict::pkce_missing: return {invalid_grant("code_verifier is required"), false};
          case code_verdict::pkce_mismatch: return {invalid_grant("code_verifier does not match the code_challenge"), false};
          case code_verdict::pkce_downgrade:
            return {token_error{400, "invalid_request", "code_verifier sent for a code issued without code_challenge",
                                false},
                    false};
          case code_verdict::ok: break;
        }
        if (auto ec = st->mark_code_used(code.code_hash, t)) return {unavailable(), false};
        grant_subject s{code.client_id, code.family_id, code.account_id, code.user_id, code.identity};
        auto issued = issue_pair(*st, opts, s, std::nullopt, code.scopes, code.scopes, t);
        if (!issued) return {unavailable(), false};
        code_counter->inc();
        log->info("oauth tokens issued grant=authorization_code client={} account={} user={}", code.client_id,
                  code.account_id, code.user_id);
        return {json_outcome(std::move(*issued)), true};
      });
    }
    const auto& g = std::get<refresh_grant>(grant);
    return in_transaction(*st, *log, [&]() -> std::pair<json_outcome, bool> {
      auto row = st->find_token(sha256_hex(g.refresh_token));
      if (!row) return {unavailable(), false};
      if (!*row || (*row)->kind != "refresh") return {invalid_grant("unknown refresh token"), false};
      const auto& rt = **row;
      auto granted = split_scopes(rt.scopes);
      if (g.scopes && !scopes_subset(*g.scopes, granted)) {
        return {token_error{400, "invalid_scope", "scope exceeds the scope originally granted", false}, false};
      }
      refresh_state rs{rt.client_id, rt.expires_at_ms, rt.revoked_at_ms, rt.rotated_at_ms};
      const auto grace_ms = std::chrono::duration_cast<std::chrono::milliseconds>(opts.refresh_grace).count();
      auto verdict = decide_refresh(rs, cred.client_id, t, grace_ms);
      switch (verdict) {
        case refresh_verdict::reuse_detected: {
          auto n = st->revoke_family(rt.family_id, t);
          if (!n) return {unavailable(), false};
          *revoked = rt.family_id;
          log->warn("oauth refresh token reused after the grace window client={} revoked_tokens={}", rt.client_id,
                    *n);
          return {invalid_grant("refresh token already used; the grant is revoked"), true};
        }
        case refresh_verdict::revoked: return {invalid_grant("refresh token revoked"), false};
        case refresh_verdict::expired: return {invalid_grant("refresh token expired"), false};
        case refresh_verdict::wrong_client: return {invalid_grant("refresh token was issued to another client"), false};
        case refresh_verdict::rotate:
          if (auto ec = st->mark_token_rotated(rt.token_hash, t)) return {unavailable(), false};
          break;
        case refresh_verdict::grace_reissue: break;
      }
      grant_subject s{rt.client_id, rt.family_id, rt.account_id, rt.user_id, rt.identity};
      const std::string access_scopes = g.scopes ? join_scopes(*g.scopes) : rt.scopes;
      auto issued = issue_pair(*st, opts, s, rt.token_hash, access_scopes, rt.scopes, t);
      if (!issued) return {unavailable(), false};
      refresh_counter->inc();
      log->info("oauth tokens issued grant=refresh_token client={} account={} user={} grace={}", rt.client_id,
                rt.account_id, rt.user_id, verdict == refresh_verdict::grace_reissue);
      return {json_outcome(std::move(*issued)), true};
    });
  };
  auto out = co_await offload(db_pool_, work);
  if (!revoked_grant.empty() && on_grant_revoked) on_grant_revoked(revoked_grant);
  co_return out;
}

awaitable<std::optional<token_error>> service::revoke(param_list body, std::string authorization_header) {
  auto req = token_about_request(body, authorization_header);
  if (auto* e = std::get_if<token_error>(&req)) co_return *e;
  auto about = std::get<token_about>(std::move(req));
  const auto cred = std::move(about.cred);
  const auto token = std::move(about.token);
  auto* st = &store_;
  auto* log = log_.get();
  const auto t = now();
  auto hash = sha256_hex(token);
  std::string revoked_grant;  // set on the DB thread when a refresh token (the whole grant) is revoked
  auto* revoked = &revoked_grant;
  auto work = [st, log, t, cred, hash, revoked]() -> std::optional<token_error> {
    if (auto e = check_client(*st, cred)) return *e;
    auto row = st->find_token(hash);
    if (!row) return unavailable();
    // RFC 7009 §2.2: an unknown token, or one of another client, is answered 200 without effect.
    if (!*row || (*row)->client_id != cred.client_id) return std::nullopt;
    // Revoking a refresh token ends the whole grant (its access tokens too, RFC 7009 §2.1); an access
    // token is revoked alone.
    auto n = (*row)->kind == "refresh" ? st->revoke_family((*row)->family_id, t) : st->revoke_token(hash, t);
    if (!n) return unavailable();
    if ((*row)->kind == "refresh") *revoked = (*row)->family_id;
    log->info("oauth token revoked kind={} client={} rows={}", (*row)->kind, cred.client_id, *n);
    return std::nullopt;
  };
  auto out = co_await offload(db_pool_, work);
  if (!revoked_grant.empty() && on_grant_revoked) on_grant_revoked(revoked_grant);
  co_return out;
}

awaitable<json_outcome> service::introspect(param_list body, std::string authorization_header) {
  auto req = token_about_request(body, authorization_header);
  if (auto* e = std::get_if<token_error>(&req)) co_return *e;
  auto about = std::get<token_about>(std::move(req));
  const auto cred = std::move(about.cred);
  const auto token = std::move(about.token);
  auto* st = &store_;
  const auto t = now();
  const auto grace_ms = std::chrono::duration_cast<std::chrono::milliseconds>(opts_.refresh_grace).count();
  const auto issuer = opts_.issuer;
  auto hash = sha256_hex(token);
  auto work = [st, t, grace_ms, issuer, cred, hash]() -> json_outcome {
    if (auto e = check_client(*st, cred)) return *e;
    auto row = st->find_token(hash);
    if (!row) return unavailable();
    const json inactive{{"active", false}};
    if (!*row) return inactive;
    const auto& tk = **row;
    // Only the client the token was issued to learns anything about it (RFC 7662 §4: no token scanning).
    if (tk.client_id != cred.client_id || tk.revoked_at_ms || t >= tk.expires_at_ms) return inactive;
    if (tk.kind == "refresh" && tk.rotated_at_ms && t - *tk.rotated_at_ms > grace_ms) return inactive;
    auto who = identity_from_json_text(tk.identity);
    return json{{"active", true},
                {"scope", tk.scopes},
                {"client_id", tk.client_id},
                {"username", who.user_name},
                {"sub", tk.user_id},
                {"account_id", tk.account_id},
                {"token_type", tk.kind == "access" ? "Bearer" : "refresh_token"},
                {"exp", tk.expires_at_ms / 1000},
                {"iat", tk.issued_at_ms / 1000},
                {"iss", issuer}};
  };
  auto out = co_await offload(db_pool_, work);
  co_return out;
}

nlohmann::json service::metadata() const {
  const auto& i = opts_.issuer;
  return json{{"issuer", i},
              {"authorization_endpoint", i + "/oauth/authorize"},
              {"token_endpoint", i + "/oauth/token"},
              {"revocation_endpoint", i + "/oauth/revoke"},
              {"introspection_endpoint", i + "/oauth/introspect"},
              {"response_types_supported", {"code"}},
              {"response_modes_supported", {"query"}},
              {"grant_types_supported", {"authorization_code", "refresh_token"}},
              {"token_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic", "none"}},
              {"revocation_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic", "none"}},
              {"introspection_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic", "none"}},
              {"code_challenge_methods_supported", {"S256"}},
              {"scopes_supported", {scope_calls, scope_dial, scope_account}},
              {"authorization_response_iss_parameter_supported", true}};
}

awaitable<result<std::optional<access>>> service::authenticate(std::string bearer_token) {
  if (bearer_token.empty() || bearer_token.size() > max_param_length) co_return std::optional<access>{};
  auto* st = &store_;
  auto hash = sha256_hex(bearer_token);
  auto work = [st, hash]() { return st->find_token(hash); };
  auto row = co_await offload(db_pool_, work);
  if (!row) co_return row.error();
  const auto t = now();
  if (!*row) co_return std::optional<access>{};
  const auto& tk = **row;
  if (tk.kind != "access" || tk.revoked_at_ms || t >= tk.expires_at_ms) co_return std::optional<access>{};
  access a;
  a.who = identity_from_json_text(tk.identity);
  a.scopes = split_scopes(tk.scopes);
  a.client_id = tk.client_id;
  a.grant_id = tk.family_id;
  a.expires_at_ms = tk.expires_at_ms;
  co_return std::optional<access>(std::move(a));
}

// ------------------------------------------------------------------------------- registration

result<registered_client> register_client(store::oauth_store& store, std::string name,
                                          std::vector<std::string> redirect_uris, bool is_public, bool pkce_required,
                                          std::string& problem) {
  if (trim(name).empty()) {
    problem = "--name must not be empty";
    return make_error_code(errc::bad_config);
  }
  if (redirect_uris.empty()) {
    problem = "at least one --redirect-uri is required";
    return make_error_code(errc::bad_config);
  }
  for (const auto& u : redirect_uris) {
    if (auto p = redirect_uri_problem(u)) {
      problem = "redirect URI '" + u + "' " + *p;
      return make_error_code(errc::bad_config);
    }
  }
  std::sort(redirect_uris.begin(), redirect_uris.end());
  redirect_uris.erase(std::unique(redirect_uris.begin(), redirect_uris.end()), redirect_uris.end());
  registered_client out;
  out.client_id = random_hex(16);
  store::oauth_client_row row;
  row.client_id = out.client_id;
  row.name = trim(std::move(name));
  row.is_public = is_public;
  row.pkce_required = is_public || pkce_required;  // RFC 9700 §2.1.1: always for public clients
  row.created_at_ms = now_unix_ms();
  row.redirect_uris = std::move(redirect_uris);
  if (!is_public) {
    out.client_secret = random_token(32);
    row.secret_hash = sha256_hex(*out.client_secret);
  }
  if (auto ec = store.begin()) return ec;
  if (auto ec = store.add_client(row)) {
    store.rollback();
    return ec;
  }
  if (auto ec = store.commit()) {
    store.rollback();
    return ec;
  }
  return out;
}

result<std::string> rotate_client_secret(store::oauth_store& store, const std::string& client_id) {
  auto secret = random_token(32);
  auto ok = store.set_client_secret(client_id, sha256_hex(secret));
  if (!ok) return ok.error();
  if (!*ok) return make_error_code(errc::not_found);
  return secret;
}

}  // namespace kazoo_bridge::oauth
