#pragma once
// The migrations embedded from migrations/*.sql at build time (src/store/embed_migrations.cmake).

#include <span>
#include <string_view>

namespace kazoo_bridge::store::detail {

struct migration {
  int version;            // NNNN of the file name; PRAGMA user_version after it is applied
  std::string_view name;  // the file name, for logs and errors
  std::string_view sql;
};

/// Every migration, version 1..N in order without gaps (the generator refuses anything else).
std::span<const migration> embedded_migrations();

}  // namespace kazoo_bridge::store::detail
