#pragma once
// The columns of a `calls` row and how one is read back: shared by database.cpp (CLI, restore) and
// call_history.cpp (the HTTP API), which must read rows the same way. Private to the store module.

#include <string>
#include <string_view>

#include <fmt/format.h>

#include <kazoo_bridge/store/rows.hpp>

#include "store/sqlite.hpp"

namespace kazoo_bridge::store::detail {

inline constexpr std::string_view call_columns =
    "call_id, account_id, status, direction, answered, user_id, started_at_ms, updated_at_ms, "
    "ended_at_ms, snapshot, state";

/// A subquery of `columns` from the call_events rows of one call that match `where` (" WHERE ...", naming
/// the call as `call_id = ?N`, N = `call_param`). A call's events are in two partial indexes
/// (migrations/0007_call_numbers.sql): call_events_call by Call-ID for those stored before the call
/// numbers, call_events_call_num by the call's number since. One SELECT per index, so each uses its own.
inline std::string events_of_call(std::string_view columns, std::string_view where, int call_param) {
  return fmt::format(
      "(SELECT {0} FROM call_events{1} AND call_num = 0 UNION ALL "
      "SELECT {0} FROM call_events{1} AND call_num <> 0 AND call_num = (SELECT num FROM calls WHERE call_id = ?{2}))",
      columns, where, call_param);
}

/// One row selected with `call_columns`, in that order.
inline call_row read_call(const statement::use& u) {
  call_row c;
  c.call_id = u.text(0);
  c.account_id = u.text(1);
  c.status = u.text(2);
  c.direction = u.text(3);
  c.answered = u.int64(4) != 0;
  c.user_id = u.optional_text(5);
  c.started_at_ms = u.int64(6);
  c.updated_at_ms = u.int64(7);
  c.ended_at_ms = u.optional_int64(8);
  c.snapshot = u.text(9);
  c.state = u.text(10);
  return c;
}

}  // namespace kazoo_bridge::store::detail
