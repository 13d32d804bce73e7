#pragma once
/// The query parameters of GET /api/v1/calls: parsing and validation into a store filter. Pure.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <kazoo_bridge/store/call_history.hpp>

namespace kazoo_bridge::api {

inline constexpr std::size_t default_page_limit = 50;
inline constexpr std::size_t max_page_limit = 200;  ///< a larger `limit` is refused (400), not clamped

/// The filters and page of a call listing, validated.
struct call_list_query {
  std::optional<std::int64_t> since_ms, until_ms;       ///< started_at in [since, until)
  std::optional<std::string> direction, status, user_id;
  std::size_t limit = default_page_limit;
  std::optional<store::call_key> after;                 ///< from the cursor
};

/// Either a query or the reason it is refused (a 400 invalid_request's error_description).
struct call_list_parse {
  std::optional<call_list_query> query;
  std::string error;
};

/// Parses `params` (decoded, in request order; see net::parse_query_list). Known parameters:
/// since, until (ISO 8601 UTC, "2026-11-21T10:00:00Z"; a '+' of an offset that the query encoding
/// turned into a space is taken back), direction (inbound|outbound|internal), status
/// (ringing|answered|parked|queued|ended), user_id, limit (1..200, default 50), cursor. An empty
/// value counts as absent. Refused: a known parameter given twice, an unknown direction or status,
/// since later than until, a bad number or time, a malformed cursor and a cursor made for other
/// filters. Unknown parameters are ignored.
call_list_parse parse_call_list_query(const std::vector<std::pair<std::string, std::string>>& params);

/// A fingerprint of the filters (not limit, not cursor): a cursor is only valid for the filters it
/// was made with, so a changed filter cannot continue a walk in the middle of another result.
std::uint64_t filters_fingerprint(const call_list_query& q);

/// The store filter for `q` (account and visibility are the caller's to set).
store::call_filter to_filter(const call_list_query& q);

}  // namespace kazoo_bridge::api
