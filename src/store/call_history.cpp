#include <kazoo_bridge/store/call_history.hpp>

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "store/call_columns.hpp"
#include "store/sqlite.hpp"

namespace kazoo_bridge::store {
namespace {

using detail::call_columns;
using detail::events_of_call;
using detail::read_call;
using detail::statement;

// Which optional filters a query has: one prepared statement per combination, so that each query
// names only its own conditions and the planner sees plain equalities and ranges (the same reason
// as database::events()).
enum filter_bit : unsigned {
  visible_bit = 1, party_bit = 2, since_bit = 4, until_bit = 8, direction_bit = 16, status_bit = 32,
  after_bit = 64,
};
constexpr unsigned filter_combinations = 128;

unsigned mask_of(const call_filter& f) {
  return (f.visible_to ? visible_bit : 0u) | (f.party ? party_bit : 0u) | (f.since_ms ? since_bit : 0u) |
         (f.until_ms ? until_bit : 0u) | (f.direction ? direction_bit : 0u) | (f.status ? status_bit : 0u) |
         (f.after ? after_bit : 0u);
}

// Parameters keep fixed numbers whatever the mask: ?1 account, ?2 visible_to, ?3 party, ?4 since,
// ?5 until, ?6 direction, ?7 status, ?8/?9 the key to continue after, ?10 limit.
std::string list_sql(unsigned mask) {
  std::string where = "account_id = ?1";
  // A party check is a primary-key probe of call_parties for each candidate call.
  if (mask & visible_bit) {
    where += " AND EXISTS (SELECT 1 FROM call_parties p WHERE p.call_id = calls.call_id AND p.user_id = ?2)";
  }
  if (mask & party_bit) {
    where += " AND EXISTS (SELECT 1 FROM call_parties q WHERE q.call_id = calls.call_id AND q.user_id = ?3)";
  }
  if (mask & since_bit) where += " AND started_at_ms >= ?4";
  if (mask & until_bit) where += " AND started_at_ms < ?5";
  if (mask & direction_bit) where += " AND direction = ?6";
  if (mask & status_bit) where += " AND status = ?7";
  // Keyset pagination: strictly after (started_at_ms, call_id) in DESC order. Spelled with a plain
  // range on started_at_ms first, so the index range starts at the key instead of the newest call.
  if (mask & after_bit) where += " AND started_at_ms <= ?8 AND (started_at_ms < ?8 OR call_id < ?9)";
  return fmt::format("SELECT {} FROM calls WHERE {} ORDER BY started_at_ms DESC, call_id DESC LIMIT ?10",
                     call_columns, where);
}

void bind_filter(statement::use& u, const call_filter& f, std::int64_t limit) {
  u.bind(1, f.account_id);
  if (f.visible_to) u.bind(2, *f.visible_to);
  if (f.party) u.bind(3, *f.party);
  if (f.since_ms) u.bind(4, *f.since_ms);
  if (f.until_ms) u.bind(5, *f.until_ms);
  if (f.direction) u.bind(6, *f.direction);
  if (f.status) u.bind(7, *f.status);
  if (f.after) {
    u.bind(8, f.after->started_at_ms);
    u.bind(9, f.after->call_id);
  }
  u.bind(10, limit);
}

}  // namespace

struct call_history::statements {
  std::array<statement, filter_combinations> list;
  statement find_call, party_of, timeline;
  std::string last_error;
};

call_history::call_history(database& db) : db_(db), st_(std::make_unique<statements>()) {}
call_history::~call_history() = default;

result<call_page> call_history::list_calls(const call_filter& f) {
  const unsigned mask = mask_of(f);
  statement& st = st_->list[mask];
  if (!st.valid()) {
    st = statement(db_.native_handle(), list_sql(mask), &st_->last_error);
    if (!st.valid()) return st.prepare_error();
  }
  const std::size_t limit = std::clamp<std::size_t>(f.limit, 1, max_page);
  // One row more than the page: whether it exists decides next (no count query, no empty last page).
  const auto fetch = static_cast<std::int64_t>(limit) + 1;
  call_page page;
  statement::use u(st);
  bind_filter(u, f, fetch);
  while (true) {
    auto row = u.step();
    if (!row) return row.error();
    if (!*row) break;
    if (page.calls.size() == limit) {
      page.next = call_key{page.calls.back().started_at_ms, page.calls.back().call_id};
      break;
    }
    page.calls.push_back(read_call(u));
  }
  return page;
}

result<std::optional<call_timeline>> call_history::find_call(const std::string& account_id,
                                                             const std::string& call_id,
                                                             const std::optional<std::string>& visible_to,
                                                             std::size_t max_events) {
  sqlite3* db = db_.native_handle();
  auto& s = *st_;
  if (!s.find_call.valid()) {
    s.find_call = statement(db, fmt::format("SELECT {} FROM calls WHERE call_id = ?1 AND account_id = ?2",
                                            call_columns));
    s.party_of = statement(db, "SELECT 1 FROM call_parties WHERE call_id = ?1 AND user_id = ?2");
    // The call's events: oldest first, ties in insertion order, like `kazoo-bridge events --call`.
    // account_id is checked again: events of a call id reused by another account never join.
    s.timeline = statement(db, fmt::format("SELECT payload FROM {} ORDER BY occurred_at_ms, seq LIMIT ?3",
                                           events_of_call("payload, occurred_at_ms, seq",
                                                          " WHERE call_id = ?1 AND account_id = ?2", 1)));
    for (auto* st : {&s.find_call, &s.party_of, &s.timeline}) {
      if (!st->valid()) return st->prepare_error();
    }
  }
  call_timeline out;
  {
    statement::use u(s.find_call);
    u.bind(1, call_id);
    u.bind(2, account_id);
    auto row = u.step();
    if (!row) return row.error();
    if (!*row) return std::optional<call_timeline>{};
    out.call = read_call(u);
  }
  if (visible_to) {
    statement::use u(s.party_of);
    u.bind(1, call_id);
    u.bind(2, *visible_to);
    auto row = u.step();
    if (!row) return row.error();
    if (!*row) return std::optional<call_timeline>{};
  }
  statement::use u(s.timeline);
  u.bind(1, call_id);
  u.bind(2, account_id);
  u.bind(3, static_cast<std::int64_t>(std::min<std::size_t>(max_events, max_page)));
  while (true) {
    auto row = u.step();
    if (!row) return row.error();
    if (!*row) break;
    out.payloads.push_back(u.text(0));
  }
  return std::optional<call_timeline>{std::move(out)};
}

result<std::vector<std::string>> call_history::list_plan(const call_filter& f) {
  statement st(db_.native_handle(), "EXPLAIN QUERY PLAN " + list_sql(mask_of(f)), &st_->last_error);
  if (!st.valid()) return st.prepare_error();
  std::vector<std::string> lines;
  statement::use u(st);
  bind_filter(u, f, 1);
  while (true) {
    auto row = u.step();
    if (!row) return row.error();
    if (!*row) break;
    lines.push_back(u.text(3));  // columns: id, parent, notused, detail
  }
  return lines;
}

}  // namespace kazoo_bridge::store
