#pragma once
/// The daemon's configuration: one aggregate per component with documented defaults (style guide
/// B.6), loaded from TOML plus KAZOO_BRIDGE_<SECTION>_<KEY> environment overrides (design.md
/// "Configuration"). Pure: no I/O here except load_file() reading its file and
/// process_environment() reading environ.
///
/// Durations are std::chrono::milliseconds in C++; in the file and the environment they are plain
/// integers whose unit is the key's suffix (`read_timeout_ms`, `stale_call_timeout_s`), see
/// keys.hpp and docs/configuration.md.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kazoo_bridge::config {

/// [server]: our HTTP listener (OAuth pages, API, health, metrics).
struct server_config {
  std::string listen = "127.0.0.1:8080";             ///< host:port; port 0 = any free port
  std::string public_url = "http://127.0.0.1:8080";  ///< how browsers and Zapier reach us
  std::optional<std::string> tls_certificate, tls_private_key;  ///< PEM files; both or neither
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 1048576;
  std::chrono::milliseconds read_timeout{10000}, idle_timeout{30000};
  bool operator==(const server_config&) const = default;
};

/// [storage]: the SQLite database.
struct storage_config {
  std::string database = "/var/lib/kazoo-bridge/kazoo-bridge.db";
  std::string synchronous = "normal";             ///< normal|full (PRAGMA synchronous)
  std::chrono::milliseconds commit_max_delay{2};  ///< group-commit window
  std::size_t cache_mb = 32;                      ///< SQLite page cache of the daemon's connection
  bool operator==(const storage_config&) const = default;
};

/// [kazoo]: the Kazoo cluster we follow. The section and api_url, websocket_url, api_key are
/// required.
struct kazoo_config {
  std::string api_url, websocket_url, api_key;  // required
  std::vector<std::string> accounts;            ///< empty = the API key's own account
  bool include_internal_calls = true;
  std::optional<std::string> ca_file;  ///< extra CA for wss:// and https:// (private PKI)
  std::chrono::milliseconds stale_call_timeout{std::chrono::hours{4}};
  std::chrono::milliseconds reconnect_initial{500}, reconnect_max{30000};
  std::chrono::milliseconds ping_interval{30000}, idle_timeout{90000};
  std::chrono::milliseconds directory_refresh{300000};
  std::size_t ingest_queue = 10000;
  bool qubicle = false;  ///< subscribe qubicle.* bindings when offered
  bool operator==(const kazoo_config&) const = default;
};

/// [hooks]: REST hook delivery.
struct hooks_config {
  bool allow_private_targets = false;  ///< allow hook URLs on loopback / private / link-local
  std::chrono::milliseconds timeout{15000};  ///< one delivery attempt, connect included
  std::size_t rate_per_host = 30;            ///< requests per second per target host (Zapier: 30/s)
  std::size_t concurrency_per_host = 16;     ///< requests in flight per target host
  /// Seconds before each attempt, comma-separated (Standard Webhooks schedule); parse with
  /// parse_retry_schedule().
  std::string retry_schedule_s = "0,5,300,1800,7200,18000,36000,50400,72000,86400";
  std::chrono::milliseconds disable_after{std::chrono::hours{72}};  ///< failing this long: disabled
  std::size_t max_response_bytes = 4096;     ///< response body kept as the attempt's snippet
  std::size_t max_per_user = 100;            ///< hooks one user may have; POST beyond it: 400 too_many_hooks
  bool operator==(const hooks_config&) const = default;
};

/// [dial]: click-to-call, POST /api/v1/calls (docs/api.md "Click-to-call").
struct dial_config {
  std::string default_country = "US";  ///< ISO 3166-1 alpha-2 of national numbers (phone_number.hpp table)
  std::size_t calls_per_minute = 10;   ///< per user, sliding minute; then 429
  std::chrono::milliseconds ring_timeout{std::chrono::seconds{30}};  ///< quickcall `timeout` (> 3 s, §5.4)
  bool operator==(const dial_config&) const = default;
};

/// "0,5,300" -> {0 s, 5 s, 300 s}: 1..50 entries, each 0..604800 (spaces allowed);
/// nullopt when malformed.
std::optional<std::vector<std::chrono::seconds>> parse_retry_schedule(std::string_view text);

/// [oauth]: the OAuth 2.0 authorization server (docs/oauth.md).
struct oauth_config {
  std::chrono::milliseconds access_token_ttl{std::chrono::hours{1}};
  /// Counted from the last rotation; long, because Zapier keeps a connection for months.
  std::chrono::milliseconds refresh_token_ttl{std::chrono::hours{24 * 90}};
  /// After a rotation the previous refresh token still works this long (concurrent refreshes).
  std::chrono::milliseconds refresh_grace{std::chrono::seconds{60}};
  std::chrono::milliseconds code_ttl{std::chrono::seconds{60}};
  std::chrono::milliseconds login_form_ttl{std::chrono::minutes{10}};
  std::string product_name = "VoIP";
  std::optional<std::string> logo_url;  ///< absolute http(s) URL shown on the login page
  std::string primary_color = "#1f6feb";  ///< #rrggbb
  std::size_t login_attempts_per_ip = 20;   ///< failed logins per client IP per window
  std::size_t login_attempts_per_user = 5;  ///< failed logins per account/user name per window
  std::chrono::milliseconds login_window{std::chrono::minutes{15}};
  bool operator==(const oauth_config&) const = default;
};

/// [log]
struct log_config {
  std::string level = "info";   ///< trace|debug|info|warn|error
  std::string format = "text";  ///< text|json
  bool operator==(const log_config&) const = default;
};

struct config {
  server_config server;
  storage_config storage;
  kazoo_config kazoo;
  hooks_config hooks;
  oauth_config oauth;
  dial_config dial;
  log_config log;
  bool operator==(const config&) const = default;
};

/// One thing wrong with a configuration. key_path is the file key ("kazoo.api_url", the TOML name
/// with its unit suffix), an environment variable name ("KAZOO_BRIDGE_SERVER_LISTEN"), the file
/// name (unreadable file, TOML syntax error) or "" (syntax error in load_string()).
/// Messages never contain the value of a secret key.
struct problem {
  std::string key_path;
  std::string message;
  bool operator==(const problem&) const = default;
};

struct load_result {
  config cfg;
  std::vector<problem>
      problems;  ///< every problem found, in file order, then environment, then checks
  /// Not errors, but an operator should know (e.g. kazoo.api_key stored in the file).
  std::vector<problem> warnings;
  bool ok() const { return problems.empty(); }
};

/// Reads and parses `path`, applies `env` (name -> value; tests pass their own, the daemon passes
/// process_environment()) over it, then validate(). A missing or unreadable file or a TOML syntax
/// error ("line L, column C: ...") is a problem whose key_path is `path`.
load_result load_file(const std::string& path, const std::map<std::string, std::string>& env);

/// As load_file() for TOML text held in memory; syntax errors have key_path "".
load_result load_string(std::string_view toml_text, const std::map<std::string, std::string>& env);

/// The process environment (environ) as name -> value.
std::map<std::string, std::string> process_environment();

/// Pure semantic checks: URL schemes and hosts, listen host:port, enum values, ranges and
/// cross-key rules. key_path is always the file key. Does not touch the filesystem.
std::vector<problem> validate(const config& c);

/// "kazoo.api_url: required key is missing"; just the message when key_path is empty.
std::string format_problem(const problem& p);

}  // namespace kazoo_bridge::config
