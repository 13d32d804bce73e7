#pragma once
/// Call history reads of the HTTP API (GET /api/v1/calls, GET /api/v1/calls/{call_id}): one
/// account's calls, newest first, filtered and paged by key, and one call with its event timeline.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/rows.hpp>

namespace kazoo_bridge::store {

/// The position of a call in the history order (started_at_ms DESC, call_id DESC): the key a page
/// ends on and the next page starts after. call_id breaks ties between calls started in the same
/// millisecond, so a page boundary never skips or repeats a call.
struct call_key {
  std::int64_t started_at_ms = 0;
  std::string call_id{};

  friend bool operator==(const call_key&, const call_key&) = default;
};

/// What list_calls() returns; every set member must match. account_id is always applied.
struct call_filter {
  std::string account_id{};                  ///< required: never another account's calls
  std::optional<std::string> visible_to{};   ///< only calls in which this user is a party
  std::optional<std::string> party{};        ///< only calls in which this user is a party (a filter)
  std::optional<std::int64_t> since_ms{};    ///< started_at_ms >= since_ms
  std::optional<std::int64_t> until_ms{};    ///< started_at_ms < until_ms
  std::optional<std::string> direction{};    ///< inbound|outbound|internal
  std::optional<std::string> status{};       ///< ringing|answered|parked|queued|ended
  std::optional<call_key> after{};           ///< only calls after this key in history order
  std::size_t limit = 50;                    ///< page size, 1..call_history::max_page
};

struct call_page {
  std::vector<call_row> calls{};    ///< newest first
  std::optional<call_key> next{};   ///< the last call's key when more calls match, else empty
};

/// One call and its lifecycle events, oldest first, payloads exactly as stored (as hooks get them).
struct call_timeline {
  call_row call{};
  std::vector<std::string> payloads{};
};

/// Thread: the DB thread (the database's thread), like database itself; not copyable.
/// Lifetime: the database outlives it. Statements are prepared on first use and kept.
/// Errors: sqlite_category() codes.
class call_history {
 public:
  /// The largest page (and timeline) a query reads; larger limits are clamped to it.
  static constexpr std::size_t max_page = 100000;

  explicit call_history(database& db);
  ~call_history();
  call_history(const call_history&) = delete;
  call_history& operator=(const call_history&) = delete;

  /// One page of the account's calls. Walks the index calls_account_started (account_id,
  /// started_at_ms DESC), so a page reads about `limit` rows of a busy account, plus the calls
  /// the visibility or party filter skips (each checked by a primary-key probe of call_parties).
  result<call_page> list_calls(const call_filter& f);

  /// The call with its timeline (at most max_events events, the oldest), or nothing when the call
  /// does not exist, belongs to another account, or (visible_to set) that user is not a party:
  /// the three look the same to the caller, so existence never leaks across accounts.
  result<std::optional<call_timeline>> find_call(const std::string& account_id, const std::string& call_id,
                                                 const std::optional<std::string>& visible_to,
                                                 std::size_t max_events = 1000);

  /// EXPLAIN QUERY PLAN of list_calls(f), one line per step (tests check the index is used).
  result<std::vector<std::string>> list_plan(const call_filter& f);

 private:
  struct statements;
  database& db_;
  std::unique_ptr<statements> st_;
};

}  // namespace kazoo_bridge::store
