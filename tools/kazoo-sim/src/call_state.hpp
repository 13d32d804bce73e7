#pragma once
/// What Crossbar knows about calls, derived from the events the simulator plays: live legs for
/// GET /channels (reference/kazoo.md §5.3) and one CDR per destroyed leg for GET /cdrs (§5.6).
/// Pure: fed with the same `data` objects that go out on the WebSocket.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
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

class call_state {
 public:
  explicit call_state(std::size_t max_cdrs = 100000) : max_cdrs_(max_cdrs) {}

  /// One channel event (CHANNEL_*; PARK_* do not change legs).
  void on_event(const std::string& name, const std::string& account_id, const nlohmann::json& data);

  /// Rows of GET /v2/accounts/{id}/channels.
  nlohmann::json channels(const std::string& account_id) const;

  cdr_page cdrs(const std::string& account_id, const cdr_query& q) const;

  std::size_t live_legs() const { return legs_.size(); }
  std::size_t cdr_count() const { return cdrs_.size(); }

 private:
  struct leg {
    std::string account_id;
    nlohmann::json row;
  };
  struct cdr {
    std::string account_id;
    std::int64_t timestamp_g;
    std::string id;
    nlohmann::json row;
  };
  std::size_t max_cdrs_;
  std::map<std::string, leg> legs_;  // by Call-ID
  std::deque<cdr> cdrs_;             // oldest first; capped at max_cdrs_
};

/// The CDR summary row Crossbar returns for a CHANNEL_DESTROY `data` (field types of §5.6).
nlohmann::json cdr_row_from_destroy(const nlohmann::json& data);

}  // namespace kazoo_sim
