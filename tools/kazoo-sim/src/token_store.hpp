#pragma once
/// Crossbar tokens: JWT-looking strings (three base64url parts, RS256 header, `exp` claim in Unix
/// seconds, reference/kazoo.md §5.2) with an absolute lifetime. Pure: `now` is a parameter.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kazoo_sim {

struct token_info {
  std::string account_id;
  std::string owner_id;  ///< empty for api_auth tokens (no owner, §5.2)
  std::string method;    ///< cb_user_auth | cb_api_auth
  std::int64_t exp_s = 0;
};

class token_store {
 public:
  token_store(std::int64_t ttl_s, std::uint64_t seed);

  /// Issues a new token valid for ttl seconds from now_s.
  std::string issue(const std::string& account_id, const std::string& owner_id,
                    const std::string& method, std::int64_t now_s);

  /// The token's claims when it is known and not expired; nullptr otherwise (-> 401).
  const token_info* validate(std::string_view token, std::int64_t now_s) const;

  /// Fault "expire_tokens": every token issued so far is expired from now on.
  void expire_all();

  std::int64_t ttl_s() const { return ttl_s_; }

 private:
  std::int64_t ttl_s_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, token_info> tokens_;
};

}  // namespace kazoo_sim
