#include "bh_protocol.hpp"

#include <algorithm>

#include "text_util.hpp"

namespace kazoo_sim {
namespace {

using nlohmann::json;

json reply(const json& request_id, const char* status, json data) {
  return json{{"action", "reply"}, {"request_id", request_id}, {"status", status},
              {"data", std::move(data)}};
}

json error_reply(const json& request_id, std::string text) {
  return reply(request_id, "error", json{{"errors", json::array({std::move(text)})}});
}

json subscribed_list(const bh_session& s) {
  json list = json::array();
  for (const auto& b : s.bindings) list.push_back(b.client_binding);
  return list;
}

bool take_rate_token(bh_session& s, const bh_options& o, std::int64_t now_ms) {
  if (!o.rate_limit) return true;
  if (s.rate_tokens < 0) {
    s.rate_tokens = o.rate_burst;
    s.rate_last_ms = now_ms;
  }
  auto elapsed = static_cast<double>(std::max<std::int64_t>(0, now_ms - s.rate_last_ms));
  s.rate_tokens = std::min(o.rate_burst, s.rate_tokens + elapsed * o.rate_refill_per_s / 1000.0);
  s.rate_last_ms = now_ms;
  if (s.rate_tokens < 1) return false;
  s.rate_tokens -= 1;
  return true;
}

}  // namespace

bh_outcome handle_request(bh_session& s, std::string_view text, const token_store& tokens,
                          const bh_options& opts, std::int64_t now_ms, std::mt19937_64& rng) {
  auto req = json::parse(text, nullptr, /*allow_exceptions=*/false);
  // kz_json:decode throws inside the socket process: the connection goes away (§1.2).
  if (req.is_discarded() || !req.is_object()) return {true, {}};

  json request_id = req.contains("request_id") ? req["request_id"] : json(random_hex(rng, 32));
  std::string action = "noop";  // a missing action is treated as "noop" (§1.2)
  if (auto it = req.find("action"); it != req.end() && it->is_string()) {
    action = it->get<std::string>();
  }

  // rate
  if (!take_rate_token(s, opts, now_ms)) {
    return {false, error_reply(request_id, "rate limiting threshold hit for " + s.peer + "!")};
  }

  // authenticate: only until the session has an account; later tokens are never looked at (§1.7)
  if (!s.auth_account_id) {
    auto it = req.find("auth_token");
    if (it == req.end() || it->is_null()) {
      return {false, error_reply(request_id, "authentication token required")};
    }
    if (!it->is_string()) {
      return {false, error_reply(request_id, "invalid authentication token format")};
    }
    auto token = it->get<std::string>();
    const auto* info = tokens.validate(token, now_ms / 1000);
    if (info == nullptr) {
      return {false, error_reply(request_id, "failed to authenticate token " + token)};
    }
    s.auth_account_id = info->account_id;
  }

  if (action == "ping") {
    return {false, reply(request_id, "success",
                         opts.ping_pong ? json{{"response", "pong"}} : json::object())};
  }
  if (action != "subscribe" && action != "unsubscribe") {
    return {false, reply(request_id, "success", json::object())};
  }

  // validate. Only the singular `binding` exists in the code; `bindings` (plural, documented)
  // is ignored, so such a request misses `binding` (§0 item 2).
  auto data_it = req.find("data");
  if (data_it == req.end() || !data_it->is_object() || data_it->empty()) {
    return {false, error_reply(request_id, "missing required keys in data object")};
  }
  const json& data = *data_it;
  std::vector<std::string> missing;
  for (const char* key : {"account_id", "binding"}) {
    auto k = data.find(key);
    if (k == data.end() || !k->is_string() || k->get<std::string>().empty()) {
      missing.emplace_back(key);
    }
  }
  if (!missing.empty()) {
    std::string text_missing = "missing required keys : ";
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (i > 0) text_missing += ", ";
      text_missing += missing[i];
    }
    return {false, error_reply(request_id, text_missing)};
  }
  auto account_id = data["account_id"].get<std::string>();
  auto binding = data["binding"].get<std::string>();
  auto expanded = expand_binding(binding, account_id, opts.bindings);
  if (auto* err = std::get_if<std::string>(&expanded)) {
    return {false, error_reply(request_id, *err)};
  }

  // authorize: the token's account (or a descendant; the fixture has no hierarchy) (§1.6)
  if (account_id == "*") {
    return {false, error_reply(request_id, "unauthorized wildcard account id")};
  }
  if (account_id != *s.auth_account_id) {
    return {false, error_reply(request_id, "unauthorized account id")};
  }

  auto& list = std::get<std::vector<internal_binding>>(expanded);
  if (action == "subscribe") {
    for (auto& b : list) {
      bool already = std::any_of(s.bindings.begin(), s.bindings.end(), [&](const auto& have) {
        return have.client_binding == b.client_binding &&
               have.subscription_key == b.subscription_key;
      });
      if (!already) s.bindings.push_back(std::move(b));
    }
    return {false, reply(request_id, "success", json{{"subscribed", subscribed_list(s)}})};
  }
  json removed = json::array();
  std::erase_if(s.bindings, [&](const internal_binding& have) {
    bool hit = have.client_binding == binding && have.account_id == account_id;
    if (hit) removed.push_back(have.client_binding);
    return hit;
  });
  return {false, reply(request_id, "success",
                       json{{"unsubscribed", std::move(removed)}, {"subscribed", subscribed_list(s)}})};
}

}  // namespace kazoo_sim
