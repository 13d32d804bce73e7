#include <kazoo_bridge/delivery/policy.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace kazoo_bridge::delivery {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<unsigned> month_of(std::string_view m) {
  static constexpr std::array<std::string_view, 12> names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (m == names[i]) return static_cast<unsigned>(i + 1);
  }
  return std::nullopt;
}

std::optional<std::int64_t> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    auto j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::optional<std::int64_t> to_ms(std::int64_t year, std::string_view mon, std::int64_t day,
                                  std::string_view hms) {
  auto m = month_of(mon);
  auto parts = split(hms, ':');
  if (!m || parts.size() != 3 || day < 1 || day > 31 || year < 1970) return std::nullopt;
  auto h = number(parts[0]), mi = number(parts[1]), s = number(parts[2]);
  if (!h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  auto days = days_from_civil(year, *m, static_cast<unsigned>(day));
  return ((days * 24 + *h) * 60 + *mi) * 60000 + *s * 1000;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<seconds> default_retry_schedule() {
  using namespace std::chrono_literals;
  return {0s, 5s, 5min, 30min, 2h, 5h, 10h, 14h, 20h, 24h};
}

std::optional<milliseconds> retry_delay(const std::vector<seconds>& schedule, std::int64_t attempts_made,
                                        double unit, double jitter) {
  if (attempts_made < 0 || static_cast<std::size_t>(attempts_made) >= schedule.size()) return std::nullopt;
  const auto base = static_cast<double>(
      std::chrono::duration_cast<milliseconds>(schedule[static_cast<std::size_t>(attempts_made)]).count());
  unit = std::clamp(unit, 0.0, 1.0);
  jitter = std::clamp(jitter, 0.0, 1.0);
  const double scaled = base * (1.0 + jitter * (2.0 * unit - 1.0));
  return milliseconds(static_cast<std::int64_t>(std::llround(std::max(0.0, scaled))));
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  text = trim(text);
  auto words = split(text, ' ');
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (words.size() == 6 && words[0].size() == 4 && words[0].back() == ',' && words[5] == "GMT") {
    auto day = number(words[1]), year = number(words[3]);
    if (!day || !year || words[1].size() != 2 || words[3].size() != 4) return std::nullopt;
    return to_ms(*year, words[2], *day, words[4]);
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit year: RFC 9110 §5.6.7 says a year that
  // looks more than 50 years in the future is in the past; we only see recent dates: 19xx/20xx).
  if (words.size() == 4 && words[0].back() == ',' && words[3] == "GMT") {
    auto dmy = split(words[1], '-');
    if (dmy.size() != 3) return std::nullopt;
    auto day = number(dmy[0]), yy = number(dmy[2]);
    if (!day || !yy || dmy[2].size() != 2) return std::nullopt;
    return to_ms(*yy < 70 ? 2000 + *yy : 1900 + *yy, dmy[1], *day, words[2]);
  }
  // asctime: "Sun Nov  6 08:49:37 1994" (split() drops the double space)
  if (words.size() == 5 && words[0].size() == 3) {
    auto day = number(words[2]), year = number(words[4]);
    if (!day || !year) return std::nullopt;
    return to_ms(*year, words[1], *day, words[3]);
  }
  return std::nullopt;
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::int64_t now_ms, milliseconds cap) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delta-seconds: more than 10 digits is more than any cap; saturate instead of overflowing.
    if (value.size() > 10) return cap;
    auto s = number(value);
    if (!s) return std::nullopt;
    return std::min(milliseconds(*s * 1000), cap);
  }
  auto at = parse_http_date(value);
  if (!at) return std::nullopt;
  return std::clamp(milliseconds(*at - now_ms), milliseconds(0), cap);
}

std::string_view to_string(outcome o) {
  switch (o) {
    case outcome::delivered: return "delivered";
    case outcome::retry: return "retry";
    case outcome::failed: return "failed";
    case outcome::gone: return "gone";
  }
  return "failed";
}

outcome classify(std::optional<int> status) {
  if (!status) return outcome::retry;
  const int s = *status;
  if (s >= 200 && s < 300) return outcome::delivered;
  if (s == 410) return outcome::gone;
  // 408 Request Timeout and 429 Too Many Requests are the peer asking us to come back later.
  if (s == 408 || s == 429 || (s >= 500 && s < 600)) return outcome::retry;
  return outcome::failed;
}

bool should_disable(std::optional<std::int64_t> failing_since_ms, std::int64_t now_ms,
                    milliseconds disable_after) {
  return failing_since_ms && now_ms - *failing_since_ms >= disable_after.count();
}

std::optional<std::int64_t> next_attempt_at(const std::vector<seconds>& schedule, std::int64_t attempts_made,
                                            std::int64_t now_ms, std::optional<milliseconds> retry_after,
                                            double unit, double jitter) {
  auto wait = retry_delay(schedule, attempts_made, unit, jitter);
  if (!wait) return std::nullopt;
  // Retry-After is a minimum: never earlier than the peer asked, never earlier than our schedule.
  if (retry_after && *retry_after > *wait) wait = retry_after;
  return now_ms + wait->count();
}

}  // namespace kazoo_bridge::delivery
