#include <kazoo_bridge/oauth/throttle.hpp>

#include <algorithm>

namespace kazoo_bridge::oauth {

sliding_window::sliding_window(std::size_t limit, std::int64_t window_ms, std::size_t max_keys)
    : limit_(limit), window_ms_(window_ms), max_keys_(max_keys) {}

void sliding_window::prune(std::deque<std::int64_t>& q, std::int64_t now_ms) const {
  while (!q.empty() && q.front() <= now_ms - window_ms_) q.pop_front();
}

std::optional<std::int64_t> sliding_window::check(const std::string& key, std::int64_t now_ms) {
  auto it = hits_.find(key);
  if (it == hits_.end()) return std::nullopt;
  prune(it->second, now_ms);
  if (it->second.empty()) {
    hits_.erase(it);
    return std::nullopt;
  }
  if (it->second.size() < limit_) return std::nullopt;
  // The window frees a slot when the oldest failure leaves it.
  const std::int64_t wait_ms = it->second.front() + window_ms_ - now_ms;
  return std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
}

void sliding_window::make_room(std::int64_t now_ms) {
  for (auto it = hits_.begin(); it != hits_.end();) {
    prune(it->second, now_ms);
    it = it->second.empty() ? hits_.erase(it) : std::next(it);
  }
  while (hits_.size() >= max_keys_) {
    auto oldest = std::min_element(hits_.begin(), hits_.end(), [](const auto& a, const auto& b) {
      return a.second.back() < b.second.back();
    });
    hits_.erase(oldest);
  }
}

void sliding_window::record(const std::string& key, std::int64_t now_ms) {
  if (!hits_.contains(key) && hits_.size() >= max_keys_) make_room(now_ms);
  auto& q = hits_[key];
  prune(q, now_ms);
  q.push_back(now_ms);
  while (q.size() > limit_) q.pop_front();  // only the newest `limit` matter for the decision
}

login_throttle::login_throttle(login_throttle_options o)
    : ip_(o.per_ip, o.window_ms), user_(o.per_user, o.window_ms) {}

std::optional<std::int64_t> login_throttle::check(const std::string& ip, const std::string& user_key,
                                                  std::int64_t now_ms) {
  auto a = ip_.check(ip, now_ms);
  auto b = user_key.empty() ? std::nullopt : user_.check(user_key, now_ms);
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

void login_throttle::failed(const std::string& ip, const std::string& user_key, std::int64_t now_ms) {
  ip_.record(ip, now_ms);
  if (!user_key.empty()) user_.record(user_key, now_ms);
}

}  // namespace kazoo_bridge::oauth
