#pragma once
/// REST hook subscriptions as the pipeline sees them, and the index that says which subscriptions
/// want a lifecycle event (issue #4, docs/api.md "Hooks"). Pure: no I/O.

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <kazoo_bridge/calls/lifecycle.hpp>

namespace kazoo_bridge::delivery {

/// What a subscription narrows its events to (the "filters" object of POST /api/v1/hooks).
struct subscription_filters {
  std::optional<std::string> direction;   ///< inbound|outbound|internal
  std::optional<std::string> user_id;     ///< only calls of this user (account scope)
  bool include_internal = true;
};

/// One subscription (a row of `hooks`).
///
/// Which events are "the user's own calls" (scope "user"): an event whose payload names the
/// subscriber as `user_id` (the user rung, answering, taking a transfer, the call's final user) or as
/// `from_user_id` (the internal caller). These are exactly the keys that make a user a party of a
/// call in call_parties (GET /api/v1/calls for a `calls`-scope user), looked at event by event: an
/// event of a call the user took part in earlier but that names someone else (another agent rung
/// after a transfer) is not theirs. Scope "account": every event of the account.
struct subscription {
  std::string id, account_id, user_id, event, scope;  ///< event: lifecycle type or "*"; scope user|account
  subscription_filters filters{};
  bool active = true;
};

/// "hook:" + id, the outbox destination of a subscription.
std::string destination_of(std::string_view hook_id);

/// True when the event type is a design.md lifecycle type or "*" (what a subscription may ask for).
bool is_subscribable_event(std::string_view type);

/// True when `s` (active or not) wants `e`: same account, event type or "*", scope and filters.
bool wants(const subscription& s, const calls::lifecycle_event& e);

/// Every subscription the daemon delivers to, indexed by account and event type.
///
/// Thread: the I/O thread (the pipeline asks it for every lifecycle event, the API changes it); no lock.
/// Lifetime: pointers handed out by match() stay valid until the next put()/erase() of that id.
/// Errors: none; an unknown id is ignored by erase()/set_active().
class subscription_index {
 public:
  subscription_index();
  ~subscription_index();
  subscription_index(const subscription_index&) = delete;
  subscription_index& operator=(const subscription_index&) = delete;

  void put(subscription s);                      ///< add or replace by id
  void erase(std::string_view id);
  void set_active(std::string_view id, bool active);
  /// Appends the active subscriptions that want `e` (type, scope/visibility, filters). An account
  /// without subscriptions costs one hash lookup and allocates nothing.
  void match(const calls::lifecycle_event& e, std::vector<const subscription*>& out) const;
  std::size_t size() const;
  /// The subscription with this id, or null.
  const subscription* find(std::string_view id) const;

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  // One bucket per design.md type, plus the last one for "*".
  static constexpr std::size_t bucket_count = std::size(calls::event_types) + 1;
  using buckets = std::array<std::vector<const subscription*>, bucket_count>;
  void unlink(const subscription& s);

  std::unordered_map<std::string, std::unique_ptr<subscription>, string_hash, std::equal_to<>> by_id_;
  std::unordered_map<std::string, buckets, string_hash, std::equal_to<>> by_account_;
};

}  // namespace kazoo_bridge::delivery
