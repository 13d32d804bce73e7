#include "store/sqlite.hpp"

#include <kazoo_bridge/store/error.hpp>

namespace kazoo_bridge::store::detail {

error_code sqlite_error(int rc) { return {rc, sqlite_category()}; }

error_code exec(sqlite3* db, const char* sql, std::string* message) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  if (message) *message = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return sqlite_error(sqlite3_extended_errcode(db));
}

statement::statement(sqlite3* db, std::string_view sql, std::string* message) {
  sqlite3_stmt* raw = nullptr;
  // PERSISTENT: these statements live as long as the connection (SQLite sizes them accordingly).
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &raw, nullptr);
  s_.reset(raw);
  if (rc != SQLITE_OK) {
    prepare_error_ = sqlite_error(sqlite3_extended_errcode(db));
    if (message) *message = sqlite3_errmsg(db);
    s_.reset();
  }
}

void statement::use::bind(int i, std::string_view v) {
  // SQLITE_TRANSIENT: SQLite copies the text, so the caller's string may go away before step().
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void statement::use::bind_opt(int i, const std::optional<std::string>& v) {
  if (v) {
    bind(i, std::string_view(*v));
  } else {
    bind_null(i);
  }
}

void statement::use::bind_opt(int i, const std::optional<std::int64_t>& v) {
  if (v) {
    bind(i, *v);
  } else {
    bind_null(i);
  }
}

result<bool> statement::use::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return {boost::system::in_place_error, sqlite_error(sqlite3_extended_errcode(sqlite3_db_handle(s_)))};
}

std::string statement::use::text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  if (!p) return {};
  auto n = static_cast<std::size_t>(sqlite3_column_bytes(s_, col));
  return {reinterpret_cast<const char*>(p), n};
}

std::optional<std::string> statement::use::optional_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

std::optional<std::int64_t> statement::use::optional_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

}  // namespace kazoo_bridge::store::detail
