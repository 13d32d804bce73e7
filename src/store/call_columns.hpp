#pragma once
// The columns of a `calls` row and how one is read back: shared by database.cpp (CLI, restore) and
// call_history.cpp (the HTTP API), which must read rows the same way. Private to the store module.

#include <string_view>

#include <kazoo_bridge/store/rows.hpp>

#include "store/sqlite.hpp"

namespace kazoo_bridge::store::detail {

inline constexpr std::string_view call_columns =
    "call_id, account_id, status, direction, answered, user_id, started_at_ms, updated_at_ms, "
    "ended_at_ms, snapshot, state";

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
