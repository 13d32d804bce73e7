#pragma once
// Helpers shared by the config tests: a minimal valid TOML document with per-key overrides.

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <kazoo_bridge/config/config.hpp>
#include <kazoo_bridge/config/keys.hpp>

namespace kazoo_bridge::config::test {

using env_map = std::map<std::string, std::string>;

inline constexpr const char* good_api_url = "http://kazoo.test:8000/v2";
inline constexpr const char* good_ws_url = "ws://kazoo.test:5555";

/// TOML text: the three required [kazoo] keys (api_key only if `with_api_key`), then `overrides`
/// (key path -> TOML literal, "" = leave the key out), grouped under their section headers.
inline std::string toml_doc(std::map<std::string, std::string> overrides = {},
                            bool with_api_key = true) {
  std::map<std::string, std::string> values{
      {"kazoo.api_url", std::string{"\""} + good_api_url + "\""},
      {"kazoo.websocket_url", std::string{"\""} + good_ws_url + "\""}};
  if (with_api_key) values["kazoo.api_key"] = "\"test-key\"";
  for (auto& [k, v] : overrides) values[k] = v;
  std::string out;
  for (auto section : sections()) {
    std::string body;
    for (const auto& [path, literal] : values) {
      auto dot = path.find('.');
      if (path.substr(0, dot) != section || literal.empty()) continue;
      body += path.substr(dot + 1) + " = " + literal + "\n";
    }
    if (!body.empty()) out += "[" + std::string{section} + "]\n" + body;
  }
  return out;
}

/// All problems formatted, one per line, for failure messages.
inline std::string dump(const std::vector<problem>& ps) {
  std::string out;
  for (const auto& p : ps) out += format_problem(p) + "\n";
  return out;
}

}  // namespace kazoo_bridge::config::test

namespace kazoo_bridge::config {
/// GoogleTest prints a config as its keys, not as bytes (found by ADL).
inline void PrintTo(const config& c, std::ostream* os) {
  for (const auto& k : keys()) *os << "\n  " << k.path() << " = " << format_value(c, k);
}
}  // namespace kazoo_bridge::config
