#include <kazoo_bridge/store/error.hpp>

#include <sqlite3.h>

#include <string>

namespace kazoo_bridge::store {
namespace {

// boost::system::error_category has a non-virtual destructor by design (static singletons).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class store_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "kazoo_bridge.store"; }
  std::string message(int ev) const override {
    switch (static_cast<store_errc>(ev)) {
      case store_errc::schema_too_new: return "database schema is newer than this kazoo-bridge";
      case store_errc::bad_option: return "invalid storage option";
      case store_errc::cannot_open: return "cannot open database";
      case store_errc::migration_failed: return "database migration failed";
    }
    return "unknown store error";
  }
};

class sqlite_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sqlite"; }
  std::string message(int ev) const override { return sqlite3_errstr(ev); }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& store_category() noexcept {
  static const store_category_impl instance;
  return instance;
}

const boost::system::error_category& sqlite_category() noexcept {
  static const sqlite_category_impl instance;
  return instance;
}

bool is_data_error(const error_code& ec) noexcept {
  if (ec.category() != sqlite_category()) return false;
  switch (ec.value() & 0xff) {  // the primary code is the low byte of an extended code
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return true;
    default:
      return false;
  }
}

}  // namespace kazoo_bridge::store
