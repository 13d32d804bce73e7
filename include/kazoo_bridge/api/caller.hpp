#pragma once
/// Who is calling the HTTP API: the Kazoo user and account an access token was issued to, and how
/// the API asks the OAuth side about a token.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::api {

/// The owner of a valid access token, as the OAuth module knows it.
struct caller {
  std::string account_id, account_name, user_id, user_name, email;
  std::vector<std::string> extensions;
  bool admin = false;               ///< a Kazoo account administrator
  std::vector<std::string> scopes;  ///< granted scopes: calls, dial, account (design.md)
  std::string client_id;            ///< the OAuth client the token was issued to ("" if unknown)
  std::string grant_id;             ///< the OAuth grant (token family): revoking it removes its hooks
};

/// Checks an access token. nullopt: unknown, expired or revoked (the API answers 401 invalid_token);
/// an error: the token cannot be checked now (503 with Retry-After). Called on the I/O thread.
using authenticate_fn = std::function<awaitable<result<std::optional<caller>>>(std::string token)>;

/// True when `c` was granted `scope`.
bool has_scope(const caller& c, const std::string& scope);

}  // namespace kazoo_bridge::api
