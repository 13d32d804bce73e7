// The shipped example config and docs/configuration.md cannot drift from the code: every field of
// the structs has a key, every key is in both documents, the example's values are the defaults.

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include <boost/pfr.hpp>
#include <gtest/gtest.h>

#include <kazoo_bridge/config/config.hpp>
#include <kazoo_bridge/config/keys.hpp>

#include "config_test_util.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::config {
namespace {

using test::dump;

const std::string example_path =
    std::string{KAZOO_BRIDGE_SOURCE_DIR} + "/config/kazoo-bridge.example.toml";
const std::string docs_path = std::string{KAZOO_BRIDGE_SOURCE_DIR} + "/docs/configuration.md";

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// No std::regex here: GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized in
// <regex>, which -Werror turns into a build failure.

bool is_name_char(char ch) { return (ch >= 'a' && ch <= 'z') || ch == '_'; }

// The lower-case name at the start of `s`, e.g. "listen" of "listen = 1".
std::string leading_name(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && is_name_char(s[n])) ++n;
  return std::string{s.substr(0, n)};
}

// "server" for "[server]" (anything may follow the closing bracket), else "".
std::string header_name(std::string_view line) {
  if (!line.starts_with('[')) return "";
  auto name = leading_name(line.substr(1));
  return line.substr(1 + name.size()).starts_with(']') ? name : "";
}

// For "key = value" or "# key = value": the key and the uncommented line; nullopt otherwise.
std::optional<std::pair<std::string, std::string>> key_line(std::string_view line) {
  if (line.starts_with('#')) {
    line.remove_prefix(1);
    while (line.starts_with(' ')) line.remove_prefix(1);
  }
  auto name = leading_name(line);
  if (name.empty()) return std::nullopt;
  auto rest = line.substr(name.size());
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  if (!rest.starts_with('=')) return std::nullopt;
  return std::pair{name, std::string{line}};
}

// "section.key" for every key line of a TOML file, commented out ("# key = ...") or not.
std::set<std::string> example_keys(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in{text};
  std::string line, section;
  while (std::getline(in, line)) {
    if (auto h = header_name(line); !h.empty()) {
      section = h;
    } else if (auto k = key_line(line); k && !section.empty()) {
      out.insert(section + "." + k->first);
    }
  }
  return out;
}

TEST(example_config, loads_without_problems_and_holds_the_defaults) {
  auto r = load_file(example_path, {{"KAZOO_BRIDGE_KAZOO_API_KEY", "k"}});
  ASSERT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_TRUE(r.warnings.empty()) << "the example must not teach putting the API key in the file\n"
                                  << dump(r.warnings);
  config expected;
  expected.kazoo.api_url = r.cfg.kazoo.api_url;
  expected.kazoo.websocket_url = r.cfg.kazoo.websocket_url;
  expected.kazoo.api_key = "k";
  EXPECT_EQ(r.cfg, expected) << "a value in the example differs from the default";
}

TEST(example_config, lists_every_key_in_its_section_and_nothing_else) {
  auto found = example_keys(slurp(example_path));
  std::set<std::string> known;
  for (const auto& k : keys()) {
    known.insert(k.path());
    EXPECT_TRUE(found.contains(k.path())) << k.path() << " is missing from " << example_path;
  }
  for (const auto& f : found) EXPECT_TRUE(known.contains(f)) << f << " in the example is no key";
}

TEST(example_config, commented_out_examples_are_valid_when_enabled) {
  // Uncommenting "# key = value" lines (tls_*, api_key, ca_file) must give a valid file too.
  std::istringstream in{slurp(example_path)};
  std::string line, text;
  while (std::getline(in, line)) {
    auto k = key_line(line);
    text += (k ? k->second : line) + "\n";
  }
  auto r = load_string(text, {});
  EXPECT_TRUE(r.ok()) << dump(r.problems);
  EXPECT_TRUE(r.cfg.server.tls_certificate.has_value());
  EXPECT_TRUE(r.cfg.kazoo.ca_file.has_value());
}

TEST(configuration_docs, document_every_key_with_its_variable_in_its_section) {
  auto text = slurp(docs_path);
  std::map<std::string, std::string> rows;  // section.key -> table row
  std::istringstream in{text};
  std::string line, section;
  while (std::getline(in, line)) {
    std::string_view l{line};
    if (l.starts_with("## ")) {
      section = header_name(l.substr(3));  // "## [kazoo] (required section)" -> "kazoo"
    } else if (!section.empty() && l.starts_with("| `")) {
      auto name = leading_name(l.substr(3));
      if (!name.empty() && l.substr(3 + name.size()).starts_with("` |"))
        rows[section + "." + name] = line;
    }
  }
  for (const auto& k : keys()) {
    auto it = rows.find(k.path());
    if (it == rows.end()) {
      ADD_FAILURE() << k.path() << " has no row in " << docs_path;
      continue;
    }
    EXPECT_NE(it->second.find("`" + k.env_var() + "`"), std::string::npos) << k.path();
    auto def = format_value(config{}, k);
    if (!def.empty() && !k.required) {
      EXPECT_NE(it->second.find("`" + def + "`"), std::string::npos)
          << k.path() << ": default " << def << " not in its row";
    }
  }
  EXPECT_EQ(rows.size(), keys().size()) << "the docs list a key the code does not have";
}

// Every field of every section struct is reached by exactly one key, so a field added to a
// struct without a key (and so without file, env and docs support) fails here.
template <class Section>
void expect_fields_covered(config& c, Section& s, std::string_view name) {
  std::set<const void*> fields;
  boost::pfr::for_each_field(s, [&](auto& f) { fields.insert(&f); });
  std::multiset<const void*> reached;
  for (const auto& k : keys()) {
    if (k.section != name) continue;
    reached.insert(std::visit([](auto* p) -> const void* { return p; }, k.field(c)));
  }
  EXPECT_EQ(std::set<const void*>(reached.begin(), reached.end()), fields) << name;
  EXPECT_EQ(reached.size(), fields.size()) << name << ": two keys share a field";
}

TEST(key_table, covers_every_struct_field) {
  config c;
  EXPECT_EQ(boost::pfr::tuple_size_v<config>, sections().size());
  expect_fields_covered(c, c.server, "server");
  expect_fields_covered(c, c.storage, "storage");
  expect_fields_covered(c, c.kazoo, "kazoo");
  expect_fields_covered(c, c.hooks, "hooks");
  expect_fields_covered(c, c.oauth, "oauth");
  expect_fields_covered(c, c.log, "log");
}

TEST(key_table, duration_keys_carry_their_unit_in_the_name) {
  for (const auto& k : keys()) {
    if (k.type == key_type::duration_ms) {
      EXPECT_TRUE(k.name.ends_with("_ms")) << k.path();
    }
    if (k.type == key_type::duration_s) {
      EXPECT_TRUE(k.name.ends_with("_s")) << k.path();
    }
  }
}

}  // namespace
}  // namespace kazoo_bridge::config
