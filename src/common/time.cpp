#include <kazoo_bridge/common/time.hpp>

#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace kazoo_bridge {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = m > 2 ? m - 3 : m + 9;
  const unsigned doy = (153 * mp + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t y;
  unsigned m, d;
};

constexpr civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool parse_int(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::string format_iso8601(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  std::int64_t rem = secs - days * 86400;
  auto c = civil_from_days(days);
  if (c.y < 0 || c.y > 9999) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.m, c.d, rem / 3600, (rem / 60) % 60,
                       rem % 60);
  }
  // Every payload carries three to five of these: digits written in place, not through fmt's parser.
  char b[] = "0000-00-00T00:00:00Z";
  auto put = [&b](std::size_t at, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) b[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  put(0, c.y, 4);
  put(5, c.m, 2);
  put(8, c.d, 2);
  put(11, rem / 3600, 2);
  put(14, (rem / 60) % 60, 2);
  put(17, rem % 60, 2);
  return std::string(b, sizeof b - 1);
}

std::optional<std::int64_t> parse_iso8601(std::string_view t) {
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') || t[13] != ':' ||
      t[16] != ':') {
    return std::nullopt;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!parse_int(t.substr(0, 4), y) || !parse_int(t.substr(5, 2), mo) || !parse_int(t.substr(8, 2), d) ||
      !parse_int(t.substr(11, 2), h) || !parse_int(t.substr(14, 2), mi) || !parse_int(t.substr(17, 2), s)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  int ms = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (t[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  std::int64_t offset_s = 0;
  auto zone = t.substr(pos);
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = 0, om = 0;
    if (!parse_int(zone.substr(1, 2), oh) || !parse_int(zone.substr(4, 2), om)) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_s;
  return secs * 1000 + ms;
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kazoo_bridge
