#include <kazoo_bridge/app/cli.hpp>

#include <iostream>
#include <set>

#include <kazoo_bridge/app/application.hpp>
#include "app/cli_support.hpp"

#ifndef KAZOO_BRIDGE_VERSION
#define KAZOO_BRIDGE_VERSION "0.0.0"
#endif

namespace kazoo_bridge::app {
namespace {

struct command_spec {
  const char* name;
  const char* usage;
  const char* summary;
  std::set<std::string> valued;  // options that take a value
  std::set<std::string> flags;   // options without a value
  std::size_t max_positional = 0;  // `client remove ID`: the sub-command and its argument
  std::set<std::string> repeatable{};  // valued options that keep every value ('\n'-joined); others: last wins
};

const std::vector<command_spec>& commands() {
  static const std::vector<command_spec> c{
      {"serve", "serve --config FILE", "run the daemon (systemd's ExecStart)", {"config"}, {}},
      {"check-config", "check-config --config FILE", "validate the configuration and print every problem",
       {"config"}, {}},
      {"migrate", "migrate --config FILE", "apply pending database migrations and exit", {"config"}, {}},
      {"calls", "calls --config FILE [--limit N] [--json]", "print the most recent calls, newest first",
       {"config", "limit"}, {"json"}},
      {"events", "events --config FILE [--call CALL_ID] [--type TYPE] [--limit N] [--json]",
       "print stored lifecycle events, oldest first", {"config", "call", "type", "limit"}, {"json"}},
      {"demo", "demo [--keep]", "run everything on embedded defaults with the bundled Kazoo simulator", {}, {"keep"}},
      {"client",
       "client add --config FILE --name NAME --redirect-uri URI [--redirect-uri URI...] [--public] [--no-pkce]\n"
       "  kazoo-bridge client list --config FILE [--json]\n"
       "  kazoo-bridge client remove --config FILE CLIENT_ID\n"
       "  kazoo-bridge client rotate-secret --config FILE CLIENT_ID",
       "manage OAuth clients (the client secret is printed once, stored hashed)",
       {"config", "name", "redirect-uri"},
       {"json", "public", "no-pkce"},
       2,
       {"redirect-uri"}},
  };
  return c;
}

const command_spec* find_command(const std::string& name) {
  for (const auto& c : commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

void print_help(std::ostream& out) {
  out << "kazoo-bridge " << KAZOO_BRIDGE_VERSION
      << ": Kazoo call events -> call lifecycle events -> SQLite, webhooks and CRMs\n\n"
      << "Usage: kazoo-bridge COMMAND [OPTIONS]\n\nCommands:\n";
  for (const auto& c : commands()) out << "  " << c.usage << "\n      " << c.summary << "\n";
  out << "\n  --help      this text (also COMMAND --help)\n  --version   print the version\n\n"
      << "--config defaults to $KAZOO_BRIDGE_CONFIG, then /etc/kazoo-bridge/kazoo-bridge.toml.\n"
      << "Any key can be overridden with KAZOO_BRIDGE_<SECTION>_<KEY> environment variables.\n";
}

}  // namespace

std::optional<std::string> cli_args::get(const std::string& k) const {
  auto it = options.find(k);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

std::optional<cli_args> parse_cli(const std::vector<std::string>& args, std::string& error) {
  cli_args a;
  if (args.empty()) {
    error = "missing command (try --help)";
    return std::nullopt;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    a.command = "help";
    return a;
  }
  if (args[0] == "--version" || args[0] == "-V") {
    a.command = "version";
    return a;
  }
  const auto* spec = find_command(args[0]);
  if (!spec) {
    error = "unknown command '" + args[0] + "' (try --help)";
    return std::nullopt;
  }
  a.command = args[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      a.options["help"] = "";
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      a.positional.push_back(arg);
      continue;
    }
    std::string key = arg.substr(2), value;
    bool inline_value = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      inline_value = true;
    }
    if (spec->flags.count(key)) {
      if (inline_value) {
        error = "option --" + key + " takes no value";
        return std::nullopt;
      }
      a.options[key] = "";
    } else if (spec->valued.count(key)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          error = "option --" + key + " needs a value";
          return std::nullopt;
        }
        value = args[++i];
      }
      // A repeatable option (--redirect-uri A --redirect-uri B) keeps every value, '\n'-joined.
      if (auto it = a.options.find(key); it != a.options.end() && spec->repeatable.count(key)) {
        it->second += "\n" + value;
      } else {
        a.options[key] = value;
      }
    } else {
      error = "unknown option --" + key + " for '" + a.command + "' (try kazoo-bridge " + a.command + " --help)";
      return std::nullopt;
    }
  }
  if (a.positional.size() > spec->max_positional) {
    error = "unexpected argument '" + a.positional[spec->max_positional] + "'";
    return std::nullopt;
  }
  return a;
}

int cli_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  auto a = parse_cli(args, error);
  if (!a) {
    std::cerr << "kazoo-bridge: " << error << "\n";
    return 2;
  }
  if (a->command == "help") {
    print_help(std::cout);
    return 0;
  }
  if (a->command == "version") {
    std::cout << "kazoo-bridge " << KAZOO_BRIDGE_VERSION << "\n";
    return 0;
  }
  if (a->has("help")) {
    const auto* spec = find_command(a->command);
    std::cout << "Usage: kazoo-bridge " << spec->usage << "\n\n" << spec->summary << "\n";
    return 0;
  }
  try {
    if (a->command == "serve") return run_serve(*a);
    if (a->command == "check-config") return run_check_config(*a, std::cout);
    if (a->command == "migrate") return run_migrate(*a, std::cout);
    if (a->command == "calls") return run_calls(*a, std::cout);
    if (a->command == "events") return run_events(*a, std::cout);
    if (a->command == "demo") return run_demo(*a);
    if (a->command == "client") return run_client(*a, std::cout);
  } catch (const std::exception& x) {
    std::cerr << "kazoo-bridge: " << x.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace kazoo_bridge::app
