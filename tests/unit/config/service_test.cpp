// config/kazoo-bridge.service keeps its contract (design.md "Executables": Type=notify,
// ExecStart) and its hardening; nobody weakens it unnoticed.

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace kazoo_bridge::config {
namespace {

const std::string unit_path = std::string{KAZOO_BRIDGE_SOURCE_DIR} + "/config/kazoo-bridge.service";

using unit_file =
    std::map<std::string, std::vector<std::string>>;  // "Section.Key" -> values in order

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unit_file parse_unit(const std::string& text) {
  unit_file out;
  std::istringstream in{text};
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[section + "." + line.substr(0, eq)].push_back(line.substr(eq + 1));
  }
  return out;
}

// systemd: for single-valued settings the last assignment wins.
std::string last(const unit_file& u, const std::string& key) {
  auto it = u.find(key);
  return it == u.end() ? "<absent>" : it->second.back();
}

TEST(systemd_unit, has_the_contract_and_the_hardening) {
  auto u = parse_unit(slurp(unit_path));
  const std::vector<std::pair<std::string, std::string>> required{
      {"Service.Type", "notify"},
      {"Service.ExecStart",
       "/usr/local/bin/kazoo-bridge serve --config /etc/kazoo-bridge/kazoo-bridge.toml"},
      {"Service.WatchdogSec", "30"},
      {"Service.Restart", "on-failure"},
      {"Service.EnvironmentFile", "-/etc/kazoo-bridge/env"},
      {"Service.DynamicUser", "yes"},
      {"Service.StateDirectory", "kazoo-bridge"},
      {"Service.ConfigurationDirectory", "kazoo-bridge"},
      {"Service.ProtectSystem", "strict"},
      {"Service.ProtectHome", "yes"},
      {"Service.PrivateTmp", "yes"},
      {"Service.PrivateDevices", "yes"},
      {"Service.NoNewPrivileges", "yes"},
      {"Service.RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
      {"Service.CapabilityBoundingSet", ""},
      {"Service.MemoryDenyWriteExecute", "yes"},
      {"Service.LockPersonality", "yes"},
      {"Service.RestrictNamespaces", "yes"},
      {"Service.ProtectKernelTunables", "yes"},
      {"Service.ProtectKernelModules", "yes"},
      {"Service.ProtectKernelLogs", "yes"},
      {"Service.ProtectControlGroups", "yes"},
      {"Install.WantedBy", "multi-user.target"},
  };
  for (const auto& [key, value] : required) EXPECT_EQ(last(u, key), value) << key;

  ASSERT_TRUE(u.contains("Service.SystemCallFilter"));
  EXPECT_EQ(u["Service.SystemCallFilter"].front(), "@system-service");
  for (const auto& extra : u["Service.SystemCallFilter"]) {
    // Later lines may only take calls away ("~..."); an allow list would widen the filter.
    if (extra != "@system-service") {
      EXPECT_EQ(extra.front(), '~') << extra;
    }
  }
  auto stop = last(u, "Service.TimeoutStopSec");
  EXPECT_NE(stop, "<absent>");
  EXPECT_NE(stop, "infinity");
  EXPECT_NE(stop, "0");

  for (const auto& forbidden :
       {"Service.User", "Service.AmbientCapabilities", "Service.PermissionsStartOnly"}) {
    if (u.contains(forbidden)) {
      EXPECT_EQ(last(u, forbidden), "") << forbidden;
    }
  }
}

TEST(systemd_unit, passes_systemd_analyze_verify_when_available) {
  if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "systemd-analyze is not installed";
  }
  // verify also checks that ExecStart's binary exists; it is not installed here, so point that
  // one line at /bin/true and let verify judge every other directive.
  kazoo_bridge::test::temp_dir dir;
  auto text = slurp(unit_path);
  const std::string bin = "/usr/local/bin/kazoo-bridge";
  auto at = text.find("ExecStart=" + bin);
  ASSERT_NE(at, std::string::npos);
  text.replace(at + 10, bin.size(), "/bin/true");
  auto copy = dir.file("kazoo-bridge.service");
  std::ofstream{copy} << text;

  std::string cmd = "systemd-analyze verify '" + copy + "' 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  std::array<char, 512> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) output.append(buf.data(), n);
  int status = ::pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  // Unknown or misspelt directives are only warnings ("Unknown key ..., ignoring"): fail on them.
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace kazoo_bridge::config
