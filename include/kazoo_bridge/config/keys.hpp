#pragma once
/// The table of every configuration key: its file name, type, unit and field. The loader, the
/// environment overrides, `check-config` and the tests that keep the example file and
/// docs/configuration.md complete all read this one table, so a key exists everywhere or nowhere.

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <kazoo_bridge/config/config.hpp>

namespace kazoo_bridge::config {

/// How a key is written in TOML and in the environment.
enum class key_type {
  string,           ///< TOML string; env: the value as is
  optional_string,  ///< TOML string, key may be absent; env: the value, empty = unset
  boolean,          ///< TOML boolean; env: true|false|1|0 (case-insensitive)
  size,             ///< TOML non-negative integer; env: decimal digits
  duration_ms,      ///< TOML integer, milliseconds (key ends in _ms)
  duration_s,       ///< TOML integer, seconds (key ends in _s)
  string_list,  ///< TOML array of strings; env: comma-separated, items trimmed, empty items dropped
};

/// A pointer to the C++ field behind a key.
using field_ref = std::variant<std::string*, std::optional<std::string>*, bool*, std::size_t*,
                               std::chrono::milliseconds*, std::vector<std::string>*>;

struct key_info {
  std::string_view section;  ///< "kazoo"
  std::string_view name;  ///< as written in the file, unit suffix included: "stale_call_timeout_s"
  key_type type;
  bool required;             ///< no default; load reports "required key is missing"
  bool secret;               ///< its value never appears in problems or format_value()
  std::string_view summary;  ///< one line for `check-config` and the docs
  field_ref (*field)(config&);

  std::string path() const;     ///< "kazoo.stale_call_timeout_s"
  std::string env_var() const;  ///< "KAZOO_BRIDGE_KAZOO_STALE_CALL_TIMEOUT_S"
};

/// Every key, grouped by section in file order.
std::span<const key_info> keys();

/// The known sections in file order: server, storage, kazoo, hooks, oauth, log.
std::span<const std::string_view> sections();

/// The key `section.name`, or nullptr.
const key_info* find_key(std::string_view section, std::string_view name);

/// Environment variables with this prefix are ours; any that names no key is a problem
/// (typo protection), except env_config_file.
inline constexpr std::string_view env_prefix = "KAZOO_BRIDGE_";
/// Read by the command line (not by load_*()) as the default for --config.
inline constexpr std::string_view env_config_file = "KAZOO_BRIDGE_CONFIG";

/// The key's current value as a TOML literal ("\"info\"", "14400", "[\"a\", \"b\"]"); absent
/// optional keys give ""; secret keys give "\"[redacted]\"" when set.
std::string format_value(const config& c, const key_info& k);

}  // namespace kazoo_bridge::config
