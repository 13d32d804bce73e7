#pragma once
/// Time conversions shared by every module. Pure: no clocks are read here except by now_unix_ms().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kazoo_bridge {

/// Kazoo timestamps are Gregorian seconds (since year 0): unix = gregorian - 62167219200
/// (reference/kazoo.md §0 item 5).
inline constexpr std::int64_t gregorian_unix_offset_s = 62167219200;

constexpr std::int64_t gregorian_to_unix_s(std::int64_t g) { return g - gregorian_unix_offset_s; }
constexpr std::int64_t unix_to_gregorian_s(std::int64_t u) { return u + gregorian_unix_offset_s; }

/// "2026-11-21T10:15:03Z" (ISO 8601, UTC, whole seconds).
std::string format_iso8601(std::int64_t unix_ms);

/// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z" and "+00:00" offsets; returns Unix milliseconds.
std::optional<std::int64_t> parse_iso8601(std::string_view text);

/// Wall clock in Unix milliseconds (the one place that reads the clock for event times).
std::int64_t now_unix_ms();

}  // namespace kazoo_bridge
