#include "token_store.hpp"

#include <nlohmann/json.hpp>

#include "text_util.hpp"

namespace kazoo_sim {

token_store::token_store(std::int64_t ttl_s, std::uint64_t seed) : ttl_s_(ttl_s), rng_(seed) {}

std::string token_store::issue(const std::string& account_id, const std::string& owner_id,
                               const std::string& method, std::int64_t now_s) {
  // Drop expired tokens so a long-running simulator does not grow without bound.
  std::erase_if(tokens_, [now_s](const auto& kv) { return kv.second.exp_s <= now_s; });
  token_info info{account_id, owner_id, method, now_s + ttl_s_};
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "kazoo-sim"}};
  nlohmann::json claims = {{"account_id", account_id},
                           {"method", method},
                           {"iat", now_s},
                           {"exp", info.exp_s},
                           {"jti", random_hex(rng_, 32)}};
  if (!owner_id.empty()) claims["owner_id"] = owner_id;
  // An RS256 signature over a 2048-bit key is 256 bytes; ours is random (nobody verifies it
  // but the simulator, which looks the whole token up).
  std::string sig;
  sig.reserve(256);
  for (int i = 0; i < 32; ++i) {
    auto v = rng_();
    for (int b = 0; b < 8; ++b, v >>= 8) sig.push_back(static_cast<char>(v & 0xff));
  }
  auto token = base64url(header.dump()) + "." + base64url(claims.dump()) + "." + base64url(sig);
  tokens_.emplace(token, std::move(info));
  return token;
}

const token_info* token_store::validate(std::string_view token, std::int64_t now_s) const {
  auto it = tokens_.find(std::string(token));
  if (it == tokens_.end() || it->second.exp_s <= now_s) return nullptr;
  return &it->second;
}

void token_store::expire_all() {
  for (auto& [token, info] : tokens_) info.exp_s = 0;
}

}  // namespace kazoo_sim
