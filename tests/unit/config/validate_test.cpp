// validate(): the semantic rules, one table per rule family.

#include <functional>

#include <gtest/gtest.h>

#include <kazoo_bridge/config/config.hpp>

#include "config_test_util.hpp"

namespace kazoo_bridge::config {
namespace {

using test::dump;

config valid() {
  config c;
  c.kazoo.api_url = test::good_api_url;
  c.kazoo.websocket_url = test::good_ws_url;
  c.kazoo.api_key = "k";
  return c;
}

// The problems validate() finds after `mutate`, formatted.
std::vector<std::string> problems_after(const std::function<void(config&)>& mutate) {
  auto c = valid();
  mutate(c);
  std::vector<std::string> out;
  for (const auto& p : validate(c)) out.push_back(format_problem(p));
  return out;
}

TEST(validate, defaults_plus_required_values_are_valid) {
  EXPECT_TRUE(validate(valid()).empty()) << dump(validate(valid()));
}

TEST(validate, default_config_lacks_only_the_required_values) {
  std::vector<std::string> got;
  for (const auto& p : validate(config{})) got.push_back(format_problem(p));
  EXPECT_EQ(got, (std::vector<std::string>{"kazoo.api_url: must not be empty",
                                           "kazoo.websocket_url: must not be empty",
                                           "kazoo.api_key: must not be empty"}));
}

TEST(validate, listen_is_host_and_port) {
  struct row {
    std::string value;
    std::string error;  // "" = accepted
  };
  const std::vector<row> rows{
      {"127.0.0.1:8080", ""},
      {"127.0.0.1:0", ""},  // any free port
      {"0.0.0.0:65535", ""},
      {"localhost:80", ""},
      {"[::1]:8080", ""},
      {"[::]:0", ""},
      {"127.0.0.1", "must be host:port, e.g. 127.0.0.1:8080"},
      {"127.0.0.1:", "must be host:port with a port from 0 to 65535"},
      {"127.0.0.1:65536", "must be host:port with a port from 0 to 65535"},
      {"127.0.0.1:http", "must be host:port with a port from 0 to 65535"},
      {"127.0.0.1:-1", "must be host:port with a port from 0 to 65535"},
      {":8080", "must be host:port: the host is missing"},
      {"::1:8080", "an IPv6 address must be written in brackets, e.g. [::1]:8080"},
      {"[::1:8080", "an IPv6 address must be written in brackets, e.g. [::1]:8080"},
      {"bad host:80", "must be host:port: the host contains characters not allowed in a host name"},
      {"", "must be host:port, e.g. 127.0.0.1:8080"},
  };
  for (const auto& r : rows) {
    auto got = problems_after([&](config& c) { c.server.listen = r.value; });
    if (r.error.empty()) {
      EXPECT_TRUE(got.empty()) << r.value << ": " << got.front();
    } else {
      EXPECT_EQ(got, std::vector<std::string>{"server.listen: " + r.error}) << r.value;
    }
  }
}

TEST(validate, url_schemes_and_shapes) {
  struct row {
    std::string key;  // which URL key the value goes to
    std::string value;
    std::string error;
  };
  const std::vector<row> rows{
      {"kazoo.websocket_url", "ws://kazoo.example.com:5555", ""},
      {"kazoo.websocket_url", "wss://kazoo.example.com:5556/", ""},
      {"kazoo.websocket_url", "WSS://Kazoo.Example.com", ""},
      {"kazoo.websocket_url", "ws://[2001:db8::1]:5555", ""},
      {"kazoo.websocket_url", "http://kazoo.example.com:5555",
       "must start with ws:// or wss://, not http://"},
      {"kazoo.websocket_url", "https://kazoo.example.com",
       "must start with ws:// or wss://, not https://"},
      {"kazoo.websocket_url", "kazoo.example.com:5555",
       "must be a URL starting with ws:// or wss://"},
      {"kazoo.websocket_url", "ws://:5555", "has a bad host: the host is missing"},
      {"kazoo.websocket_url", "ws://kazoo:0", "has a bad port: it must be from 1 to 65535"},
      {"kazoo.websocket_url", "ws://kazoo:99999", "has a bad port: it must be from 1 to 65535"},
      {"kazoo.api_url", "http://kazoo.example.com:8000/v2", ""},
      {"kazoo.api_url", "https://kazoo.example.com/v2", ""},
      {"kazoo.api_url", "ws://kazoo.example.com:8000/v2",
       "must start with http:// or https://, not ws://"},
      {"kazoo.api_url", "http://admin:pw@kazoo.example.com/v2",
       "must not contain user:password@ (credentials go in their own keys)"},
      {"kazoo.api_url", "http://kazoo.example.com/v2?x=1",
       "must not contain a query (?) or fragment (#)"},
      {"kazoo.api_url", "http://kazoo example.com/v2",
       "must not contain spaces or control characters"},
      {"kazoo.api_url", "http://::1/v2",
       "has a bad host: an IPv6 address must be written in brackets, e.g. [::1]"},
      {"server.public_url", "https://bridge.example.com", ""},
      {"server.public_url", "http://127.0.0.1:8080", ""},
      {"server.public_url", "ftp://bridge.example.com",
       "must start with http:// or https://, not ftp://"},
      {"server.public_url", "https://bridge.example.com/#x",
       "must not contain a query (?) or fragment (#)"},
      {"server.public_url", "", "must not be empty"},
  };
  for (const auto& r : rows) {
    auto got = problems_after([&](config& c) {
      if (r.key == "kazoo.websocket_url") c.kazoo.websocket_url = r.value;
      if (r.key == "kazoo.api_url") c.kazoo.api_url = r.value;
      if (r.key == "server.public_url") c.server.public_url = r.value;
    });
    if (r.error.empty()) {
      EXPECT_TRUE(got.empty()) << r.value << ": " << got.front();
    } else {
      EXPECT_EQ(got, std::vector<std::string>{r.key + ": " + r.error}) << r.value;
    }
  }
}

TEST(validate, url_problems_do_not_repeat_credentials) {
  auto got = problems_after([](config& c) { c.kazoo.api_url = "http://admin:hunter2@k/v2"; });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].find("hunter2"), std::string::npos) << got[0];
}

TEST(validate, enums) {
  struct row {
    std::function<void(config&)> set;
    std::string error;
  };
  const std::vector<row> rows{
      {[](config& c) { c.storage.synchronous = "full"; }, ""},
      {[](config& c) { c.storage.synchronous = "off"; },
       "storage.synchronous: must be one of normal|full, got \"off\""},
      {[](config& c) { c.storage.synchronous = "NORMAL"; },
       "storage.synchronous: must be one of normal|full, got \"NORMAL\""},
      {[](config& c) { c.log.level = "trace"; }, ""},
      {[](config& c) { c.log.level = "error"; }, ""},
      {[](config& c) { c.log.level = "warning"; },
       "log.level: must be one of trace|debug|info|warn|error, got \"warning\""},
      {[](config& c) { c.log.format = "json"; }, ""},
      {[](config& c) { c.log.format = "logfmt"; },
       "log.format: must be one of text|json, got \"logfmt\""},
  };
  for (const auto& r : rows) {
    auto got = problems_after(r.set);
    if (r.error.empty()) {
      EXPECT_TRUE(got.empty()) << got.front();
    } else {
      EXPECT_EQ(got, std::vector<std::string>{r.error});
    }
  }
}

TEST(validate, ranges_and_cross_key_rules) {
  using std::chrono::milliseconds;
  struct row {
    std::function<void(config&)> set;
    std::string error;
  };
  const std::string acct = "0123456789abcdef0123456789abcdef";
  const std::vector<row> rows{
      {[](config& c) { c.server.max_header_bytes = 1023; },
       "server.max_header_bytes: must be from 1024 to 1048576, got 1023"},
      {[](config& c) { c.server.max_header_bytes = 1024; }, ""},
      {[](config& c) { c.server.max_body_bytes = 1073741825; },
       "server.max_body_bytes: must be from 1024 to 1073741824, got 1073741825"},
      {[](config& c) { c.server.read_timeout = milliseconds{0}; },
       "server.read_timeout_ms: must be greater than 0, got 0"},
      {[](config& c) { c.server.idle_timeout = milliseconds{-5}; },
       "server.idle_timeout_ms: must be greater than 0, got -5"},
      {[](config& c) { c.server.tls_certificate = "/c.pem"; },
       "server.tls_private_key: must be set together with server.tls_certificate"},
      {[](config& c) { c.server.tls_private_key = "/k.pem"; },
       "server.tls_certificate: must be set together with server.tls_private_key"},
      {[](config& c) {
         c.server.tls_certificate = "/c.pem";
         c.server.tls_private_key = "/k.pem";
       },
       ""},
      {[](config& c) {
         c.server.tls_certificate = "";
         c.server.tls_private_key = "/k.pem";
       },
       "server.tls_certificate: must not be empty when set (omit the key instead)"},
      {[](config& c) { c.storage.database = ""; }, "storage.database: must not be empty"},
      {[](config& c) { c.storage.commit_max_delay = milliseconds{0}; }, ""},
      {[](config& c) { c.storage.commit_max_delay = milliseconds{1001}; },
       "storage.commit_max_delay_ms: must be from 0 to 1000, got 1001"},
      {[&](config& c) { c.kazoo.accounts = {acct}; }, ""},
      {[&](config& c) {
         c.kazoo.accounts = {acct, "0123456789ABCDEF0123456789ABCDEF"};
       },
       "kazoo.accounts[1]: must be a Kazoo account id (32 lowercase hex characters)"},
      {[&](config& c) { c.kazoo.accounts = {"abc"}; },
       "kazoo.accounts[0]: must be a Kazoo account id (32 lowercase hex characters)"},
      {[&](config& c) {
         c.kazoo.accounts = {acct, acct};
       },
       "kazoo.accounts[1]: is listed twice"},
      {[](config& c) { c.kazoo.ca_file = ""; },
       "kazoo.ca_file: must not be empty when set (omit the key instead)"},
      {[](config& c) { c.kazoo.stale_call_timeout = milliseconds{0}; },
       "kazoo.stale_call_timeout_s: must be greater than 0, got 0"},
      {[](config& c) { c.kazoo.stale_call_timeout = milliseconds{-3000}; },
       "kazoo.stale_call_timeout_s: must be greater than 0, got -3"},
      {[](config& c) { c.kazoo.reconnect_initial = milliseconds{0}; },
       "kazoo.reconnect_initial_ms: must be greater than 0, got 0"},
      {[](config& c) { c.kazoo.reconnect_max = milliseconds{499}; },
       "kazoo.reconnect_max_ms: must not be less than kazoo.reconnect_initial_ms"},
      {[](config& c) { c.kazoo.reconnect_max = milliseconds{500}; }, ""},
      {[](config& c) { c.kazoo.ping_interval = milliseconds{0}; },
       "kazoo.ping_interval_ms: must be greater than 0, got 0"},
      {[](config& c) {
         c.kazoo.ping_interval = milliseconds{3600001};
         c.kazoo.idle_timeout = milliseconds{7200000};
       },
       "kazoo.ping_interval_ms: must be at most 3600000 (blackhole drops idle clients after 1 "
       "hour)"},
      {[](config& c) { c.kazoo.idle_timeout = milliseconds{30000}; },
       "kazoo.idle_timeout_ms: must be greater than kazoo.ping_interval_ms (else every pause "
       "between "
       "pings looks dead)"},
      {[](config& c) { c.kazoo.directory_refresh = milliseconds{0}; },
       "kazoo.directory_refresh_s: must be greater than 0, got 0"},
      {[](config& c) { c.kazoo.ingest_queue = 0; },
       "kazoo.ingest_queue: must be from 1 to 10000000, got 0"},
      {[](config& c) { c.kazoo.ingest_queue = 1; }, ""},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto got = problems_after(rows[i].set);
    if (rows[i].error.empty()) {
      EXPECT_TRUE(got.empty()) << "row " << i << ": " << got.front();
    } else {
      EXPECT_EQ(got, std::vector<std::string>{rows[i].error}) << "row " << i;
    }
  }
}

TEST(validate, oauth_section) {
  using std::chrono::milliseconds;
  struct row {
    std::function<void(config&)> set;
    std::string error;  // "" = valid
  };
  const std::vector<row> rows{
      {[](config& c) { c.oauth.access_token_ttl = milliseconds{0}; },
       "oauth.access_token_ttl_s: must be greater than 0, got 0"},
      {[](config& c) { c.oauth.refresh_token_ttl = milliseconds{0}; },
       "oauth.refresh_token_ttl_s: must be greater than 0, got 0"},
      {[](config& c) { c.oauth.refresh_grace = milliseconds{0}; }, ""},  // strict rotation
      {[](config& c) { c.oauth.refresh_grace = milliseconds{3601000}; }, "oauth.refresh_grace_s: must be from 0 to 3600"},
      {[](config& c) { c.oauth.code_ttl = milliseconds{0}; }, "oauth.code_ttl_s: must be from 1 to 600, got 0"},
      {[](config& c) { c.oauth.code_ttl = milliseconds{601000}; }, "oauth.code_ttl_s: must be from 1 to 600, got 601"},
      {[](config& c) { c.oauth.code_ttl = milliseconds{600000}; }, ""},
      {[](config& c) { c.oauth.login_form_ttl = milliseconds{0}; },
       "oauth.login_form_ttl_s: must be greater than 0, got 0"},
      {[](config& c) { c.oauth.product_name = ""; }, "oauth.product_name: must not be empty"},
      {[](config& c) { c.oauth.logo_url = "https://cdn.example.com/logo.svg"; }, ""},
      {[](config& c) { c.oauth.logo_url = "javascript:alert(1)"; },
       "oauth.logo_url: must be a URL starting with http:// or https://"},
      {[](config& c) { c.oauth.logo_url = ""; }, "oauth.logo_url: must not be empty when set (omit the key instead)"},
      {[](config& c) { c.oauth.primary_color = "#A1b2C3"; }, ""},
      {[](config& c) { c.oauth.primary_color = "red"; }, "oauth.primary_color: must be a colour written #rrggbb, got \"red\""},
      {[](config& c) { c.oauth.primary_color = "#12345"; },
       "oauth.primary_color: must be a colour written #rrggbb, got \"#12345\""},
      {[](config& c) { c.oauth.primary_color = "#1234567"; },
       "oauth.primary_color: must be a colour written #rrggbb, got \"#1234567\""},
      {[](config& c) { c.oauth.primary_color = "#12345g"; },
       "oauth.primary_color: must be a colour written #rrggbb, got \"#12345g\""},
      {[](config& c) { c.oauth.login_attempts_per_ip = 0; }, "oauth.login_attempts_per_ip: must be from 1 to 100000, got 0"},
      {[](config& c) { c.oauth.login_attempts_per_user = 0; },
       "oauth.login_attempts_per_user: must be from 1 to 100000, got 0"},
      {[](config& c) { c.oauth.login_window = milliseconds{0}; }, "oauth.login_window_s: must be greater than 0, got 0"},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto got = problems_after(rows[i].set);
    if (rows[i].error.empty()) {
      EXPECT_TRUE(got.empty()) << "row " << i << ": " << got.front();
    } else {
      EXPECT_EQ(got, std::vector<std::string>{rows[i].error}) << "row " << i;
    }
  }
}

TEST(validate, dial_section) {
  using std::chrono::milliseconds;
  struct row {
    std::function<void(config&)> set;
    std::string error;  // "" = valid
  };
  const std::string countries = "AT, AU, BE, CA, CH, DE, DK, ES, FR, GB, IE, IN, IT, MX, NL, NO, NZ, PL, PT, SE, US, ZA";
  const std::vector<row> rows{
      {[](config& c) { c.dial.default_country = "GB"; }, ""},
      {[](config& c) { c.dial.default_country = "gb"; },
       "dial.default_country: must be one of " + countries + " (ISO 3166-1 alpha-2, upper case), got \"gb\""},
      {[](config& c) { c.dial.default_country = "XX"; },
       "dial.default_country: must be one of " + countries + " (ISO 3166-1 alpha-2, upper case), got \"XX\""},
      {[](config& c) { c.dial.default_country = ""; },
       "dial.default_country: must be one of " + countries + " (ISO 3166-1 alpha-2, upper case), got \"\""},
      {[](config& c) { c.dial.calls_per_minute = 0; }, "dial.calls_per_minute: must be from 1 to 1000, got 0"},
      {[](config& c) { c.dial.calls_per_minute = 1000; }, ""},
      {[](config& c) { c.dial.ring_timeout = milliseconds{3000}; }, "dial.ring_timeout_s: must be from 4 to 300, got 3"},
      {[](config& c) { c.dial.ring_timeout = milliseconds{4000}; }, ""},
      {[](config& c) { c.dial.ring_timeout = milliseconds{301000}; },
       "dial.ring_timeout_s: must be from 4 to 300, got 301"},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto got = problems_after(rows[i].set);
    if (rows[i].error.empty()) {
      EXPECT_TRUE(got.empty()) << "row " << i << ": " << got.front();
    } else {
      EXPECT_EQ(got, std::vector<std::string>{rows[i].error}) << "row " << i;
    }
  }
}

TEST(validate, reports_every_problem_not_just_the_first) {
  auto got = problems_after([](config& c) {
    c.server.listen = "nope";
    c.kazoo.websocket_url = "http://x";
    c.log.level = "loud";
  });
  EXPECT_EQ(got.size(), 3u);
}

}  // namespace
}  // namespace kazoo_bridge::config

namespace kazoo_bridge::config {
namespace {

TEST(validate, hooks_limits) {
  struct row {
    std::function<void(config&)> mutate;
    std::string expected;  // the one problem, or "" for none
  };
  using std::chrono::milliseconds;
  const std::vector<row> rows{
      {[](config& c) { c.hooks.timeout = milliseconds{0}; }, "hooks.timeout_s: must be from 1 to 300, got 0"},
      {[](config& c) { c.hooks.timeout = milliseconds{301000}; }, "hooks.timeout_s: must be from 1 to 300, got 301"},
      {[](config& c) { c.hooks.timeout = milliseconds{300000}; }, ""},
      {[](config& c) { c.hooks.rate_per_host = 0; }, "hooks.rate_per_host"},
      {[](config& c) { c.hooks.concurrency_per_host = 0; }, "hooks.concurrency_per_host"},
      {[](config& c) { c.hooks.concurrency_per_host = 1001; }, "hooks.concurrency_per_host"},
      {[](config& c) { c.hooks.retry_schedule_s = "0, 60 ,3600"; }, ""},
      {[](config& c) { c.hooks.retry_schedule_s = "0"; }, ""},
      {[](config& c) { c.hooks.retry_schedule_s = ""; }, "hooks.retry_schedule_s: must be 1 to 50"},
      {[](config& c) { c.hooks.retry_schedule_s = "0,,5"; }, "hooks.retry_schedule_s"},
      {[](config& c) { c.hooks.retry_schedule_s = "0,5s"; }, "hooks.retry_schedule_s"},
      {[](config& c) { c.hooks.retry_schedule_s = "0,-5"; }, "hooks.retry_schedule_s"},
      {[](config& c) { c.hooks.retry_schedule_s = "0,604801"; }, "hooks.retry_schedule_s"},
      {[](config& c) { c.hooks.disable_after = milliseconds{59000}; }, "hooks.disable_after_s: must be at least 60"},
      {[](config& c) { c.hooks.max_response_bytes = 65537; }, "hooks.max_response_bytes"},
      {[](config& c) { c.hooks.max_response_bytes = 0; }, ""},
      {[](config& c) { c.hooks.max_per_user = 0; }, "hooks.max_per_user"},
      {[](config& c) { c.hooks.max_per_user = 100001; }, "hooks.max_per_user"},
      {[](config& c) { c.hooks.max_per_user = 1; }, ""},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto got = problems_after(rows[i].mutate);
    if (rows[i].expected.empty()) {
      EXPECT_TRUE(got.empty()) << i << ": " << (got.empty() ? "" : got[0]);
    } else {
      ASSERT_EQ(got.size(), 1u) << i;
      EXPECT_EQ(got[0].rfind(rows[i].expected, 0), 0u) << i << ": " << got[0];
    }
  }
}

TEST(parse_retry_schedule, gives_the_seconds_in_order) {
  using std::chrono::seconds;
  EXPECT_EQ(parse_retry_schedule("0,5,300,1800,7200,18000,36000,50400,72000,86400"),
            (std::vector<seconds>{seconds{0}, seconds{5}, seconds{300}, seconds{1800}, seconds{7200},
                                  seconds{18000}, seconds{36000}, seconds{50400}, seconds{72000},
                                  seconds{86400}}));
  EXPECT_EQ(parse_retry_schedule(config{}.hooks.retry_schedule_s)->size(), 10u);
  EXPECT_EQ(parse_retry_schedule(" 7 "), (std::vector<seconds>{seconds{7}}));
  EXPECT_FALSE(parse_retry_schedule("1,2,").has_value());
  EXPECT_FALSE(parse_retry_schedule("x").has_value());
}

}  // namespace
}  // namespace kazoo_bridge::config
