#pragma once
// Thin RAII over the SQLite C API: connection and statement handles, binding, stepping, and the
// translation of result codes into error_codes (sqlite_category). Private to the store module.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::store::detail {

struct connection_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using connection = std::unique_ptr<sqlite3, connection_closer>;

struct statement_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};

error_code sqlite_error(int rc);

/// Runs SQL without results (pragmas, BEGIN/COMMIT, migrations). On failure `*message` gets
/// SQLite's message when given.
error_code exec(sqlite3* db, const char* sql, std::string* message = nullptr);

/// A prepared statement. Every use goes through a `use` guard, which resets the statement and
/// clears its bindings when it ends: a read statement left un-reset would hold its read
/// transaction open and keep WAL checkpoints from completing.
class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql, std::string* message = nullptr);
  bool valid() const { return s_ != nullptr; }
  error_code prepare_error() const { return prepare_error_; }

  class use {
   public:
    explicit use(statement& st) : s_(st.s_.get()) {}
    ~use() {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
    use(const use&) = delete;
    use& operator=(const use&) = delete;

    void bind(int i, std::string_view v);
    void bind(int i, const std::string& v) { bind(i, std::string_view(v)); }
    /// Binds without a copy (SQLITE_STATIC): `v` must stay alive and unchanged until this guard
    /// ends (it resets the statement and clears the binding). For rows the caller keeps across
    /// the step, e.g. a batch during commit(); the 2 KB payloads are then not copied again.
    void bind_static(int i, std::string_view v) {
      sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    void bind_static_opt(int i, const std::optional<std::string>& v) {
      if (v) {
        bind_static(i, *v);
      } else {
        bind_null(i);
      }
    }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
    void bind_opt(int i, const std::optional<std::string>& v);
    void bind_opt(int i, const std::optional<std::int64_t>& v);
    void bind_null(int i) { sqlite3_bind_null(s_, i); }

    /// true: a row is available; false: done; error: the statement failed.
    result<bool> step();

    std::string text(int col) const;
    std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
    bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
    std::optional<std::string> optional_text(int col) const;
    std::optional<std::int64_t> optional_int64(int col) const;

   private:
    sqlite3_stmt* s_;
  };

 private:
  std::unique_ptr<sqlite3_stmt, statement_finalizer> s_;
  error_code prepare_error_;
};

}  // namespace kazoo_bridge::store::detail
