#include "call_state.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <fmt/format.h>
#include <kazoo_bridge/common/time.hpp>

#include "text_util.hpp"

namespace kazoo_sim {
namespace {

using nlohmann::json;

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  return {};
}

std::int64_t integer(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {  // old releases sent durations as strings (§2.4)
    std::int64_t v = 0;
    auto s = it->get<std::string>();
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  return 0;
}

const json& ccvs(const json& data) {
  static const json empty = json::object();
  auto it = data.find("custom_channel_vars");
  return it != data.end() && it->is_object() ? *it : empty;
}

std::string user_part(const std::string& s) { return s.substr(0, s.find('@')); }

std::string strftime_utc(std::int64_t unix_s, const char* fmt) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

// The CDR id Crossbar shows: "{YYYYMM}-{Call-ID}" (cdr_row_from_destroy).
std::string cdr_id(std::int64_t timestamp_g, const std::string& call_id) {
  return strftime_utc(kazoo_bridge::gregorian_to_unix_s(timestamp_g), "%Y%m") + "-" + call_id;
}

std::string start_key_of(std::int64_t ts, const std::string& id) {
  return base64url(std::to_string(ts) + "|" + id);
}

}  // namespace

json cdr_row_from_destroy(const json& data) {
  const auto& cv = ccvs(data);
  auto call_id = str(data, "call_id");
  auto ts_g = integer(data, "timestamp");
  auto unix_s = kazoo_bridge::gregorian_to_unix_s(ts_g);
  auto account_id = str(cv, "account_id");
  auto authorizing_id = str(cv, "authorizing_id");
  if (authorizing_id == account_id) authorizing_id.clear();  // "" when it equals the account id
  json recordings = json::array();
  if (auto it = data.find("media_recordings"); it != data.end() && it->is_array()) {
    recordings = *it;
  } else if (auto c = cv.find("media_recordings"); c != cv.end()) {
    recordings = c->is_array() ? *c : json::array({*c});
  }
  auto request = str(data, "request");
  return json{
      {"id", strftime_utc(unix_s, "%Y%m") + "-" + call_id},
      {"call_id", call_id},
      {"caller_id_number", str(data, "caller_id_number")},
      {"caller_id_name", str(data, "caller_id_name")},
      {"callee_id_number", str(data, "callee_id_number")},
      {"callee_id_name", str(data, "callee_id_name")},
      {"duration_seconds", integer(data, "duration_seconds")},
      {"billing_seconds", integer(data, "billing_seconds")},
      {"timestamp", std::to_string(ts_g)},
      {"hangup_cause", str(data, "hangup_cause")},
      {"disposition", str(data, "disposition")},
      {"other_leg_call_id", str(data, "other_leg_call_id")},
      {"owner_id", str(cv, "owner_id")},
      {"to", str(data, "to")},
      {"from", str(data, "from")},
      {"direction", str(data, "call_direction")},
      {"request", request},
      {"authorizing_id", authorizing_id},
      {"cost", "0"},
      {"dialed_number", user_part(request)},
      {"calling_from", str(data, "caller_id_number")},
      {"datetime", strftime_utc(unix_s, "%Y-%m-%d %H:%M:%S")},
      {"unix_timestamp", std::to_string(unix_s)},
      {"rfc_1036", strftime_utc(unix_s, "%a, %d %b %Y %H:%M:%S GMT")},
      {"iso_8601", strftime_utc(unix_s, "%Y-%m-%d")},
      {"iso_8601_combined", strftime_utc(unix_s, "%Y-%m-%dT%H:%M:%SZ")},
      {"call_type", ""},
      {"rate", "0.0"},
      {"rate_name", ""},
      {"bridge_id", str(cv, "bridge_id")},
      {"recording_url", ""},
      {"media_recordings", std::move(recordings)},
      {"media_server", str(data, "media_server")},
      {"call_priority", ""},
      {"interaction_id", str(cv, "call_interaction_id")},
  };
}

namespace {

bool changes_leg(std::string_view name) {
  return name == "CHANNEL_CREATE" || name == "CHANNEL_ANSWER" || name == "CHANNEL_BRIDGE" ||
         name == "CHANNEL_HOLD" || name == "CHANNEL_UNHOLD";
}

// The /channels row of a leg as its first event describes it.
json channel_row(const std::string& call_id, const std::string& account_id, const json& data) {
  const auto& cv = ccvs(data);
  auto dest = str(data, "request");
  if (dest.empty()) dest = str(data, "to");
  return json{{"uuid", call_id},
              {"direction", str(data, "call_direction")},
              {"answered", false},
              {"authorizing_id", str(cv, "authorizing_id")},
              {"authorizing_type", str(cv, "authorizing_type")},
              {"owner_id", str(cv, "owner_id")},
              {"destination", user_part(dest)},
              {"other_leg", str(data, "other_leg_call_id")},
              {"presence_id", str(data, "presence_id")},
              {"timestamp", integer(data, "timestamp")},
              {"username", str(cv, "username")},
              {"account_id", account_id},
              {"bridge_id", str(cv, "bridge_id")},
              {"call_interaction_id", str(cv, "call_interaction_id")}};
}

}  // namespace

void call_state::apply(leg& l, std::string_view name, std::string_view other_leg) {
  if (name == "CHANNEL_ANSWER") l.answered = true;
  if (!other_leg.empty()) l.other_leg = other_leg;
  if (name == "CHANNEL_HOLD") l.on_hold = true;
  if (name == "CHANNEL_UNHOLD") l.on_hold = false;
}

void call_state::on_event(const std::string& name, const std::string& account_id, const json& data) {
  auto call_id = str(data, "call_id");
  if (call_id.empty()) return;
  if (name == "CHANNEL_DESTROY") {
    legs_.erase(call_id);
    auto row = cdr_row_from_destroy(data);
    auto ts = integer(data, "timestamp");
    auto owner = row["owner_id"].get<std::string>();
    cdrs_.push_back(cdr{account_id, ts, std::move(call_id), std::move(owner), std::move(row), {}});
    while (cdrs_.size() > max_cdrs_) cdrs_.pop_front();
    return;
  }
  if (!changes_leg(name)) return;
  auto [it, created] = legs_.try_emplace(call_id);
  auto& l = it->second;
  if (created) {
    // A leg first seen through a later event (out of order) is still a live channel.
    l.account_id = account_id;
    l.row = channel_row(call_id, account_id, data);
  }
  apply(l, name, str(data, "other_leg_call_id"));
}

void call_state::on_event(channel_event e) {
  if (e.call_id.empty()) return;
  auto it = legs_.find(e.call_id);
  if (e.name == "CHANNEL_DESTROY") {
    if (it != legs_.end()) legs_.erase(it);
    cdrs_.push_back(cdr{std::string(e.account_id), e.timestamp_g, std::string(e.call_id),
                        std::string(e.owner_id), json(), std::move(e.data)});
    while (cdrs_.size() > max_cdrs_) cdrs_.pop_front();
    return;
  }
  if (!changes_leg(e.name)) return;
  if (it == legs_.end()) {
    it = legs_.emplace(std::string(e.call_id), leg{}).first;
    it->second.account_id = e.account_id;
    it->second.source = std::move(e.data);
  }
  apply(it->second, e.name, e.other_leg_call_id);
}

json call_state::channels(const std::string& account_id) const {
  // Ordered by Call-ID, as before the map was hashed.
  std::vector<std::pair<const std::string*, const leg*>> mine;
  for (const auto& [id, l] : legs_) {
    if (l.account_id == account_id) mine.emplace_back(&id, &l);
  }
  std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  json rows = json::array();
  for (const auto& [idp, lp] : mine) {
    const auto& id = *idp;
    const auto& l = *lp;
    json row = l.row.is_null() && l.source ? channel_row(id, l.account_id, l.source()) : l.row;
    if (l.answered) row["answered"] = true;
    if (!l.other_leg.empty()) row["other_leg"] = l.other_leg;
    if (l.on_hold) row["on_hold"] = *l.on_hold;
    rows.push_back(std::move(row));
  }
  return rows;
}

cdr_page call_state::cdrs(const std::string& account_id, const cdr_query& q) const {
  struct hit {
    std::int64_t timestamp_g;
    std::string id;
    const cdr* row;
  };
  std::vector<hit> hits;
  for (const auto& c : cdrs_) {
    if (c.account_id != account_id || c.timestamp_g < q.created_from_g ||
        c.timestamp_g > q.created_to_g) {
      continue;
    }
    if (!q.owner_id.empty() && c.owner_id != q.owner_id) continue;
    hits.push_back(hit{c.timestamp_g, cdr_id(c.timestamp_g, c.call_id), &c});
  }
  auto less = [](const hit& a, const hit& b) {
    return a.timestamp_g != b.timestamp_g ? a.timestamp_g < b.timestamp_g : a.id < b.id;
  };
  if (q.ascending) {
    std::sort(hits.begin(), hits.end(), less);
  } else {
    std::sort(hits.begin(), hits.end(), [&](const hit& a, const hit& b) { return less(b, a); });
  }
  std::size_t first = 0;
  if (!q.start_key.empty()) {
    auto key = base64url_decode(q.start_key);
    auto bar = key.find('|');
    std::int64_t ts = 0;
    if (bar != std::string::npos) std::from_chars(key.data(), key.data() + bar, ts);
    hit key_row{ts, bar == std::string::npos ? std::string() : key.substr(bar + 1), nullptr};
    // Skip every row that sorts before the key in the requested order.
    while (first < hits.size() &&
           (q.ascending ? less(hits[first], key_row) : less(key_row, hits[first]))) {
      ++first;
    }
  }
  cdr_page page;
  auto last = std::min(hits.size(), first + q.page_size);
  for (auto i = first; i < last; ++i) {
    const auto& c = *hits[i].row;
    page.rows.push_back(c.row.is_null() && c.source ? cdr_row_from_destroy(c.source()) : c.row);
  }
  if (last < hits.size()) page.next_start_key = start_key_of(hits[last].timestamp_g, hits[last].id);
  return page;
}

}  // namespace kazoo_sim
