#include <gtest/gtest.h>

#include <kazoo_bridge/app/cli.hpp>

namespace kazoo_bridge::app {
namespace {

std::optional<cli_args> parse(std::vector<std::string> args, std::string* err = nullptr) {
  std::string e;
  auto r = parse_cli(args, e);
  if (err) *err = e;
  return r;
}

TEST(cli, parses_commands_options_and_flags) {
  auto a = parse({"events", "--config", "/etc/kb.toml", "--type=call.missed", "--limit", "5", "--json"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->command, "events");
  EXPECT_EQ(a->get("config"), "/etc/kb.toml");
  EXPECT_EQ(a->get("type"), "call.missed");
  EXPECT_EQ(a->get("limit"), "5");
  EXPECT_TRUE(a->has("json"));
  EXPECT_FALSE(a->has("call"));
}

TEST(cli, help_and_version) {
  EXPECT_EQ(parse({"--help"})->command, "help");
  EXPECT_EQ(parse({"--version"})->command, "version");
  auto a = parse({"calls", "--help"});
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->has("help"));
}

TEST(cli, errors_name_what_is_wrong) {
  struct row {
    std::vector<std::string> args;
    const char* message_part;
  };
  const row rows[] = {
      {{}, "missing command"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"calls", "--limit"}, "--limit needs a value"},
      {{"calls", "--json=yes"}, "--json takes no value"},
      {{"serve", "--json"}, "unknown option --json for 'serve'"},
      {{"calls", "extra"}, "unexpected argument 'extra'"},
  };
  for (const auto& r : rows) {
    std::string err;
    EXPECT_FALSE(parse(r.args, &err).has_value());
    EXPECT_NE(err.find(r.message_part), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace kazoo_bridge::app
