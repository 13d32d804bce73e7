#include <kazoo_bridge/api/call_query.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include <kazoo_bridge/api/cursor.hpp>
#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::api {
namespace {

constexpr std::array<std::string_view, 3> directions{"inbound", "outbound", "internal"};
// The statuses of the calls table (design.md, `kazoo-bridge calls`).
constexpr std::array<std::string_view, 5> statuses{"ringing", "answered", "parked", "queued", "ended"};
constexpr std::array<std::string_view, 7> known{"since", "until", "direction", "status", "user_id", "limit", "cursor"};
constexpr std::size_t max_user_id = 128;

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& set, const std::string& v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

std::optional<std::int64_t> parse_time(std::string v) {
  // application/x-www-form-urlencoded decodes '+' to a space; no ISO 8601 time holds a space.
  std::replace(v.begin(), v.end(), ' ', '+');
  return parse_iso8601(v);
}

// FNV-1a 64 over length-prefixed fields: stable across builds and platforms.
void mix(std::uint64_t& h, std::string_view s) {
  auto byte = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (int shift = 0; shift < 64; shift += 8) byte(static_cast<unsigned char>((s.size() >> shift) & 0xFFu));
  for (char c : s) byte(static_cast<unsigned char>(c));
}

}  // namespace

call_list_parse parse_call_list_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> given;
  for (const auto& [k, v] : params) {
    if (std::find(known.begin(), known.end(), k) == known.end()) continue;
    if (std::any_of(given.begin(), given.end(), [&k = k](const auto& g) { return g.first == k; })) {
      return {std::nullopt, "parameter " + k + " is given more than once"};
    }
    given.emplace_back(k, v);
  }
  auto get = [&](std::string_view key) -> std::optional<std::string> {
    for (const auto& [k, v] : given) {
      if (k == key && !v.empty()) return v;
    }
    return std::nullopt;
  };
  auto fail = [](std::string why) { return call_list_parse{std::nullopt, std::move(why)}; };

  call_list_query q;
  if (auto v = get("since")) {
    q.since_ms = parse_time(*v);
    if (!q.since_ms) return fail("since is not an ISO 8601 time such as 2026-11-21T10:00:00Z");
  }
  if (auto v = get("until")) {
    q.until_ms = parse_time(*v);
    if (!q.until_ms) return fail("until is not an ISO 8601 time such as 2026-11-21T10:00:00Z");
  }
  if (q.since_ms && q.until_ms && *q.since_ms > *q.until_ms) return fail("since is later than until");
  if (auto v = get("direction")) {
    if (!one_of(directions, *v)) return fail("direction must be inbound, outbound or internal");
    q.direction = *v;
  }
  if (auto v = get("status")) {
    if (!one_of(statuses, *v)) return fail("status must be ringing, answered, parked, queued or ended");
    q.status = *v;
  }
  if (auto v = get("user_id")) {
    if (v->size() > max_user_id) return fail("user_id is too long");
    q.user_id = *v;
  }
  if (auto v = get("limit")) {
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    const bool digits = std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || ec != std::errc{} || p != v->data() + v->size() || n < 1 || n > max_page_limit) {
      return fail("limit must be a whole number from 1 to " + std::to_string(max_page_limit));
    }
    q.limit = n;
  }
  if (auto v = get("cursor")) {
    auto c = decode_cursor(*v);
    if (!c) return fail("cursor is malformed; use next_cursor exactly as returned");
    if (c->filters != filters_fingerprint(q)) {
      return fail("cursor was returned for other filters; repeat the filters of the first page");
    }
    q.after = c->after;
  }
  return {std::move(q), {}};
}

std::uint64_t filters_fingerprint(const call_list_query& q) {
  std::uint64_t h = 1469598103934665603ULL;
  auto opt = [&h](const std::optional<std::string>& v) { mix(h, v ? "1" + *v : std::string("0")); };
  auto opt_ms = [&h](const std::optional<std::int64_t>& v) {
    mix(h, v ? "1" + std::to_string(*v) : std::string("0"));
  };
  opt_ms(q.since_ms);
  opt_ms(q.until_ms);
  opt(q.direction);
  opt(q.status);
  opt(q.user_id);
  return h;
}

store::call_filter to_filter(const call_list_query& q) {
  store::call_filter f;
  f.since_ms = q.since_ms;
  f.until_ms = q.until_ms;
  f.direction = q.direction;
  f.status = q.status;
  f.party = q.user_id;
  f.after = q.after;
  f.limit = q.limit;
  return f;
}

}  // namespace kazoo_bridge::api
