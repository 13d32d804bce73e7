#pragma once
/// What Crossbar knows about calls, derived from the events the simulator plays: live legs for
/// GET /channels (reference/kazoo.md §5.3) and one CDR per destroyed leg for GET /cdrs (§5.6).
/// Pure: fed with the same `data` objects that go out on the WebSocket, or (load mode) with the ids
/// an event changes and a way to build its `data` only if Crossbar asks.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace kazoo_sim {

struct cdr_query {
  std::int64_t created_from_g = 0;  ///< Gregorian seconds, inclusive
  std::int64_t created_to_g = 0;    ///< Gregorian seconds, inclusive
  bool ascending = false;
  std::size_t page_size = 50;
  std::string start_key;            ///< opaque, from a previous next_start_key
  std::string owner_id;             ///< /users/{id}/cdrs: only that user's legs
};

struct cdr_page {
  std::vector<nlohmann::json> rows;
  std::string next_start_key;  ///< empty on the last page
};

/// A channel event without its `data` DOM (load mode: parsing or building JSON for every event
/// would cost more than sending it). `data` is called only when a /channels or /cdrs row needs it.
struct channel_event {
  std::string_view name;
  std::string_view account_id;
  std::string_view call_id;
  std::string_view other_leg_call_id;  ///< data.other_leg_call_id ("" if absent)
  std::int64_t timestamp_g = 0;        ///< data.timestamp (Gregorian s): the CDR's date
  std::string_view owner_id;           ///< data.custom_channel_vars.owner_id: the CDR's user
  std::function<nlohmann::json()> data;
};

class call_state {
 public:
  explicit call_state(std::size_t max_cdrs = 100000) : max_cdrs_(max_cdrs) {}

  /// One channel event (CHANNEL_*; PARK_* do not change legs).
  void on_event(const std::string& name, const std::string& account_id, const nlohmann::json& data);
  /// The same bookkeeping from the ids alone; rows are built from `e.data()` when asked for.
  void on_event(channel_event e);

  /// Rows of GET /v2/accounts/{id}/channels.
  nlohmann::json channels(const std::string& account_id) const;

  cdr_page cdrs(const std::string& account_id, const cdr_query& q) const;

  std::size_t live_legs() const { return legs_.size(); }
  std::size_t cdr_count() const { return cdrs_.size(); }

 private:
  // A row is either built at once (row) or on demand from the creating event's data (source);
  // what later events change is kept apart and applied when the row is read.
  struct leg {
    std::string account_id;
    nlohmann::json row;
    std::function<nlohmann::json()> source;
    bool answered = false;
    std::optional<bool> on_hold;
    std::string other_leg;  ///< the latest non-empty other_leg_call_id
  };
  struct cdr {
    std::string account_id;
    std::int64_t timestamp_g;
    std::string call_id;  ///< the row id is "{YYYYMM of timestamp}-{call_id}" (cdr_id())
    std::string owner_id;
    nlohmann::json row;
    std::function<nlohmann::json()> source;
  };
  void apply(leg& l, std::string_view name, std::string_view other_leg);
  std::size_t max_cdrs_;
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // By Call-ID. Hashed: a map of ~20,000 live legs in load mode costs a cache miss per level.
  std::unordered_map<std::string, leg, text_hash, std::equal_to<>> legs_;
  std::deque<cdr> cdrs_;             // oldest first; capped at max_cdrs_
};

/// The CDR summary row Crossbar returns for a CHANNEL_DESTROY `data` (field types of §5.6).
nlohmann::json cdr_row_from_destroy(const nlohmann::json& data);

}  // namespace kazoo_sim
