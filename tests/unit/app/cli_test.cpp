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

TEST(cli, client_takes_a_sub_command_and_repeated_redirect_uris) {
  auto a = parse({"client", "add", "--name", "Zapier", "--redirect-uri", "https://a/cb", "--redirect-uri=https://b/cb",
                  "--public", "--no-pkce"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->command, "client");
  EXPECT_EQ(a->positional, std::vector<std::string>{"add"});
  EXPECT_EQ(a->get("redirect-uri"), "https://a/cb\nhttps://b/cb");  // every value kept
  EXPECT_TRUE(a->has("public"));
  EXPECT_TRUE(a->has("no-pkce"));
  auto r = parse({"client", "remove", "abc"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->positional, (std::vector<std::string>{"remove", "abc"}));
  // Other valued options still keep the last value.
  EXPECT_EQ(parse({"calls", "--limit", "5", "--limit", "7"})->get("limit"), "7");
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
      {{"client", "remove", "id1", "id2"}, "unexpected argument 'id2'"},
      {{"client", "add", "--secret", "x"}, "unknown option --secret for 'client'"},
  };
  for (const auto& r : rows) {
    std::string err;
    EXPECT_FALSE(parse(r.args, &err).has_value());
    EXPECT_NE(err.find(r.message_part), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace kazoo_bridge::app
