#pragma once
/// The `kazoo-bridge` command line (design.md "Executables"): serve, check-config, migrate, calls, events,
/// demo, client, --help, --version.

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kazoo_bridge::app {

/// Parsed arguments: the command, its options (`--limit 5` -> {"limit": "5"}, repeatable ones such as
/// --redirect-uri joined with '\n', others: the last wins), and flags (`--json` -> {"json": ""}).
struct cli_args {
  std::string command;
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  bool has(const std::string& k) const { return options.count(k) != 0; }
  std::optional<std::string> get(const std::string& k) const;
};

/// Parses argv; an unknown option or a missing value is an error message (pure).
std::optional<cli_args> parse_cli(const std::vector<std::string>& args, std::string& error);

int cli_main(int argc, char** argv);

int run_serve(const cli_args& a);
int run_check_config(const cli_args& a, std::ostream& out);
int run_migrate(const cli_args& a, std::ostream& out);
int run_calls(const cli_args& a, std::ostream& out);
int run_events(const cli_args& a, std::ostream& out);
int run_demo(const cli_args& a);
/// `client add|list|remove|rotate-secret` (OAuth clients, docs/oauth.md).
int run_client(const cli_args& a, std::ostream& out);

}  // namespace kazoo_bridge::app
