#include <kazoo_bridge/delivery/subscriptions.hpp>

#include <algorithm>
#include <iterator>

namespace kazoo_bridge::delivery {
namespace {

constexpr std::size_t wildcard_bucket = std::size(calls::event_types);

// The bucket of a type; std::size(event_types) for "*" and for an unknown type (never matched by
// an event, since events only carry design.md types).
std::size_t bucket_of(std::string_view type) {
  for (std::size_t i = 0; i < std::size(calls::event_types); ++i) {
    if (calls::event_types[i] == type) return i;
  }
  return wildcard_bucket;
}

// The payload's string at `key`, or empty (null, absent, not a string): no copy.
std::string_view text_at(const nlohmann::json& payload, const char* key) {
  if (!payload.is_object()) return {};
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

bool names_user(const nlohmann::json& payload, std::string_view user) {
  if (user.empty()) return false;
  return text_at(payload, "user_id") == user || text_at(payload, "from_user_id") == user;
}

}  // namespace

std::string destination_of(std::string_view hook_id) {
  std::string d = "hook:";
  d += hook_id;
  return d;
}

bool is_subscribable_event(std::string_view type) {
  if (type == "*") return true;
  return std::find(std::begin(calls::event_types), std::end(calls::event_types), type) !=
         std::end(calls::event_types);
}

bool wants(const subscription& s, const calls::lifecycle_event& e) {
  if (s.account_id != e.account_id) return false;
  if (s.event != "*" && s.event != e.type) return false;
  const auto& p = e.payload;
  if (s.scope != "account" && !names_user(p, s.user_id)) return false;
  const std::string_view direction = text_at(p, "direction");
  if (s.filters.direction && direction != *s.filters.direction) return false;
  if (!s.filters.include_internal && direction == "internal") return false;
  if (s.filters.user_id && !names_user(p, *s.filters.user_id)) return false;
  return true;
}

subscription_index::subscription_index() = default;
subscription_index::~subscription_index() = default;

void subscription_index::unlink(const subscription& s) {
  auto acc = by_account_.find(std::string_view(s.account_id));
  if (acc == by_account_.end()) return;
  auto& bucket = acc->second[bucket_of(s.event)];
  std::erase(bucket, &s);
  const bool empty = std::all_of(acc->second.begin(), acc->second.end(), [](const auto& b) { return b.empty(); });
  if (empty) by_account_.erase(acc);
}

void subscription_index::put(subscription s) {
  if (auto it = by_id_.find(std::string_view(s.id)); it != by_id_.end()) {
    unlink(*it->second);
    by_id_.erase(it);
  }
  auto owned = std::make_unique<subscription>(std::move(s));
  const subscription* p = owned.get();
  by_account_[p->account_id][bucket_of(p->event)].push_back(p);
  by_id_.emplace(p->id, std::move(owned));
}

void subscription_index::erase(std::string_view id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  unlink(*it->second);
  by_id_.erase(it);
}

void subscription_index::set_active(std::string_view id, bool active) {
  if (auto it = by_id_.find(id); it != by_id_.end()) it->second->active = active;
}

void subscription_index::match(const calls::lifecycle_event& e, std::vector<const subscription*>& out) const {
  if (by_account_.empty()) return;
  auto acc = by_account_.find(std::string_view(e.account_id));
  if (acc == by_account_.end()) return;
  const std::size_t b = bucket_of(e.type);
  auto scan = [&](const std::vector<const subscription*>& bucket) {
    for (const subscription* s : bucket) {
      if (s->active && wants(*s, e)) out.push_back(s);
    }
  };
  if (b != wildcard_bucket) scan(acc->second[b]);  // an unknown type only matches "*"
  scan(acc->second[wildcard_bucket]);
}

std::size_t subscription_index::size() const { return by_id_.size(); }

const subscription* subscription_index::find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

}  // namespace kazoo_bridge::delivery
