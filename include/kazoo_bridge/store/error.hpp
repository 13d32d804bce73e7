#pragma once
/// Errors of the store module: SQLite result codes as error_codes, store-specific failures, and the
/// split the committer acts on (retry the same data later, or reject a batch SQLite refuses).

#include <boost/system/error_code.hpp>
#include <type_traits>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::store {

/// Failures that are not a SQLite result code.
enum class store_errc {
  schema_too_new = 1,  ///< the file was written by a newer kazoo-bridge (user_version above ours)
  bad_option,          ///< options rejected (e.g. synchronous not "normal"/"full")
  cannot_open,         ///< missing/unwritable directory, not a database, WAL refused
  migration_failed,    ///< a migration's SQL failed; the database is left at the previous version
};

const boost::system::error_category& store_category() noexcept;

inline error_code make_error_code(store_errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

/// SQLite (extended) result codes: value = the code, message() = sqlite3_errstr(code).
const boost::system::error_category& sqlite_category() noexcept;

/// True when SQLite refused the data itself (CONSTRAINT, MISMATCH, TOOBIG, RANGE): committing the
/// same rows again can never succeed. Everything else (BUSY, LOCKED, FULL, IOERR, READONLY...) depends
/// on the environment and is worth retrying.
bool is_data_error(const error_code& ec) noexcept;

}  // namespace kazoo_bridge::store

template <>
struct boost::system::is_error_code_enum<kazoo_bridge::store::store_errc> : std::true_type {};
