#include <kazoo_bridge/oauth/identity.hpp>

#include <nlohmann/json.hpp>

namespace kazoo_bridge::oauth {

std::string to_json_text(const identity& who) {
  return nlohmann::json{{"account_id", who.account_id}, {"account_name", who.account_name},
                        {"user_id", who.user_id},       {"user_name", who.user_name},
                        {"email", who.email},           {"extensions", who.extensions},
                        {"admin", who.admin}}
      .dump();
}

identity identity_from_json_text(const std::string& text) {
  identity who;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return who;
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  who.account_id = str("account_id");
  who.account_name = str("account_name");
  who.user_id = str("user_id");
  who.user_name = str("user_name");
  who.email = str("email");
  if (auto it = j.find("extensions"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (e.is_string()) who.extensions.push_back(e.get<std::string>());
    }
  }
  if (auto it = j.find("admin"); it != j.end() && it->is_boolean()) who.admin = it->get<bool>();
  return who;
}

}  // namespace kazoo_bridge::oauth
