#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <string>

#include <kazoo_bridge/config/keys.hpp>

namespace kazoo_bridge::config {
namespace {

using kt = key_type;

// File order. Durations carry their unit in the key name (docs/configuration.md "Durations"),
// so a value is an integer and "500" can never be misread as seconds.
const key_info key_table[] = {
    {"server", "listen", kt::string, false, false,
     "host:port to listen on; port 0 = any free port (the chosen port is logged)",
     [](config& c) -> field_ref { return &c.server.listen; }},
    {"server", "public_url", kt::string, false, false,
     "http(s) URL where browsers and Zapier reach us; used in redirects and OAuth metadata",
     [](config& c) -> field_ref { return &c.server.public_url; }},
    {"server", "tls_certificate", kt::optional_string, false, false,
     "PEM certificate chain; serve HTTPS (needs tls_private_key)",
     [](config& c) -> field_ref { return &c.server.tls_certificate; }},
    {"server", "tls_private_key", kt::optional_string, false, false,
     "PEM private key of tls_certificate",
     [](config& c) -> field_ref { return &c.server.tls_private_key; }},
    {"server", "max_header_bytes", kt::size, false, false,
     "largest accepted request header block (1024..1048576)",
     [](config& c) -> field_ref { return &c.server.max_header_bytes; }},
    {"server", "max_body_bytes", kt::size, false, false,
     "largest accepted request body (1024..1073741824)",
     [](config& c) -> field_ref { return &c.server.max_body_bytes; }},
    {"server", "read_timeout_ms", kt::duration_ms, false, false,
     "time a client has to send one whole request",
     [](config& c) -> field_ref { return &c.server.read_timeout; }},
    {"server", "idle_timeout_ms", kt::duration_ms, false, false,
     "keep-alive connections idle this long are closed",
     [](config& c) -> field_ref { return &c.server.idle_timeout; }},

    {"storage", "database", kt::string, false, false, "SQLite database file (created if missing)",
     [](config& c) -> field_ref { return &c.storage.database; }},
    {"storage", "synchronous", kt::string, false, false, "SQLite PRAGMA synchronous: normal|full",
     [](config& c) -> field_ref { return &c.storage.synchronous; }},
    {"storage", "commit_max_delay_ms", kt::duration_ms, false, false,
     "group commit: longest wait to batch events into one transaction (0..1000)",
     [](config& c) -> field_ref { return &c.storage.commit_max_delay; }},
    {"storage", "cache_mb", kt::size, false, false,
     "SQLite page cache of the daemon's connection, MB (1..4096): REST hook delivery's indexes fit in it",
     [](config& c) -> field_ref { return &c.storage.cache_mb; }},

    {"kazoo", "api_url", kt::string, true, false, "Crossbar base URL, http(s)://host:port/v2",
     [](config& c) -> field_ref { return &c.kazoo.api_url; }},
    {"kazoo", "websocket_url", kt::string, true, false,
     "blackhole WebSocket URL, ws://host:5555 or wss://host:5556",
     [](config& c) -> field_ref { return &c.kazoo.websocket_url; }},
    {"kazoo", "api_key", kt::string, true, true,
     "account API key (PUT /v2/api_auth); secret, prefer the environment variable",
     [](config& c) -> field_ref { return &c.kazoo.api_key; }},
    {"kazoo", "accounts", kt::string_list, false, false,
     "account ids (32 lowercase hex) to follow; empty = the API key's own account",
     [](config& c) -> field_ref { return &c.kazoo.accounts; }},
    {"kazoo", "include_internal_calls", kt::boolean, false, false,
     "report extension-to-extension calls",
     [](config& c) -> field_ref { return &c.kazoo.include_internal_calls; }},
    {"kazoo", "ca_file", kt::optional_string, false, false,
     "extra PEM CA bundle trusted for wss:// and https:// to Kazoo (private PKI)",
     [](config& c) -> field_ref { return &c.kazoo.ca_file; }},
    {"kazoo", "stale_call_timeout_s", kt::duration_s, false, false,
     "a call with no event for this long is ended as stale",
     [](config& c) -> field_ref { return &c.kazoo.stale_call_timeout; }},
    {"kazoo", "reconnect_initial_ms", kt::duration_ms, false, false,
     "first reconnect delay after the WebSocket drops (then doubled, with jitter)",
     [](config& c) -> field_ref { return &c.kazoo.reconnect_initial; }},
    {"kazoo", "reconnect_max_ms", kt::duration_ms, false, false, "longest reconnect delay",
     [](config& c) -> field_ref { return &c.kazoo.reconnect_max; }},
    {"kazoo", "ping_interval_ms", kt::duration_ms, false, false,
     "WebSocket ping interval (blackhole closes connections idle for 1 hour)",
     [](config& c) -> field_ref { return &c.kazoo.ping_interval; }},
    {"kazoo", "idle_timeout_ms", kt::duration_ms, false, false,
     "reconnect when nothing (not even a pong) arrived for this long",
     [](config& c) -> field_ref { return &c.kazoo.idle_timeout; }},
    {"kazoo", "directory_refresh_s", kt::duration_s, false, false,
     "how often users and devices are re-read from Crossbar",
     [](config& c) -> field_ref { return &c.kazoo.directory_refresh; }},
    {"kazoo", "ingest_queue", kt::size, false, false,
     "raw events buffered between the WebSocket and the call tracker (back-pressure above)",
     [](config& c) -> field_ref { return &c.kazoo.ingest_queue; }},
    {"kazoo", "qubicle", kt::boolean, false, false,
     "subscribe to qubicle.* (call center queue) bindings when Kazoo offers them",
     [](config& c) -> field_ref { return &c.kazoo.qubicle; }},

    {"hooks", "allow_private_targets", kt::boolean, false, false,
     "allow hook URLs on loopback, private and link-local addresses",
     [](config& c) -> field_ref { return &c.hooks.allow_private_targets; }},
    {"hooks", "timeout_s", kt::duration_s, false, false,
     "one delivery attempt (connect, TLS, request, response) is cut off after this (1..300)",
     [](config& c) -> field_ref { return &c.hooks.timeout; }},
    {"hooks", "rate_per_host", kt::size, false, false,
     "deliveries per second to one target host (1..100000)",
     [](config& c) -> field_ref { return &c.hooks.rate_per_host; }},
    {"hooks", "concurrency_per_host", kt::size, false, false,
     "deliveries in flight to one target host (1..1000)",
     [](config& c) -> field_ref { return &c.hooks.concurrency_per_host; }},
    {"hooks", "retry_schedule_s", kt::string, false, false,
     "seconds before each attempt, comma-separated; the first is the first attempt (usually 0)",
     [](config& c) -> field_ref { return &c.hooks.retry_schedule_s; }},
    {"hooks", "disable_after_s", kt::duration_s, false, false,
     "a hook with no successful delivery for this long is disabled (>= 60)",
     [](config& c) -> field_ref { return &c.hooks.disable_after; }},
    {"hooks", "max_response_bytes", kt::size, false, false,
     "response body bytes kept in the attempt log; the rest is not read (0..65536)",
     [](config& c) -> field_ref { return &c.hooks.max_response_bytes; }},
    {"hooks", "max_per_user", kt::size, false, false,
     "hooks one user may have at a time; one more is refused with 400 too_many_hooks (1..100000)",
     [](config& c) -> field_ref { return &c.hooks.max_per_user; }},

    {"oauth", "access_token_ttl_s", kt::duration_s, false, false, "lifetime of an OAuth access token",
     [](config& c) -> field_ref { return &c.oauth.access_token_ttl; }},
    {"oauth", "refresh_token_ttl_s", kt::duration_s, false, false,
     "lifetime of a refresh token, counted from its issue (each refresh issues a new one)",
     [](config& c) -> field_ref { return &c.oauth.refresh_token_ttl; }},
    {"oauth", "refresh_grace_s", kt::duration_s, false, false,
     "after a refresh, the previous refresh token still works this long (concurrent refreshes)",
     [](config& c) -> field_ref { return &c.oauth.refresh_grace; }},
    {"oauth", "code_ttl_s", kt::duration_s, false, false, "lifetime of an authorization code (1..600)",
     [](config& c) -> field_ref { return &c.oauth.code_ttl; }},
    {"oauth", "login_form_ttl_s", kt::duration_s, false, false,
     "how long a login page may stay open before it must be reloaded",
     [](config& c) -> field_ref { return &c.oauth.login_form_ttl; }},
    {"oauth", "product_name", kt::string, false, false, "name shown on the login page (\"Sign in to ...\")",
     [](config& c) -> field_ref { return &c.oauth.product_name; }},
    {"oauth", "logo_url", kt::optional_string, false, false, "absolute http(s) URL of a logo for the login page",
     [](config& c) -> field_ref { return &c.oauth.logo_url; }},
    {"oauth", "primary_color", kt::string, false, false, "login page accent colour, #rrggbb",
     [](config& c) -> field_ref { return &c.oauth.primary_color; }},
    {"oauth", "login_attempts_per_ip", kt::size, false, false,
     "failed logins allowed per client IP within login_window_s (then 429)",
     [](config& c) -> field_ref { return &c.oauth.login_attempts_per_ip; }},
    {"oauth", "login_attempts_per_user", kt::size, false, false,
     "failed logins allowed per account and user name within login_window_s (then 429)",
     [](config& c) -> field_ref { return &c.oauth.login_attempts_per_user; }},
    {"oauth", "login_window_s", kt::duration_s, false, false, "sliding window of the login throttling",
     [](config& c) -> field_ref { return &c.oauth.login_window; }},

    {"dial", "default_country", kt::string, false, false,
     "ISO 3166-1 alpha-2 country of numbers dialled without + (US, GB, ...; docs/api.md lists them)",
     [](config& c) -> field_ref { return &c.dial.default_country; }},
    {"dial", "calls_per_minute", kt::size, false, false, "click-to-call requests allowed per user per minute (1..1000)",
     [](config& c) -> field_ref { return &c.dial.calls_per_minute; }},
    {"dial", "ring_timeout_s", kt::duration_s, false, false,
     "how long Kazoo rings the user's phone before giving up (4..300)",
     [](config& c) -> field_ref { return &c.dial.ring_timeout; }},

    {"log", "level", kt::string, false, false, "trace|debug|info|warn|error",
     [](config& c) -> field_ref { return &c.log.level; }},
    {"log", "format", kt::string, false, false, "text|json (one JSON object per line)",
     [](config& c) -> field_ref { return &c.log.format; }},
};

const std::array<std::string_view, 7> section_table{"server", "storage", "kazoo", "hooks", "oauth", "dial",
                                                    "log"};

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += ch;
    }
  }
  return out + "\"";
}

}  // namespace

std::string key_info::path() const {
  std::string p{section};
  p += '.';
  p += name;
  return p;
}

std::string key_info::env_var() const {
  std::string v{env_prefix};
  for (char ch : path()) {
    v += ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return v;
}

std::span<const key_info> keys() { return key_table; }

std::span<const std::string_view> sections() { return section_table; }

const key_info* find_key(std::string_view section, std::string_view name) {
  auto it = std::find_if(std::begin(key_table), std::end(key_table),
                         [&](const key_info& k) { return k.section == section && k.name == name; });
  return it == std::end(key_table) ? nullptr : &*it;
}

std::string format_value(const config& c, const key_info& k) {
  // The accessor takes a mutable config; we only read through it.
  auto ref = k.field(const_cast<config&>(c));
  struct visitor {
    const key_info& k;
    std::string operator()(std::string* v) const {
      return k.secret && !v->empty() ? toml_string("[redacted]") : toml_string(*v);
    }
    std::string operator()(std::optional<std::string>* v) const {
      if (!*v) return "";
      return k.secret ? toml_string("[redacted]") : toml_string(**v);
    }
    std::string operator()(bool* v) const { return *v ? "true" : "false"; }
    std::string operator()(std::size_t* v) const { return std::to_string(*v); }
    std::string operator()(std::chrono::milliseconds* v) const {
      auto ms = v->count();
      return std::to_string(k.type == key_type::duration_s ? ms / 1000 : ms);
    }
    std::string operator()(std::vector<std::string>* v) const {
      std::string out = "[";
      for (std::size_t i = 0; i < v->size(); ++i) out += (i ? ", " : "") + toml_string((*v)[i]);
      return out + "]";
    }
  };
  return std::visit(visitor{k}, ref);
}

}  // namespace kazoo_bridge::config
