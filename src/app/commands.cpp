#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/api/call_json.hpp>
#include <kazoo_bridge/app/application.hpp>
#include <kazoo_bridge/app/cli.hpp>
#include <kazoo_bridge/common/log.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/store/database.hpp>

#include "app/cli_support.hpp"

namespace kazoo_bridge::app {
namespace {

std::unique_ptr<store::database> open_database(const config::config& cfg) {
  std::string reason;
  auto db = store::database::open(storage_options(cfg), reason);
  if (!db) throw std::runtime_error(reason.empty() ? db.error().message() : reason);
  return std::move(*db);
}

std::size_t parse_limit(const cli_args& a, std::size_t def) {
  auto v = a.get("limit");
  if (!v) return def;
  char* end = nullptr;
  auto n = std::strtoul(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || n == 0 || n > 1000000) {
    throw std::runtime_error("--limit must be a whole number from 1 to 1000000, got '" + *v + "'");
  }
  return n;
}

std::string text_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string party(const nlohmann::json& s, const char* number_key, const char* name_key) {
  auto number = text_of(s, number_key), name = text_of(s, name_key);
  if (name == "-" || name == number) return number;
  return number + " (" + name + ")";
}

}  // namespace

/// "path: key.path: message", without repeating the path when the problem is about the file itself.
std::string problem_line(const std::string& path, const config::problem& p) {
  if (p.key_path == path) return path + ": " + p.message;
  return path + ": " + config::format_problem(p);
}

std::string config_path(const cli_args& a) {
  if (auto c = a.get("config")) return *c;
  if (const char* env = std::getenv("KAZOO_BRIDGE_CONFIG"); env && *env) return env;
  return "/etc/kazoo-bridge/kazoo-bridge.toml";
}

config::config load_config_or_throw(const cli_args& a, config_scope scope) {
  auto path = config_path(a);
  auto r = config::load_file(path, config::process_environment());
  std::vector<config::problem> relevant;
  for (const auto& p : r.problems) {
    bool in_scope = scope == config_scope::full || p.key_path.empty() || p.key_path.rfind("storage", 0) == 0 ||
                    p.key_path.rfind("log", 0) == 0 || p.key_path == path;
    if (in_scope) relevant.push_back(p);
  }
  if (!relevant.empty()) {
    for (const auto& p : relevant) std::cerr << problem_line(path, p) << "\n";
    throw std::runtime_error("invalid configuration (" + std::to_string(relevant.size()) + " problem" +
                             (relevant.size() == 1 ? "" : "s") + ")");
  }
  if (scope == config_scope::full) {
    for (const auto& w : r.warnings) std::cerr << "warning: " << problem_line(path, w) << "\n";
  }
  return r.cfg;
}

int run_serve(const cli_args& a) {
  auto cfg = load_config_or_throw(a, config_scope::full);
  log_factory logs({.level = cfg.log.level, .format = cfg.log.format, .timestamps = {}, .journald = {}});
  application app(cfg, logs);
  return app.run();
}

int run_check_config(const cli_args& a, std::ostream& out) {
  auto path = config_path(a);
  auto r = config::load_file(path, config::process_environment());
  for (const auto& w : r.warnings) std::cerr << "warning: " << problem_line(path, w) << "\n";
  if (r.ok()) {
    out << path << ": ok\n";
    return 0;
  }
  for (const auto& p : r.problems) std::cerr << problem_line(path, p) << "\n";
  return 1;
}

int run_migrate(const cli_args& a, std::ostream& out) {
  auto cfg = load_config_or_throw(a, config_scope::storage_only);
  auto db = open_database(cfg);  // open() applies pending migrations
  out << cfg.storage.database << ": schema version " << db->schema_version() << "\n";
  return 0;
}

int run_calls(const cli_args& a, std::ostream& out) {
  auto cfg = load_config_or_throw(a, config_scope::storage_only);
  auto limit = parse_limit(a, 20);
  auto db = open_database(cfg);
  auto rows = db->recent_calls(limit);
  if (!rows) throw std::runtime_error("cannot read calls: " + rows.error().message());
  if (a.has("json")) {
    // The same JSON as GET /api/v1/calls returns.
    for (const auto& row : *rows) out << api::call_json(row).dump() << "\n";
    return 0;
  }
  out << std::left << std::setw(21) << "STARTED (UTC)" << std::setw(10) << "DIRECTION" << std::setw(32) << "FROM"
      << std::setw(32) << "TO" << std::setw(9) << "STATUS" << std::setw(9) << "ANSWERED" << std::setw(9)
      << "DURATION" << "CALL ID\n";
  for (const auto& row : *rows) {
    auto s = nlohmann::json::parse(row.snapshot, nullptr, false);
    if (!s.is_object()) s = nlohmann::json::object();
    auto from = party(s, "from_number", "from_name"), to = party(s, "to_number", "to_name");
    auto duration = text_of(s, "duration_s");
    out << std::left << std::setw(21) << format_iso8601(row.started_at_ms) << std::setw(10) << row.direction
        << std::setw(32) << from.substr(0, 31) << std::setw(32) << to.substr(0, 31) << std::setw(9) << row.status
        << std::setw(9) << (row.answered ? "yes" : "no") << std::setw(9)
        << (duration == "-" ? duration : duration + "s") << row.call_id << "\n";
  }
  if (rows->empty()) out << "(no calls yet)\n";
  return 0;
}

int run_events(const cli_args& a, std::ostream& out) {
  auto cfg = load_config_or_throw(a, config_scope::storage_only);
  store::event_query q;
  q.call_id = a.get("call");
  q.type = a.get("type");
  q.limit = parse_limit(a, 100);
  auto db = open_database(cfg);
  auto rows = db->events(q);
  if (!rows) throw std::runtime_error("cannot read events: " + rows.error().message());
  for (const auto& row : *rows) {
    if (a.has("json")) {
      out << row.payload << "\n";  // exactly as a hook receives it
      continue;
    }
    auto p = nlohmann::json::parse(row.payload, nullptr, false);
    out << format_iso8601(row.occurred_at_ms) << "  " << std::left << std::setw(22) << row.type
        << (p.is_object() ? text_of(p, "summary") : std::string("-")) << "  [" << row.call_id << "]\n";
  }
  return 0;
}

}  // namespace kazoo_bridge::app
