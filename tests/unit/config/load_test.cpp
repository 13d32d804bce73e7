// Loading as an operator meets it: unknown keys and variables, missing required keys, syntax
// errors, unreadable files, several problems in one run, and the API key kept out of messages.

#include <algorithm>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <kazoo_bridge/config/config.hpp>
#include <kazoo_bridge/config/keys.hpp>

#include "config_test_util.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::config {
namespace {

using test::dump;
using test::env_map;
using test::toml_doc;

std::vector<std::string> formatted(const std::vector<problem>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(format_problem(p));
  return out;
}

void write(const std::string& path, const std::string& text) { std::ofstream{path} << text; }

TEST(load, minimal_file_gives_defaults_plus_required_values) {
  auto r = load_string(toml_doc({}, false), {{"KAZOO_BRIDGE_KAZOO_API_KEY", "k-123"}});
  ASSERT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_TRUE(r.warnings.empty()) << dump(r.warnings);
  config expected;
  expected.kazoo.api_url = test::good_api_url;
  expected.kazoo.websocket_url = test::good_ws_url;
  expected.kazoo.api_key = "k-123";
  EXPECT_EQ(r.cfg, expected);
}

TEST(load, unknown_keys_and_sections_are_errors_with_suggestions) {
  auto r = load_string(R"(lisen = "x"
listen = "y"
[server]
lisen = "127.0.0.1:1"
[sever]
listen = "z"
[kazoo]
api_url = "http://k:8000/v2"
websocket_url = "ws://k:5555"
api_key = "k"
accounts = []
totally_new = 1
[log]
level = "info"
[log.extra]
x = 1
)",
                       {});
  EXPECT_EQ(formatted(r.problems),
            (std::vector<std::string>{
                "lisen: unknown key",
                "listen: unknown key (keys belong in a section: [server] listen)",
                "server.lisen: unknown key (did you mean listen?)",
                "sever: unknown section (did you mean [server]?)",
                "kazoo.totally_new: unknown key",
                "log.extra: unknown key",
            }))
      << dump(r.problems);
}

TEST(load, section_of_the_wrong_type) {
  auto r = load_string(toml_doc() + "log = 3\n", {});
  // "log = 3" after [kazoo] is kazoo.log; at the top it is the section itself.
  EXPECT_EQ(formatted(r.problems), std::vector<std::string>{"kazoo.log: unknown key"});
  auto top = load_string("server = \"x\"\n" + toml_doc(), {});
  EXPECT_EQ(formatted(top.problems),
            std::vector<std::string>{"server: expected a table, got string"});
}

TEST(load, missing_required_keys_are_each_reported) {
  auto r = load_string("[kazoo]\naccounts = []\n", {});
  EXPECT_EQ(formatted(r.problems),
            (std::vector<std::string>{"kazoo.api_url: required key is missing",
                                      "kazoo.websocket_url: required key is missing",
                                      "kazoo.api_key: required key is missing"}));
}

TEST(load, missing_kazoo_section_is_reported) {
  auto r = load_string("[log]\nlevel = \"info\"\n", {});
  EXPECT_EQ(formatted(r.problems),
            (std::vector<std::string>{"kazoo: required section is missing",
                                      "kazoo.api_url: required key is missing",
                                      "kazoo.websocket_url: required key is missing",
                                      "kazoo.api_key: required key is missing"}));
}

TEST(load, required_keys_may_all_come_from_the_environment) {
  env_map env{{"KAZOO_BRIDGE_KAZOO_API_URL", "https://k.example.com/v2"},
              {"KAZOO_BRIDGE_KAZOO_WEBSOCKET_URL", "wss://k.example.com:5556"},
              {"KAZOO_BRIDGE_KAZOO_API_KEY", "secret"}};
  auto r = load_string("", env);
  EXPECT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_EQ(r.cfg.kazoo.websocket_url, "wss://k.example.com:5556");
}

TEST(load, empty_required_value_is_not_reported_as_missing) {
  auto r = load_string(toml_doc({{"kazoo.api_url", "\"\""}}), {});
  EXPECT_EQ(formatted(r.problems), std::vector<std::string>{"kazoo.api_url: must not be empty"});
}

TEST(load, syntax_error_reports_line_and_column) {
  auto r = load_string("[server]\nlisten = \"127.0.0.1:80\"\nmax_body_bytes = = 5\n", {});
  ASSERT_EQ(r.problems.size(), 1u) << dump(r.problems);
  EXPECT_EQ(r.problems[0].key_path, "");
  EXPECT_TRUE(r.problems[0].message.starts_with("TOML syntax error at line 3, column 18: "))
      << r.problems[0].message;
}

TEST(load, duplicate_key_is_a_syntax_error) {
  auto r = load_string(toml_doc() + "[log]\nlevel = \"info\"\nlevel = \"debug\"\n", {});
  ASSERT_EQ(r.problems.size(), 1u) << dump(r.problems);
  EXPECT_NE(r.problems[0].message.find("line 7"), std::string::npos) << r.problems[0].message;
}

TEST(load, syntax_error_still_reports_environment_problems_but_not_missing_keys) {
  auto r = load_string("[server\n", {{"KAZOO_BRIDGE_LOG_LEVL", "x"}});
  EXPECT_EQ(r.problems.size(), 2u) << dump(r.problems);
  EXPECT_EQ(format_problem(r.problems[1]),
            "KAZOO_BRIDGE_LOG_LEVL: unknown variable (did you mean KAZOO_BRIDGE_LOG_LEVEL?)");
}

TEST(load, every_problem_is_reported_in_one_run) {
  auto text = R"([server]
listen = 8080
max_body_bytes = -1
public_url = "ftp://x"
[storage]
synchronous = "off"
[kazoo]
websocket_url = "http://kazoo.example.com:5555"
accounts = ["0123456789abcdef0123456789abcdef", 7]
[log]
level = "verbose"
format = "xml"
)";
  env_map env{{"KAZOO_BRIDGE_SERVER_MAX_HEADER_BYTES", "big"}, {"KAZOO_BRIDGE_NOPE", "1"}};
  auto r = load_string(text, env);
  EXPECT_EQ(formatted(r.problems),
            (std::vector<std::string>{
                "server.listen: expected a string, got integer",
                "server.max_body_bytes: must not be negative, got -1",
                "kazoo.accounts[1]: expected a string, got integer",
                "KAZOO_BRIDGE_NOPE: unknown variable",
                "KAZOO_BRIDGE_SERVER_MAX_HEADER_BYTES: expected an integer for "
                "server.max_header_bytes, got \"big\"",
                "kazoo.api_url: required key is missing",
                "kazoo.api_key: required key is missing",
                "server.public_url: must start with http:// or https://, not ftp://",
                "storage.synchronous: must be one of normal|full, got \"off\"",
                "kazoo.websocket_url: must start with ws:// or wss://, not http://",
                "log.level: must be one of trace|debug|info|warn|error, got \"verbose\"",
                "log.format: must be one of text|json, got \"xml\"",
            }))
      << dump(r.problems);
}

TEST(load, checks_on_environment_values_name_the_variable) {
  auto r = load_string(toml_doc(), {{"KAZOO_BRIDGE_KAZOO_WEBSOCKET_URL", "https://k:5556"}});
  EXPECT_EQ(formatted(r.problems),
            std::vector<std::string>{"kazoo.websocket_url: must start with ws:// or wss://, not "
                                     "https:// (from KAZOO_BRIDGE_KAZOO_WEBSOCKET_URL)"});
}

TEST(load, kazoo_bridge_config_variable_is_not_a_typo) {
  auto r = load_string(toml_doc(), {{"KAZOO_BRIDGE_CONFIG", "/etc/x.toml"}, {"PATH", "/bin"}});
  EXPECT_TRUE(r.ok()) << dump(r.problems);
}

TEST(load, api_key_never_appears_in_problems_or_warnings) {
  const std::string secret = "sk-7f3a9c1e55aa";
  std::vector<load_result> results;
  // Misspelt variable holding the key, key of the wrong type, key in the file, key in a file
  // that also has other errors.
  results.push_back(load_string(toml_doc(), {{"KAZOO_BRIDGE_KAZOO_APIKEY", secret}}));
  results.push_back(load_string(toml_doc({{"kazoo.api_key", "[\"" + secret + "\"]"}}), {}));
  results.push_back(load_string(
      toml_doc({{"kazoo.api_key", "\"" + secret + "\""}, {"log.level", "\"" + secret + "x\""}}),
      {{"KAZOO_BRIDGE_KAZOO_API_KEY", secret}}));
  for (const auto& r : results) {
    EXPECT_FALSE(r.problems.empty());
    for (const auto& p : r.problems) {
      EXPECT_EQ(format_problem(p).find(secret + " "), std::string::npos) << format_problem(p);
      EXPECT_EQ(format_problem(p).find(secret + "\""), std::string::npos) << format_problem(p);
    }
    for (const auto& w : r.warnings) EXPECT_EQ(format_problem(w).find(secret), std::string::npos);
  }
  EXPECT_EQ(
      format_problem(results[0].problems[0]),
      "KAZOO_BRIDGE_KAZOO_APIKEY: unknown variable (did you mean KAZOO_BRIDGE_KAZOO_API_KEY?)");
}

TEST(load, api_key_in_the_file_is_accepted_with_a_warning) {
  auto r = load_string(toml_doc(), {});
  EXPECT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_EQ(r.cfg.kazoo.api_key, "test-key");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].key_path, "kazoo.api_key");
  EXPECT_NE(r.warnings[0].message.find("KAZOO_BRIDGE_KAZOO_API_KEY"), std::string::npos);
}

TEST(load_file, reads_a_file_and_applies_the_environment) {
  kazoo_bridge::test::temp_dir dir;
  auto path = dir.file("kb.toml");
  write(path, toml_doc({{"log.level", "\"debug\""}}, false));
  auto r =
      load_file(path, {{"KAZOO_BRIDGE_KAZOO_API_KEY", "k"}, {"KAZOO_BRIDGE_LOG_FORMAT", "json"}});
  EXPECT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_EQ(r.cfg.log.level, "debug");
  EXPECT_EQ(r.cfg.log.format, "json");
  EXPECT_EQ(r.cfg.kazoo.api_key, "k");
}

TEST(load_file, missing_file_and_directory_are_problems_named_by_path) {
  kazoo_bridge::test::temp_dir dir;
  auto missing = load_file(dir.file("nope.toml"), {{"KAZOO_BRIDGE_X", "1"}});
  EXPECT_EQ(formatted(missing.problems),
            (std::vector<std::string>{
                dir.file("nope.toml") + ": cannot read the file: No such file or directory",
                "KAZOO_BRIDGE_X: unknown variable"}));
  auto directory = load_file(dir.path().string(), {});
  EXPECT_EQ(
      formatted(directory.problems),
      std::vector<std::string>{dir.path().string() + ": cannot read the file: it is a directory"});
}

TEST(load_file, unreadable_file_is_a_problem) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  kazoo_bridge::test::temp_dir dir;
  auto path = dir.file("kb.toml");
  write(path, toml_doc());
  ::chmod(path.c_str(), 0);
  auto r = load_file(path, {});
  EXPECT_EQ(formatted(r.problems),
            std::vector<std::string>{path + ": cannot read the file: Permission denied"});
}

TEST(load_file, syntax_error_is_named_by_file_with_line) {
  kazoo_bridge::test::temp_dir dir;
  auto path = dir.file("kb.toml");
  write(path, "[server]\nlisten = \"127.0.0.1:8080\n");
  auto r = load_file(path, {});
  ASSERT_EQ(r.problems.size(), 1u) << dump(r.problems);
  EXPECT_EQ(r.problems[0].key_path, path);
  EXPECT_TRUE(r.problems[0].message.starts_with("TOML syntax error at line 2,"))
      << r.problems[0].message;
}

TEST(load_file, world_readable_file_with_the_api_key_gets_a_second_warning) {
  kazoo_bridge::test::temp_dir dir;
  auto path = dir.file("kb.toml");
  write(path, toml_doc());
  ::chmod(path.c_str(), 0644);
  auto open = load_file(path, {});
  EXPECT_TRUE(open.ok()) << dump(open.problems);
  ASSERT_EQ(open.warnings.size(), 2u) << dump(open.warnings);
  EXPECT_EQ(open.warnings[1].key_path, path);
  ::chmod(path.c_str(), 0600);
  EXPECT_EQ(load_file(path, {}).warnings.size(), 1u);
}

TEST(process_environment, sees_variables_of_this_process) {
  ::setenv("KAZOO_BRIDGE_TEST_PROBE", "a=b", 1);
  auto env = process_environment();
  ::unsetenv("KAZOO_BRIDGE_TEST_PROBE");
  ASSERT_TRUE(env.contains("KAZOO_BRIDGE_TEST_PROBE"));
  EXPECT_EQ(env["KAZOO_BRIDGE_TEST_PROBE"], "a=b");
}

TEST(format_problem, joins_path_and_message) {
  EXPECT_EQ(format_problem({"kazoo.api_url", "required key is missing"}),
            "kazoo.api_url: required key is missing");
  EXPECT_EQ(format_problem({"", "TOML syntax error at line 1, column 1: x"}),
            "TOML syntax error at line 1, column 1: x");
}

}  // namespace
}  // namespace kazoo_bridge::config
