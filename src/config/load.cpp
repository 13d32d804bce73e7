#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <variant>

#include <toml++/toml.h>

#include "config/load_state.hpp"

namespace kazoo_bridge::config {
namespace {

using detail::load_state;

// A problem found in the file, with the line it was found on so that the report follows the
// file's order (toml::table iterates alphabetically).
struct located_problem {
  std::uint32_t line;
  problem p;
};

std::string type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string expected_name(key_type t) {
  switch (t) {
    case key_type::string:
    case key_type::optional_string:
      return "a string";
    case key_type::boolean:
      return "a boolean";
    case key_type::size:
    case key_type::duration_ms:
    case key_type::duration_s:
      return "an integer";
    case key_type::string_list:
      return "an array of strings";
  }
  return "a value";
}

class toml_pass {
 public:
  explicit toml_pass(load_state& st) : st_(st) {}

  void run(const toml::table& root) {
    for (const auto& [key, node] : root) {
      std::string name{key.str()};
      auto line = key.source().begin.line;
      if (std::find(sections().begin(), sections().end(), name) == sections().end()) {
        unknown_top_level(name, node, line);
        continue;
      }
      const auto* table = node.as_table();
      if (!table) {
        add(line, name, "expected a table, got " + type_name(node.type()));
        continue;
      }
      for (const auto& [k, v] : *table) apply(name, std::string{k.str()}, v, k.source().begin.line);
    }
    std::stable_sort(found_.begin(), found_.end(),
                     [](const auto& a, const auto& b) { return a.line < b.line; });
    for (auto& f : found_) st_.out.problems.push_back(std::move(f.p));
  }

 private:
  void add(std::uint32_t line, std::string path, std::string message) {
    found_.push_back({line, {std::move(path), std::move(message)}});
  }

  void unknown_top_level(const std::string& name, const toml::node& node, std::uint32_t line) {
    if (node.is_table()) {
      std::vector<std::string> known(sections().begin(), sections().end());
      std::string msg = "unknown section";
      if (auto s = detail::did_you_mean(name, known)) msg += " (did you mean [" + *s + "]?)";
      add(line, name, msg);
      return;
    }
    // A key above the first [section] header is a common slip; point at its section.
    std::string msg = "unknown key";
    for (const auto& k : keys()) {
      if (k.name == name) {
        msg += " (keys belong in a section: [" + std::string{k.section} + "] " + name + ")";
        break;
      }
    }
    add(line, name, msg);
  }

  void apply(const std::string& section, const std::string& name, const toml::node& node,
             std::uint32_t line) {
    const key_info* k = find_key(section, name);
    std::string path = section + "." + name;
    if (!k) {
      std::vector<std::string> known;
      for (const auto& ki : keys()) {
        if (ki.section == section) known.emplace_back(ki.name);
      }
      std::string msg = "unknown key";
      if (auto s = detail::did_you_mean(name, known)) msg += " (did you mean " + *s + "?)";
      add(line, path, msg);
      return;
    }
    if (set(*k, node, line)) {
      st_.set_keys.insert(path);
      if (k->secret) {
        // design.md lets api_key live in the file, but the unit's EnvironmentFile keeps it out of
        // a file that is often world-readable or committed to configuration management.
        st_.out.warnings.push_back(
            {path, "a secret is stored in the config file; prefer the environment variable " +
                       k->env_var() + " (e.g. in /etc/kazoo-bridge/env)"});
      }
    } else {
      st_.failed_keys.insert(path);
    }
  }

  bool wrong_type(const key_info& k, const toml::node& node, std::uint32_t line) {
    add(line, k.path(), "expected " + expected_name(k.type) + ", got " + type_name(node.type()));
    return false;
  }

  bool set(const key_info& k, const toml::node& node, std::uint32_t line) {
    auto ref = k.field(st_.out.cfg);
    switch (k.type) {
      case key_type::string:
        if (!node.is_string()) return wrong_type(k, node, line);
        *std::get<std::string*>(ref) = node.as_string()->get();
        return true;
      case key_type::optional_string:
        if (!node.is_string()) return wrong_type(k, node, line);
        *std::get<std::optional<std::string>*>(ref) = node.as_string()->get();
        return true;
      case key_type::boolean:
        if (!node.is_boolean()) return wrong_type(k, node, line);
        *std::get<bool*>(ref) = node.as_boolean()->get();
        return true;
      case key_type::size: {
        if (!node.is_integer()) return wrong_type(k, node, line);
        auto v = node.as_integer()->get();
        if (v < 0) {
          add(line, k.path(), "must not be negative, got " + std::to_string(v));
          return false;
        }
        *std::get<std::size_t*>(ref) = static_cast<std::size_t>(v);
        return true;
      }
      case key_type::duration_ms:
      case key_type::duration_s: {
        if (!node.is_integer()) return wrong_type(k, node, line);
        auto v = node.as_integer()->get();
        std::int64_t scale = k.type == key_type::duration_s ? 1000 : 1;
        if (v > std::numeric_limits<std::int64_t>::max() / scale ||
            v < std::numeric_limits<std::int64_t>::min() / scale) {
          add(line, k.path(), "out of range, got " + std::to_string(v));
          return false;
        }
        *std::get<std::chrono::milliseconds*>(ref) = std::chrono::milliseconds{v * scale};
        return true;
      }
      case key_type::string_list: {
        const auto* arr = node.as_array();
        if (!arr) return wrong_type(k, node, line);
        std::vector<std::string> items;
        bool ok = true;
        for (std::size_t i = 0; i < arr->size(); ++i) {
          const auto& item = *arr->get(i);
          if (const auto* s = item.as_string()) {
            items.push_back(s->get());
          } else {
            add(item.source().begin.line, k.path() + "[" + std::to_string(i) + "]",
                "expected a string, got " + type_name(item.type()));
            ok = false;
          }
        }
        if (ok) *std::get<std::vector<std::string>*>(ref) = std::move(items);
        return ok;
      }
    }
    return false;
  }

  load_state& st_;
  std::vector<located_problem> found_;
};

// Everything after reading the file: TOML, environment, required keys, validate(). `text` is
// nullopt when the file could not be read (`read_error`); the environment is still checked so that
// one run reports every problem.
load_result load_text(std::optional<std::string_view> text, const std::string& source,
                      const std::map<std::string, std::string>& env,
                      std::optional<problem> read_error = std::nullopt) {
  load_state st;
  bool parsed = false;
  bool has_kazoo_section = false;
  if (read_error) st.out.problems.push_back(std::move(*read_error));
  if (text) {
    try {
      toml::table root = toml::parse(*text, source);
      parsed = true;
      has_kazoo_section = root.contains("kazoo");
      toml_pass{st}.run(root);
    } catch (const toml::parse_error& e) {
      const auto& at = e.source().begin;
      st.out.problems.push_back({source, "TOML syntax error at line " + std::to_string(at.line) +
                                             ", column " + std::to_string(at.column) + ": " +
                                             std::string{e.description()}});
    }
  }

  detail::apply_environment(st, env);

  // Without a parsed file, "required key is missing" and range checks would only be noise.
  if (!parsed) return std::move(st.out);

  bool any_required_missing = false;
  for (const auto& k : keys()) {
    if (k.required && !st.set_keys.contains(k.path()) && !st.failed_keys.contains(k.path())) {
      any_required_missing = true;
    }
  }
  if (!has_kazoo_section && any_required_missing) {
    st.out.problems.push_back({"kazoo", "required section is missing"});
  }
  for (const auto& k : keys()) {
    if (k.required && !st.set_keys.contains(k.path()) && !st.failed_keys.contains(k.path())) {
      st.out.problems.push_back({k.path(), "required key is missing"});
      st.failed_keys.insert(k.path());
    }
  }

  // A key whose given value was already rejected keeps its default, which validate() may dislike
  // too; one problem per key is enough.
  for (auto& p : validate(st.out.cfg)) {
    auto base = p.key_path.substr(0, p.key_path.find('['));
    if (st.failed_keys.contains(base)) continue;
    if (auto o = st.env_origin.find(base); o != st.env_origin.end()) {
      p.message += " (from " + o->second + ")";
    }
    st.out.problems.push_back(std::move(p));
  }
  return std::move(st.out);
}

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

load_result load_string(std::string_view toml_text, const std::map<std::string, std::string>& env) {
  return load_text(toml_text, "", env);
}

load_result load_file(const std::string& path, const std::map<std::string, std::string>& env) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return load_text(std::nullopt, path, env,
                     problem{path, "cannot read the file: it is a directory"});
  }
  std::unique_ptr<std::FILE, file_closer> f{std::fopen(path.c_str(), "rb")};
  if (!f) {
    return load_text(std::nullopt, path, env,
                     problem{path, std::string{"cannot read the file: "} + std::strerror(errno)});
  }
  std::string text;
  char buf[8192];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
  if (std::ferror(f.get())) {
    return load_text(std::nullopt, path, env,
                     problem{path, std::string{"cannot read the file: "} + std::strerror(errno)});
  }

  auto r = load_text(text, path, env);
  bool secret_in_file = std::any_of(r.warnings.begin(), r.warnings.end(), [](const problem& w) {
    return std::any_of(keys().begin(), keys().end(),
                       [&](const key_info& k) { return k.secret && k.path() == w.key_path; });
  });
  auto perms = fs::status(path, ec).permissions();
  if (!ec && secret_in_file && (perms & fs::perms::others_read) != fs::perms::none) {
    r.warnings.push_back({path, "holds a secret and is readable by every user; chmod o-r"});
  }
  return r;
}

std::string format_problem(const problem& p) {
  if (p.key_path.empty()) return p.message;
  return p.key_path + ": " + p.message;
}

}  // namespace kazoo_bridge::config
