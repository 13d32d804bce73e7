// Table-driven: for every key, a good value from the file, the same key with a wrong type, and an
// environment override over the file. The table must list every key of keys(), so a new key
// cannot ship untested.

#include <algorithm>
#include <functional>
#include <set>

#include <gtest/gtest.h>

#include <kazoo_bridge/config/config.hpp>
#include <kazoo_bridge/config/keys.hpp>

#include "config_test_util.hpp"

namespace kazoo_bridge::config {
namespace {

using test::dump;
using test::env_map;
using test::toml_doc;

std::string opt(const std::optional<std::string>& v) { return v ? *v : "<unset>"; }
std::string list(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "|") + s;
  return "[" + out + "]";
}
std::string ms(std::chrono::milliseconds v) { return std::to_string(v.count()); }
std::string b(bool v) { return v ? "true" : "false"; }

constexpr const char* acct1 = "0123456789abcdef0123456789abcdef";
constexpr const char* acct2 = "fedcba9876543210fedcba9876543210";

struct key_case {
  std::string path;
  std::string toml_value;   // TOML literal put in the file
  std::string file_expect;  // what the struct field reads as after loading it
  std::string env_value;    // environment variable value (file holds toml_value)
  std::string env_expect;   // what the field reads as after the override
  std::function<std::string(const config&)> read;
  std::map<std::string, std::string> extra{};  // other keys the value needs to be valid
};

// Readable test names in failure output instead of the bytes of the struct.
void PrintTo(const key_case& c, std::ostream* os) { *os << c.path; }

const std::vector<key_case>& cases() {
  static const std::vector<key_case> all{
      {"server.listen", "\"0.0.0.0:9000\"", "0.0.0.0:9000", "[::1]:0", "[::1]:0",
       [](const config& c) { return c.server.listen; }},
      {"server.public_url", "\"https://bridge.example.com\"", "https://bridge.example.com",
       "https://b2.example.com:8443/base", "https://b2.example.com:8443/base",
       [](const config& c) { return c.server.public_url; }},
      {"server.tls_certificate",
       "\"/etc/c.pem\"",
       "/etc/c.pem",
       "/etc/other.pem",
       "/etc/other.pem",
       [](const config& c) { return opt(c.server.tls_certificate); },
       {{"server.tls_private_key", "\"/etc/k.pem\""}}},
      {"server.tls_private_key",
       "\"/etc/k.pem\"",
       "/etc/k.pem",
       "/etc/k2.pem",
       "/etc/k2.pem",
       [](const config& c) { return opt(c.server.tls_private_key); },
       {{"server.tls_certificate", "\"/etc/c.pem\""}}},
      {"server.max_header_bytes", "16384", "16384", "4096", "4096",
       [](const config& c) { return std::to_string(c.server.max_header_bytes); }},
      {"server.max_body_bytes", "2097152", "2097152", "65536", "65536",
       [](const config& c) { return std::to_string(c.server.max_body_bytes); }},
      {"server.read_timeout_ms", "2500", "2500", "10", "10",
       [](const config& c) { return ms(c.server.read_timeout); }},
      {"server.idle_timeout_ms", "60000", "60000", "15", "15",
       [](const config& c) { return ms(c.server.idle_timeout); }},
      {"storage.database", "\"/tmp/x.db\"", "/tmp/x.db",
       ":memory:", ":memory:", [](const config& c) { return c.storage.database; }},
      {"storage.synchronous", "\"full\"", "full", "normal", "normal",
       [](const config& c) { return c.storage.synchronous; }},
      {"storage.commit_max_delay_ms", "0", "0", "25", "25",
       [](const config& c) { return ms(c.storage.commit_max_delay); }},
      {"kazoo.api_url", "\"https://crossbar.example.com/v2\"", "https://crossbar.example.com/v2",
       "http://127.0.0.1:8000/v2", "http://127.0.0.1:8000/v2",
       [](const config& c) { return c.kazoo.api_url; }},
      {"kazoo.websocket_url", "\"wss://bh.example.com:5556\"", "wss://bh.example.com:5556",
       "ws://127.0.0.1:5555", "ws://127.0.0.1:5555",
       [](const config& c) { return c.kazoo.websocket_url; }},
      {"kazoo.api_key", "\"file-key\"", "file-key", "env-key", "env-key",
       [](const config& c) { return c.kazoo.api_key; }},
      {"kazoo.accounts", std::string{"[\""} + acct1 + "\", \"" + acct2 + "\"]",
       std::string{"["} + acct1 + "|" + acct2 + "]", std::string{" "} + acct2 + " , ",
       std::string{"["} + acct2 + "]", [](const config& c) { return list(c.kazoo.accounts); }},
      {"kazoo.include_internal_calls", "false", "false", "TRUE", "true",
       [](const config& c) { return b(c.kazoo.include_internal_calls); }},
      {"kazoo.ca_file", "\"/etc/ca.pem\"", "/etc/ca.pem", "", "<unset>",
       [](const config& c) { return opt(c.kazoo.ca_file); }},
      {"kazoo.stale_call_timeout_s", "7200", "7200000", "60", "60000",
       [](const config& c) { return ms(c.kazoo.stale_call_timeout); }},
      {"kazoo.reconnect_initial_ms", "250", "250", "10", "10",
       [](const config& c) { return ms(c.kazoo.reconnect_initial); }},
      {"kazoo.reconnect_max_ms", "60000", "60000", "1000", "1000",
       [](const config& c) { return ms(c.kazoo.reconnect_max); }},
      {"kazoo.ping_interval_ms", "20000", "20000", "5000", "5000",
       [](const config& c) { return ms(c.kazoo.ping_interval); }},
      {"kazoo.idle_timeout_ms", "120000", "120000", "45000", "45000",
       [](const config& c) { return ms(c.kazoo.idle_timeout); }},
      {"kazoo.directory_refresh_s", "60", "60000", "1", "1000",
       [](const config& c) { return ms(c.kazoo.directory_refresh); }},
      {"storage.cache_mb", "64", "64", "8", "8",
       [](const config& c) { return std::to_string(c.storage.cache_mb); }},
      {"kazoo.ingest_queue", "500", "500", "1", "1",
       [](const config& c) { return std::to_string(c.kazoo.ingest_queue); }},
      {"kazoo.qubicle", "true", "true", "0", "false",
       [](const config& c) { return b(c.kazoo.qubicle); }},
      {"hooks.allow_private_targets", "true", "true", "false", "false",
       [](const config& c) { return b(c.hooks.allow_private_targets); }},
      {"hooks.timeout_s", "30", "30000", "5", "5000", [](const config& c) { return ms(c.hooks.timeout); }},
      {"hooks.rate_per_host", "100", "100", "10", "10",
       [](const config& c) { return std::to_string(c.hooks.rate_per_host); }},
      {"hooks.concurrency_per_host", "4", "4", "64", "64",
       [](const config& c) { return std::to_string(c.hooks.concurrency_per_host); }},
      {"hooks.retry_schedule_s", "\"0,60\"", "0,60", "0,1,2", "0,1,2",
       [](const config& c) { return c.hooks.retry_schedule_s; }},
      {"hooks.disable_after_s", "86400", "86400000", "3600", "3600000",
       [](const config& c) { return ms(c.hooks.disable_after); }},
      {"hooks.max_response_bytes", "0", "0", "1024", "1024",
       [](const config& c) { return std::to_string(c.hooks.max_response_bytes); }},
      {"hooks.max_per_user", "5", "5", "2000", "2000",
       [](const config& c) { return std::to_string(c.hooks.max_per_user); }},
      {"oauth.access_token_ttl_s", "600", "600000", "7200", "7200000",
       [](const config& c) { return ms(c.oauth.access_token_ttl); }},
      {"oauth.refresh_token_ttl_s", "86400", "86400000", "3600", "3600000",
       [](const config& c) { return ms(c.oauth.refresh_token_ttl); }},
      {"oauth.refresh_grace_s", "0", "0", "120", "120000",
       [](const config& c) { return ms(c.oauth.refresh_grace); }},
      {"oauth.code_ttl_s", "30", "30000", "600", "600000",
       [](const config& c) { return ms(c.oauth.code_ttl); }},
      {"oauth.login_form_ttl_s", "300", "300000", "1200", "1200000",
       [](const config& c) { return ms(c.oauth.login_form_ttl); }},
      {"oauth.product_name", "\"Acme Voice\"", "Acme Voice", "Phones & Co", "Phones & Co",
       [](const config& c) { return c.oauth.product_name; }},
      {"oauth.logo_url", "\"https://cdn.example.com/l.png\"", "https://cdn.example.com/l.png", "", "<unset>",
       [](const config& c) { return opt(c.oauth.logo_url); }},
      {"oauth.primary_color", "\"#AA0000\"", "#AA0000", "#00ff7f", "#00ff7f",
       [](const config& c) { return c.oauth.primary_color; }},
      {"oauth.login_attempts_per_ip", "50", "50", "3", "3",
       [](const config& c) { return std::to_string(c.oauth.login_attempts_per_ip); }},
      {"oauth.login_attempts_per_user", "10", "10", "1", "1",
       [](const config& c) { return std::to_string(c.oauth.login_attempts_per_user); }},
      {"oauth.login_window_s", "60", "60000", "3600", "3600000",
       [](const config& c) { return ms(c.oauth.login_window); }},
      {"dial.default_country", "\"GB\"", "GB", "DE", "DE",
       [](const config& c) { return c.dial.default_country; }},
      {"dial.calls_per_minute", "20", "20", "5", "5",
       [](const config& c) { return std::to_string(c.dial.calls_per_minute); }},
      {"dial.ring_timeout_s", "45", "45000", "20", "20000",
       [](const config& c) { return ms(c.dial.ring_timeout); }},
      {"log.level", "\"debug\"", "debug", "warn", "warn",
       [](const config& c) { return c.log.level; }},
      {"log.format", "\"json\"", "json", "text", "text",
       [](const config& c) { return c.log.format; }},
  };
  return all;
}

const key_info& info(const std::string& path) {
  auto dot = path.find('.');
  const auto* k = find_key(path.substr(0, dot), path.substr(dot + 1));
  if (!k) throw std::runtime_error("no key " + path);
  return *k;
}

// A TOML literal of the wrong type for the key, and the type toml++ reports for it.
std::pair<std::string, std::string> wrong_literal(key_type t) {
  switch (t) {
    case key_type::string:
    case key_type::optional_string:
      return {"42", "integer"};
    case key_type::boolean:
      return {"\"true\"", "string"};
    case key_type::size:
    case key_type::duration_ms:
    case key_type::duration_s:
      return {"1.5", "float"};
    case key_type::string_list:
      return {"\"abc\"", "string"};
  }
  return {};
}

std::string expected_word(key_type t) {
  switch (t) {
    case key_type::string:
    case key_type::optional_string:
      return "a string";
    case key_type::boolean:
      return "a boolean";
    case key_type::string_list:
      return "an array of strings";
    default:
      return "an integer";
  }
}

class each_key : public ::testing::TestWithParam<key_case> {};

TEST_P(each_key, good_value_in_the_file_reaches_the_struct) {
  const auto& c = GetParam();
  auto overrides = c.extra;
  overrides[c.path] = c.toml_value;
  auto r = load_string(toml_doc(overrides), {});
  EXPECT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_EQ(c.read(r.cfg), c.file_expect);
  EXPECT_NE(c.read(config{}), c.file_expect) << "the test value must differ from the default";
  // No other field moved: the key is wired to its own field and nothing else.
  for (const auto& k : keys()) {
    if (k.path() == c.path || k.required || c.extra.contains(k.path())) continue;
    EXPECT_EQ(format_value(r.cfg, k), format_value(config{}, k)) << k.path();
  }
}

TEST_P(each_key, wrong_type_names_the_key_and_both_types) {
  const auto& c = GetParam();
  const auto& k = info(c.path);
  auto [literal, got] = wrong_literal(k.type);
  auto overrides = c.extra;
  overrides[c.path] = literal;
  auto r = load_string(toml_doc(overrides), {});
  ASSERT_EQ(r.problems.size(), 1u) << dump(r.problems);
  EXPECT_EQ(format_problem(r.problems[0]),
            c.path + ": expected " + expected_word(k.type) + ", got " + got);
  EXPECT_EQ(c.read(r.cfg), c.read(config{})) << "a rejected value must not be stored";
}

TEST_P(each_key, environment_overrides_the_file) {
  const auto& c = GetParam();
  const auto& k = info(c.path);
  auto overrides = c.extra;
  overrides[c.path] = c.toml_value;
  env_map env{{k.env_var(), c.env_value}};
  auto r = load_string(toml_doc(overrides), env);
  EXPECT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_EQ(c.read(r.cfg), c.env_expect);
}

INSTANTIATE_TEST_SUITE_P(config, each_key, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<key_case>& p) {
                           std::string n = p.param.path;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

TEST(key_table, the_table_above_covers_every_key) {
  std::set<std::string> tested;
  for (const auto& c : cases()) tested.insert(c.path);
  for (const auto& k : keys())
    EXPECT_TRUE(tested.contains(k.path())) << k.path() << " has no test row";
  EXPECT_EQ(tested.size(), keys().size());
}

TEST(key_table, env_names_follow_section_and_key_in_upper_case) {
  EXPECT_EQ(info("server.listen").env_var(), "KAZOO_BRIDGE_SERVER_LISTEN");
  EXPECT_EQ(info("kazoo.stale_call_timeout_s").env_var(),
            "KAZOO_BRIDGE_KAZOO_STALE_CALL_TIMEOUT_S");
  EXPECT_EQ(info("kazoo.api_key").env_var(), "KAZOO_BRIDGE_KAZOO_API_KEY");
}

TEST(key_table, bad_environment_values_name_the_variable) {
  struct row {
    std::string var, value, message;
  };
  const std::vector<row> rows{
      {"KAZOO_BRIDGE_SERVER_MAX_BODY_BYTES", "1M",
       "expected an integer for server.max_body_bytes, got \"1M\""},
      {"KAZOO_BRIDGE_SERVER_MAX_HEADER_BYTES", "-5",
       "value for server.max_header_bytes must not be negative, got \"-5\""},
      {"KAZOO_BRIDGE_KAZOO_PING_INTERVAL_MS", "",
       "expected an integer for kazoo.ping_interval_ms, got \"\""},
      {"KAZOO_BRIDGE_KAZOO_STALE_CALL_TIMEOUT_S", "99999999999999999999",
       "value for kazoo.stale_call_timeout_s is out of range, got \"99999999999999999999\""},
      {"KAZOO_BRIDGE_KAZOO_STALE_CALL_TIMEOUT_S", "9223372036854776",
       "value for kazoo.stale_call_timeout_s is out of range, got \"9223372036854776\""},
      {"KAZOO_BRIDGE_KAZOO_QUBICLE", "yes",
       "expected true, false, 1 or 0 for kazoo.qubicle, got \"yes\""},
      {"KAZOO_BRIDGE_HOOKS_ALLOW_PRIVATE_TARGETS", "2",
       "expected true, false, 1 or 0 for hooks.allow_private_targets, got \"2\""},
  };
  for (const auto& r : rows) {
    auto res = load_string(toml_doc(), {{r.var, r.value}});
    ASSERT_EQ(res.problems.size(), 1u) << r.var << "\n" << dump(res.problems);
    EXPECT_EQ(res.problems[0].key_path, r.var);
    EXPECT_EQ(res.problems[0].message, r.message);
    EXPECT_EQ(res.cfg, load_string(toml_doc(), {}).cfg) << r.var << ": rejected value was stored";
  }
}

TEST(key_table, format_value_writes_toml_literals_and_hides_secrets) {
  config c;
  c.kazoo.api_key = "super-secret";
  c.kazoo.accounts = {acct1, acct2};
  EXPECT_EQ(format_value(c, info("server.listen")), "\"127.0.0.1:8080\"");
  EXPECT_EQ(format_value(c, info("kazoo.stale_call_timeout_s")), "14400");
  EXPECT_EQ(format_value(c, info("kazoo.reconnect_initial_ms")), "500");
  EXPECT_EQ(format_value(c, info("kazoo.include_internal_calls")), "true");
  EXPECT_EQ(format_value(c, info("kazoo.accounts")),
            std::string{"[\""} + acct1 + "\", \"" + acct2 + "\"]");
  EXPECT_EQ(format_value(c, info("server.tls_certificate")), "");
  EXPECT_EQ(format_value(c, info("kazoo.api_key")), "\"[redacted]\"");
}

}  // namespace
}  // namespace kazoo_bridge::config
