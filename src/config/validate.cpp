#include <algorithm>
#include <cstdint>
#include <set>

#include <kazoo_bridge/common/phone_number.hpp>
#include <kazoo_bridge/config/keys.hpp>

#include "config/address.hpp"

namespace kazoo_bridge::config {
namespace {

using std::chrono::milliseconds;

class checker {
 public:
  std::vector<problem> problems;

  void add(std::string path, std::string message) {
    problems.push_back({std::move(path), std::move(message)});
  }

  void url(const std::string& path, const std::string& value,
           std::initializer_list<std::string_view> schemes) {
    if (value.empty()) return add(path, "must not be empty");
    if (auto e = detail::check_url(value, schemes)) add(path, *e);
  }

  void one_of(const std::string& path, const std::string& value,
              std::initializer_list<std::string_view> allowed) {
    if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : "|") + std::string{a};
    add(path, "must be one of " + list + ", got \"" + value + "\"");
  }

  void range(const std::string& path, std::size_t v, std::size_t lo, std::size_t hi) {
    if (v < lo || v > hi) {
      add(path, "must be from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " +
                    std::to_string(v));
    }
  }

  // `unit_s`: the key is written in seconds (…_s), so the message speaks seconds too.
  void positive(const std::string& path, milliseconds v, bool unit_s = false) {
    if (v.count() > 0) return;
    add(path,
        "must be greater than 0, got " + std::to_string(unit_s ? v.count() / 1000 : v.count()));
  }

  void not_empty(const std::string& path, const std::optional<std::string>& v) {
    if (v && v->empty()) add(path, "must not be empty when set (omit the key instead)");
  }
};

bool is_account_id(const std::string& id) {
  // Kazoo ids are 32 lowercase hex characters (reference/kazoo.md §2, e.g. the subscribe example);
  // blackhole matches subscriptions on the exact id, so "ABC…" would silently match nothing.
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
         });
}

}  // namespace

std::optional<std::vector<std::chrono::seconds>> parse_retry_schedule(std::string_view text) {
  std::vector<std::chrono::seconds> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    auto j = text.find(',', i);
    if (j == std::string_view::npos) j = text.size();
    auto item = text.substr(i, j - i);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty() || item.size() > 6) return std::nullopt;
    std::int64_t v = 0;
    for (char ch : item) {
      if (ch < '0' || ch > '9') return std::nullopt;
      v = v * 10 + (ch - '0');
    }
    if (v > 604800) return std::nullopt;  // a week between two attempts is surely a typo
    out.emplace_back(v);
    i = j + 1;
  }
  if (out.empty() || out.size() > 50) return std::nullopt;
  return out;
}

std::vector<problem> validate(const config& c) {
  checker ck;

  const auto& s = c.server;
  if (auto e = detail::check_listen(s.listen)) ck.add("server.listen", *e);
  ck.url("server.public_url", s.public_url, {"http", "https"});
  ck.not_empty("server.tls_certificate", s.tls_certificate);
  ck.not_empty("server.tls_private_key", s.tls_private_key);
  if (s.tls_certificate.has_value() != s.tls_private_key.has_value()) {
    ck.add(
        s.tls_certificate ? "server.tls_private_key" : "server.tls_certificate",
        "must be set together with " +
            std::string{s.tls_certificate ? "server.tls_certificate" : "server.tls_private_key"});
  }
  // Below 1 KiB not even a browser's request line with cookies fits.
  ck.range("server.max_header_bytes", s.max_header_bytes, 1024, 1048576);
  ck.range("server.max_body_bytes", s.max_body_bytes, 1024, 1073741824);
  ck.positive("server.read_timeout_ms", s.read_timeout);
  ck.positive("server.idle_timeout_ms", s.idle_timeout);

  const auto& st = c.storage;
  if (st.database.empty()) ck.add("storage.database", "must not be empty");
  // "off" would let a power cut lose acknowledged events, breaking the outbox guarantee
  // (design.md "Data flow").
  ck.one_of("storage.synchronous", st.synchronous, {"normal", "full"});
  ck.range("storage.cache_mb", st.cache_mb, 1, 4096);
  if (st.commit_max_delay.count() < 0 || st.commit_max_delay.count() > 1000) {
    ck.add("storage.commit_max_delay_ms",
           "must be from 0 to 1000, got " + std::to_string(st.commit_max_delay.count()));
  }

  const auto& k = c.kazoo;
  ck.url("kazoo.api_url", k.api_url, {"http", "https"});
  // Blackhole listens on ws:// (port 5555) or, with blackhole.use_ssl, wss:// (5556)
  // (reference/kazoo.md §2).
  ck.url("kazoo.websocket_url", k.websocket_url, {"ws", "wss"});
  if (k.api_key.empty()) ck.add("kazoo.api_key", "must not be empty");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < k.accounts.size(); ++i) {
    std::string path = "kazoo.accounts[" + std::to_string(i) + "]";
    if (!is_account_id(k.accounts[i])) {
      ck.add(path, "must be a Kazoo account id (32 lowercase hex characters)");
    } else if (!seen.insert(k.accounts[i]).second) {
      ck.add(path, "is listed twice");
    }
  }
  ck.not_empty("kazoo.ca_file", k.ca_file);
  ck.positive("kazoo.stale_call_timeout_s", k.stale_call_timeout, true);
  ck.positive("kazoo.reconnect_initial_ms", k.reconnect_initial);
  ck.positive("kazoo.reconnect_max_ms", k.reconnect_max);
  if (k.reconnect_initial.count() > 0 && k.reconnect_max < k.reconnect_initial) {
    ck.add("kazoo.reconnect_max_ms", "must not be less than kazoo.reconnect_initial_ms");
  }
  ck.positive("kazoo.ping_interval_ms", k.ping_interval);
  ck.positive("kazoo.idle_timeout_ms", k.idle_timeout);
  // Blackhole's cowboy idle_timeout is 1 hour and only client frames reset it
  // (reference/kazoo.md §2 "Keepalive"): a slower ping gets us disconnected.
  if (k.ping_interval > milliseconds{3600000}) {
    ck.add("kazoo.ping_interval_ms",
           "must be at most 3600000 (blackhole drops idle clients after 1 hour)");
  }
  if (k.ping_interval.count() > 0 && k.idle_timeout.count() > 0 &&
      k.idle_timeout <= k.ping_interval) {
    ck.add(
        "kazoo.idle_timeout_ms",
        "must be greater than kazoo.ping_interval_ms (else every pause between pings looks dead)");
  }
  ck.positive("kazoo.directory_refresh_s", k.directory_refresh, true);
  ck.range("kazoo.ingest_queue", k.ingest_queue, 1, 10000000);

  const auto& h = c.hooks;
  if (h.timeout < milliseconds{1000} || h.timeout > milliseconds{300000}) {
    ck.add("hooks.timeout_s", "must be from 1 to 300, got " + std::to_string(h.timeout.count() / 1000));
  }
  ck.range("hooks.rate_per_host", h.rate_per_host, 1, 100000);
  ck.range("hooks.concurrency_per_host", h.concurrency_per_host, 1, 1000);
  if (!parse_retry_schedule(h.retry_schedule_s)) {
    ck.add("hooks.retry_schedule_s",
           "must be 1 to 50 comma-separated whole seconds, each 0..604800, e.g. \"0,5,300\"; got \"" +
               h.retry_schedule_s + "\"");
  }
  // Below a minute one short outage of the subscriber would disable it.
  if (h.disable_after < milliseconds{60000}) ck.add("hooks.disable_after_s", "must be at least 60");
  ck.range("hooks.max_response_bytes", h.max_response_bytes, 0, 65536);
  ck.range("hooks.max_per_user", h.max_per_user, 1, 100000);

  const auto& o = c.oauth;
  ck.positive("oauth.access_token_ttl_s", o.access_token_ttl, true);
  ck.positive("oauth.refresh_token_ttl_s", o.refresh_token_ttl, true);
  if (o.refresh_grace.count() < 0 || o.refresh_grace > milliseconds{3600000}) {
    ck.add("oauth.refresh_grace_s", "must be from 0 to 3600");  // a long grace weakens reuse detection
  }
  // RFC 6749 §4.1.2: codes are short-lived, 10 minutes at most.
  if (o.code_ttl.count() <= 0 || o.code_ttl > milliseconds{600000}) {
    ck.add("oauth.code_ttl_s", "must be from 1 to 600, got " + std::to_string(o.code_ttl.count() / 1000));
  }
  ck.positive("oauth.login_form_ttl_s", o.login_form_ttl, true);
  if (o.product_name.empty()) ck.add("oauth.product_name", "must not be empty");
  ck.not_empty("oauth.logo_url", o.logo_url);
  if (o.logo_url && !o.logo_url->empty()) ck.url("oauth.logo_url", *o.logo_url, {"http", "https"});
  const bool hex_color = o.primary_color.size() == 7 && o.primary_color[0] == '#' &&
                         std::all_of(o.primary_color.begin() + 1, o.primary_color.end(), [](char ch) {
                           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
                         });
  if (!hex_color) ck.add("oauth.primary_color", "must be a colour written #rrggbb, got \"" + o.primary_color + "\"");
  ck.range("oauth.login_attempts_per_ip", o.login_attempts_per_ip, 1, 100000);
  ck.range("oauth.login_attempts_per_user", o.login_attempts_per_user, 1, 100000);
  ck.positive("oauth.login_window_s", o.login_window, true);

  const auto& d = c.dial;
  if (phone::find_country(d.default_country) == nullptr) {
    ck.add("dial.default_country", "must be one of " + phone::supported_country_list() + " (ISO 3166-1 alpha-2, upper "
           "case), got \"" + d.default_country + "\"");
  }
  ck.range("dial.calls_per_minute", d.calls_per_minute, 1, 1000);
  // cb_quickcall refuses a timeout of 3 s or less (reference/kazoo.md §5.4).
  if (d.ring_timeout < milliseconds{4000} || d.ring_timeout > milliseconds{300000}) {
    ck.add("dial.ring_timeout_s", "must be from 4 to 300, got " + std::to_string(d.ring_timeout.count() / 1000));
  }

  ck.one_of("log.level", c.log.level, {"trace", "debug", "info", "warn", "error"});
  ck.one_of("log.format", c.log.format, {"text", "json"});

  return std::move(ck.problems);
}

}  // namespace kazoo_bridge::config
