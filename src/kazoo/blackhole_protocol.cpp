#include <kazoo_bridge/kazoo/blackhole_protocol.hpp>

#include <nlohmann/json.hpp>

namespace kazoo_bridge::kazoo {

std::vector<std::string> bindings_for(bool qubicle) {
  std::vector<std::string> b{"call.*.*"};
  if (qubicle) {
    for (const char* q : {"qubicle.session", "qubicle.recipient", "qubicle.queue"}) b.emplace_back(q);
  }
  return b;
}

std::string subscribe_message(std::string_view token, std::string_view account_id, std::string_view binding,
                              std::string_view request_id) {
  return nlohmann::json{{"action", "subscribe"},
                        {"auth_token", std::string(token)},
                        {"request_id", std::string(request_id)},
                        {"data", {{"account_id", std::string(account_id)}, {"binding", std::string(binding)}}}}
      .dump();
}

void subscription_book::sent(std::string request_id, std::string account_id, std::string binding) {
  pending_[std::move(request_id)] = entry{std::move(account_id), std::move(binding)};
}

subscription_book::reply_result subscription_book::on_reply(const std::string& request_id,
                                                             const std::string& status,
                                                             const std::string& errors_joined) {
  reply_result r;
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return r;
  r.account_id = it->second.account_id;
  r.binding = it->second.binding;
  pending_.erase(it);
  if (status == "success") {
    r.what = outcome::subscribed;
  } else if (r.binding.rfind("qubicle.", 0) == 0 &&
             errors_joined.find("no available subscriptions") != std::string::npos) {
    r.what = outcome::not_offered;
    r.error = errors_joined;
  } else {
    r.what = outcome::failed;
    r.error = errors_joined.empty() ? "error reply without errors list" : errors_joined;
  }
  return r;
}

std::chrono::milliseconds reconnect_policy::on_disconnected(std::int64_t now_ms, double random01) {
  if (subscribed_at_ms_ >= 0 && now_ms - subscribed_at_ms_ >= stable_after_.count()) attempt_ = 0;
  subscribed_at_ms_ = -1;
  return backoff_.delay(attempt_++, random01);
}

}  // namespace kazoo_bridge::kazoo
