#pragma once
/// Who signed in on the authorization page, and what an access token grants. Captured once at login
/// from Kazoo Crossbar (reference/kazoo.md §5.2, §5.3) and stored with every code and token, so the
/// API never has to ask Kazoo again to know who is calling.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kazoo_bridge::oauth {

/// A Kazoo user as seen at login.
struct identity {
  std::string account_id, account_name, user_id, user_name, email;
  /// The user's internal numbers: `presence_id` first, then `caller_id.internal.number` when it differs
  /// (Kazoo has no single "extension" field; these are the two a person dials).
  std::vector<std::string> extensions;
  bool admin = false;  ///< Kazoo `priv_level == "admin"` (an account administrator)
  bool operator==(const identity&) const = default;
};

/// What a valid access token grants.
struct access {
  identity who;
  std::vector<std::string> scopes;  ///< granted scopes ("calls", "dial", "account")
  std::string client_id;
  std::string grant_id;  ///< the token family (one authorization); revoking it ends the grant's hooks
  std::int64_t expires_at_ms = 0;
  bool operator==(const access&) const = default;
};

/// The stored form of an identity (JSON object, stable keys).
std::string to_json_text(const identity& who);
/// The inverse of to_json_text(); missing keys stay empty (never throws).
identity identity_from_json_text(const std::string& text);

}  // namespace kazoo_bridge::oauth
