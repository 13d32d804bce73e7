// The oauth_* tables (migrations/0004_oauth.sql).
#include <kazoo_bridge/store/oauth_store.hpp>

#include "store/sqlite.hpp"

#include <kazoo_bridge/store/error.hpp>

namespace kazoo_bridge::store {

using detail::statement;

struct oauth_store::impl {
  sqlite3* db;
  statement begin, commit, rollback;
  statement add_client, add_uri, clients, find_client, uris_of, remove_client, set_secret;
  statement add_code, find_code, code_used;
  statement add_token, find_token, token_rotated, revoke_token, revoke_family, purge_codes, purge_tokens;

  explicit impl(sqlite3* d)
      : db(d),
        begin(d, "BEGIN IMMEDIATE"),
        commit(d, "COMMIT"),
        rollback(d, "ROLLBACK"),
        add_client(d,
                   "INSERT INTO oauth_clients (client_id, name, secret_hash, is_public, pkce_required, created_at_ms) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        add_uri(d, "INSERT INTO oauth_client_redirect_uris (client_id, uri) VALUES (?1, ?2)"),
        clients(d,
                "SELECT client_id, name, secret_hash, is_public, pkce_required, created_at_ms FROM oauth_clients "
                "ORDER BY created_at_ms, client_id"),
        find_client(d,
                    "SELECT client_id, name, secret_hash, is_public, pkce_required, created_at_ms FROM oauth_clients "
                    "WHERE client_id = ?1"),
        uris_of(d, "SELECT uri FROM oauth_client_redirect_uris WHERE client_id = ?1 ORDER BY rowid"),
        remove_client(d, "DELETE FROM oauth_clients WHERE client_id = ?1"),
        set_secret(d, "UPDATE oauth_clients SET secret_hash = ?2 WHERE client_id = ?1 AND is_public = 0"),
        add_code(d,
                 "INSERT INTO oauth_codes (code_hash, client_id, family_id, account_id, user_id, identity, scopes, "
                 "redirect_uri, code_challenge, created_at_ms, expires_at_ms, used_at_ms) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        find_code(d,
                  "SELECT code_hash, client_id, family_id, account_id, user_id, identity, scopes, redirect_uri, "
                  "code_challenge, created_at_ms, expires_at_ms, used_at_ms FROM oauth_codes WHERE code_hash = ?1"),
        code_used(d, "UPDATE oauth_codes SET used_at_ms = ?2 WHERE code_hash = ?1 AND used_at_ms IS NULL"),
        add_token(d,
                  "INSERT INTO oauth_tokens (token_hash, kind, family_id, parent_hash, client_id, account_id, "
                  "user_id, identity, scopes, issued_at_ms, expires_at_ms, revoked_at_ms, rotated_at_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        find_token(d,
                   "SELECT token_hash, kind, family_id, parent_hash, client_id, account_id, user_id, identity, "
                   "scopes, issued_at_ms, expires_at_ms, revoked_at_ms, rotated_at_ms FROM oauth_tokens "
                   "WHERE token_hash = ?1"),
        token_rotated(d,
                      "UPDATE oauth_tokens SET rotated_at_ms = ?2 WHERE token_hash = ?1 AND rotated_at_ms IS NULL"),
        revoke_token(d,
                     "UPDATE oauth_tokens SET revoked_at_ms = ?2 WHERE token_hash = ?1 AND revoked_at_ms IS NULL"),
        revoke_family(d,
                      "UPDATE oauth_tokens SET revoked_at_ms = ?2 WHERE family_id = ?1 AND revoked_at_ms IS NULL"),
        purge_codes(d, "DELETE FROM oauth_codes WHERE expires_at_ms < ?1"),
        purge_tokens(d, "DELETE FROM oauth_tokens WHERE expires_at_ms < ?1") {}

  // Runs a write statement to completion; returns sqlite3_changes().
  result<std::int64_t> run(statement::use& u) {
    auto r = u.step();
    if (!r) return r.error();
    return static_cast<std::int64_t>(sqlite3_changes(db));
  }
};

namespace {

error_code check(const statement& s) { return s.valid() ? error_code{} : s.prepare_error(); }

oauth_client_row client_from(statement::use& u) {
  oauth_client_row c;
  c.client_id = u.text(0);
  c.name = u.text(1);
  c.secret_hash = u.optional_text(2);
  c.is_public = u.int64(3) != 0;
  c.pkce_required = u.int64(4) != 0;
  c.created_at_ms = u.int64(5);
  return c;
}

}  // namespace

oauth_store::oauth_store(database& db) : impl_(std::make_unique<impl>(db.native_handle())) {}
oauth_store::~oauth_store() = default;

error_code oauth_store::begin() {
  if (auto ec = check(impl_->begin)) return ec;
  statement::use u(impl_->begin);
  auto r = u.step();
  return r ? error_code{} : r.error();
}

error_code oauth_store::commit() {
  if (auto ec = check(impl_->commit)) return ec;
  statement::use u(impl_->commit);
  auto r = u.step();
  return r ? error_code{} : r.error();
}

void oauth_store::rollback() noexcept {
  if (!impl_->rollback.valid() || sqlite3_get_autocommit(impl_->db) != 0) return;
  statement::use u(impl_->rollback);
  (void)u.step();
}

error_code oauth_store::add_client(const oauth_client_row& c) {
  if (auto ec = check(impl_->add_client)) return ec;
  if (auto ec = check(impl_->add_uri)) return ec;
  {
    statement::use u(impl_->add_client);
    u.bind(1, c.client_id);
    u.bind(2, c.name);
    u.bind_opt(3, c.secret_hash);
    u.bind(4, std::int64_t{c.is_public ? 1 : 0});
    u.bind(5, std::int64_t{c.pkce_required ? 1 : 0});
    u.bind(6, c.created_at_ms);
    if (auto r = u.step(); !r) return r.error();
  }
  for (const auto& uri : c.redirect_uris) {
    statement::use u(impl_->add_uri);
    u.bind(1, c.client_id);
    u.bind(2, uri);
    if (auto r = u.step(); !r) return r.error();
  }
  return {};
}

result<std::vector<oauth_client_row>> oauth_store::clients() {
  if (auto ec = check(impl_->clients)) return ec;
  std::vector<oauth_client_row> out;
  {
    statement::use u(impl_->clients);
    for (;;) {
      auto r = u.step();
      if (!r) return r.error();
      if (!*r) break;
      out.push_back(client_from(u));
    }
  }
  for (auto& c : out) {
    statement::use u(impl_->uris_of);
    u.bind(1, c.client_id);
    for (;;) {
      auto r = u.step();
      if (!r) return r.error();
      if (!*r) break;
      c.redirect_uris.push_back(u.text(0));
    }
  }
  return out;
}

result<std::optional<oauth_client_row>> oauth_store::find_client(const std::string& client_id) {
  if (auto ec = check(impl_->find_client)) return ec;
  oauth_client_row c;
  {
    statement::use u(impl_->find_client);
    u.bind(1, client_id);
    auto r = u.step();
    if (!r) return r.error();
    if (!*r) return std::optional<oauth_client_row>{};
    c = client_from(u);
  }
  statement::use u(impl_->uris_of);
  u.bind(1, client_id);
  for (;;) {
    auto r = u.step();
    if (!r) return r.error();
    if (!*r) break;
    c.redirect_uris.push_back(u.text(0));
  }
  return std::optional<oauth_client_row>(std::move(c));
}

result<bool> oauth_store::remove_client(const std::string& client_id) {
  if (auto ec = check(impl_->remove_client)) return {boost::system::in_place_error, ec};
  statement::use u(impl_->remove_client);
  u.bind(1, client_id);
  auto n = impl_->run(u);
  if (!n) return {boost::system::in_place_error, n.error()};
  return *n > 0;
}

result<bool> oauth_store::set_client_secret(const std::string& client_id, const std::string& secret_hash) {
  if (auto ec = check(impl_->set_secret)) return {boost::system::in_place_error, ec};
  statement::use u(impl_->set_secret);
  u.bind(1, client_id);
  u.bind(2, secret_hash);
  auto n = impl_->run(u);
  if (!n) return {boost::system::in_place_error, n.error()};
  return *n > 0;
}

error_code oauth_store::add_code(const oauth_code_row& c) {
  if (auto ec = check(impl_->add_code)) return ec;
  statement::use u(impl_->add_code);
  u.bind(1, c.code_hash);
  u.bind(2, c.client_id);
  u.bind(3, c.family_id);
  u.bind(4, c.account_id);
  u.bind(5, c.user_id);
  u.bind(6, c.identity);
  u.bind(7, c.scopes);
  u.bind(8, c.redirect_uri);
  u.bind_opt(9, c.code_challenge);
  u.bind(10, c.created_at_ms);
  u.bind(11, c.expires_at_ms);
  u.bind_opt(12, c.used_at_ms);
  auto r = u.step();
  return r ? error_code{} : r.error();
}

result<std::optional<oauth_code_row>> oauth_store::find_code(const std::string& code_hash) {
  if (auto ec = check(impl_->find_code)) return ec;
  statement::use u(impl_->find_code);
  u.bind(1, code_hash);
  auto r = u.step();
  if (!r) return r.error();
  if (!*r) return std::optional<oauth_code_row>{};
  oauth_code_row c;
  c.code_hash = u.text(0);
  c.client_id = u.text(1);
  c.family_id = u.text(2);
  c.account_id = u.text(3);
  c.user_id = u.text(4);
  c.identity = u.text(5);
  c.scopes = u.text(6);
  c.redirect_uri = u.text(7);
  c.code_challenge = u.optional_text(8);
  c.created_at_ms = u.int64(9);
  c.expires_at_ms = u.int64(10);
  c.used_at_ms = u.optional_int64(11);
  return std::optional<oauth_code_row>(std::move(c));
}

error_code oauth_store::mark_code_used(const std::string& code_hash, std::int64_t now_ms) {
  if (auto ec = check(impl_->code_used)) return ec;
  statement::use u(impl_->code_used);
  u.bind(1, code_hash);
  u.bind(2, now_ms);
  auto r = u.step();
  return r ? error_code{} : r.error();
}

error_code oauth_store::add_token(const oauth_token_row& t) {
  if (auto ec = check(impl_->add_token)) return ec;
  statement::use u(impl_->add_token);
  u.bind(1, t.token_hash);
  u.bind(2, t.kind);
  u.bind(3, t.family_id);
  u.bind_opt(4, t.parent_hash);
  u.bind(5, t.client_id);
  u.bind(6, t.account_id);
  u.bind(7, t.user_id);
  u.bind(8, t.identity);
  u.bind(9, t.scopes);
  u.bind(10, t.issued_at_ms);
  u.bind(11, t.expires_at_ms);
  u.bind_opt(12, t.revoked_at_ms);
  u.bind_opt(13, t.rotated_at_ms);
  auto r = u.step();
  return r ? error_code{} : r.error();
}

result<std::optional<oauth_token_row>> oauth_store::find_token(const std::string& token_hash) {
  if (auto ec = check(impl_->find_token)) return ec;
  statement::use u(impl_->find_token);
  u.bind(1, token_hash);
  auto r = u.step();
  if (!r) return r.error();
  if (!*r) return std::optional<oauth_token_row>{};
  oauth_token_row t;
  t.token_hash = u.text(0);
  t.kind = u.text(1);
  t.family_id = u.text(2);
  t.parent_hash = u.optional_text(3);
  t.client_id = u.text(4);
  t.account_id = u.text(5);
  t.user_id = u.text(6);
  t.identity = u.text(7);
  t.scopes = u.text(8);
  t.issued_at_ms = u.int64(9);
  t.expires_at_ms = u.int64(10);
  t.revoked_at_ms = u.optional_int64(11);
  t.rotated_at_ms = u.optional_int64(12);
  return std::optional<oauth_token_row>(std::move(t));
}

error_code oauth_store::mark_token_rotated(const std::string& token_hash, std::int64_t now_ms) {
  if (auto ec = check(impl_->token_rotated)) return ec;
  statement::use u(impl_->token_rotated);
  u.bind(1, token_hash);
  u.bind(2, now_ms);
  auto r = u.step();
  return r ? error_code{} : r.error();
}

result<std::int64_t> oauth_store::revoke_token(const std::string& token_hash, std::int64_t now_ms) {
  if (auto ec = check(impl_->revoke_token)) return ec;
  statement::use u(impl_->revoke_token);
  u.bind(1, token_hash);
  u.bind(2, now_ms);
  return impl_->run(u);
}

result<std::int64_t> oauth_store::revoke_family(const std::string& family_id, std::int64_t now_ms) {
  if (auto ec = check(impl_->revoke_family)) return ec;
  statement::use u(impl_->revoke_family);
  u.bind(1, family_id);
  u.bind(2, now_ms);
  return impl_->run(u);
}

result<std::int64_t> oauth_store::purge_expired(std::int64_t before_ms) {
  if (auto ec = check(impl_->purge_codes)) return ec;
  if (auto ec = check(impl_->purge_tokens)) return ec;
  std::int64_t total = 0;
  {
    statement::use u(impl_->purge_codes);
    u.bind(1, before_ms);
    auto n = impl_->run(u);
    if (!n) return n.error();
    total += *n;
  }
  statement::use u(impl_->purge_tokens);
  u.bind(1, before_ms);
  auto n = impl_->run(u);
  if (!n) return n.error();
  return total + *n;
}

}  // namespace kazoo_bridge::store
