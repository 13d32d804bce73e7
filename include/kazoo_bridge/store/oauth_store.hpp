#pragma once
/// The SQL of the OAuth 2.0 authorization server (migration 0003): clients, redirect URIs, codes and
/// tokens. Values are stored as given: callers hash secrets, codes and tokens before they get here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/store/database.hpp>

namespace kazoo_bridge::store {

/// A registered client (oauth_clients + its redirect URIs).
struct oauth_client_row {
  std::string client_id, name;
  std::optional<std::string> secret_hash;  ///< nullopt: public client
  bool is_public = false, pkce_required = true;
  std::int64_t created_at_ms = 0;
  std::vector<std::string> redirect_uris;  ///< in registration order
};

/// An authorization code (oauth_codes).
struct oauth_code_row {
  std::string code_hash, client_id, family_id, account_id, user_id, identity, scopes, redirect_uri;
  std::optional<std::string> code_challenge;
  std::int64_t created_at_ms = 0, expires_at_ms = 0;
  std::optional<std::int64_t> used_at_ms;
};

/// An access or refresh token (oauth_tokens).
struct oauth_token_row {
  std::string token_hash, kind, family_id;  ///< kind: "access" | "refresh"
  std::optional<std::string> parent_hash;
  std::string client_id, account_id, user_id, identity, scopes;
  std::int64_t issued_at_ms = 0, expires_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms, rotated_at_ms;
};

/// Statements over the oauth_* tables on a database's connection.
///
/// Thread: the database's thread (the DB thread in the daemon, reached with offload()); no lock of its own.
/// Lifetime: must not outlive the database. Errors: sqlite_category() codes (BUSY, CONSTRAINT...).
/// Transactions: begin()/commit()/rollback() bracket a check-then-write sequence (code redemption,
/// refresh rotation) so that two concurrent redemptions cannot both win; the caller runs the whole
/// bracket inside ONE offload() call, so nothing else runs on the connection in between.
class oauth_store {
 public:
  explicit oauth_store(database& db);
  ~oauth_store();
  oauth_store(const oauth_store&) = delete;
  oauth_store& operator=(const oauth_store&) = delete;

  error_code begin();     ///< BEGIN IMMEDIATE
  error_code commit();
  void rollback() noexcept;

  // clients
  error_code add_client(const oauth_client_row& c);
  result<std::vector<oauth_client_row>> clients();
  result<std::optional<oauth_client_row>> find_client(const std::string& client_id);
  /// false when there was no such client. Cascades to its URIs, codes and tokens.
  result<bool> remove_client(const std::string& client_id);
  /// false when there was no such (confidential) client.
  result<bool> set_client_secret(const std::string& client_id, const std::string& secret_hash);

  // codes
  error_code add_code(const oauth_code_row& c);
  result<std::optional<oauth_code_row>> find_code(const std::string& code_hash);
  error_code mark_code_used(const std::string& code_hash, std::int64_t now_ms);

  // tokens
  error_code add_token(const oauth_token_row& t);
  result<std::optional<oauth_token_row>> find_token(const std::string& token_hash);
  error_code mark_token_rotated(const std::string& token_hash, std::int64_t now_ms);
  /// Revokes one token (if not yet revoked); the number of rows changed.
  result<std::int64_t> revoke_token(const std::string& token_hash, std::int64_t now_ms);
  /// Revokes every token of a family (a code's descendants, or a refresh chain); rows changed.
  result<std::int64_t> revoke_family(const std::string& family_id, std::int64_t now_ms);
  /// Deletes codes and tokens expired before `before_ms`; rows deleted.
  result<std::int64_t> purge_expired(std::int64_t before_ms);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kazoo_bridge::store
