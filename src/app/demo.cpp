// `kazoo-bridge demo`: the daemon on embedded defaults against the bundled Kazoo simulator, printing one
// readable line per lifecycle event until Ctrl-C.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <kazoo_bridge/app/application.hpp>
#include <kazoo_bridge/app/cli.hpp>
#include <kazoo_bridge/common/log.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/delivery/signature.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/hook_store.hpp>

#include "app/child_process.hpp"
#include "app/demo_receiver.hpp"

namespace kazoo_bridge::app {
namespace {

std::string find_simulator() {
  namespace fs = std::filesystem;
  auto here = fs::path(executable_dir());
  for (auto candidate : {here / "kazoo-sim", here / ".." / "tools" / "kazoo-sim" / "kazoo-sim",
                         fs::path("/usr/local/bin/kazoo-sim"), fs::path("/usr/bin/kazoo-sim")}) {
    if (::access(candidate.c_str(), X_OK) == 0) return fs::weakly_canonical(candidate).string();
  }
  throw std::runtime_error("cannot find the kazoo-sim executable next to kazoo-bridge (build it: make build)");
}

const char* colour_for(const std::string& type, bool tty) {
  if (!tty) return "";
  if (type == "call.missed") return "\033[31m";
  if (type == "call.answered" || type == "call.queue.answered") return "\033[32m";
  if (type == "call.ended") return "\033[90m";
  if (type == "call.started") return "\033[1m";
  return "\033[36m";
}

// A REST hook to the demo's receiver for every event of the simulator's account, as a Zap on "all users'
// calls" would create through POST /api/v1/hooks; written before the daemon starts, which loads it.
void subscribe_receiver(const std::string& database, const std::string& account_id, const std::string& url,
                        const std::string& secret) {
  std::string reason;
  auto db = store::database::open({.path = database, .synchronous = "normal", .busy_timeout = {},
                                   .background_checkpoint_pages = 0},
                                  reason);
  if (!db) throw std::runtime_error("cannot create the demo database: " + reason);
  store::hook_store hooks(**db);
  store::hook_row h;
  h.id = "hook_demo";
  h.account_id = account_id;
  h.user_id = "demo";
  h.target_url = url;
  h.event = "*";
  h.scope = "account";
  h.secret = secret;
  h.created_at_ms = h.updated_at_ms = now_unix_ms();
  if (auto ec = hooks.create(h)) throw std::runtime_error("cannot subscribe the demo hook receiver: " + ec.message());
}

std::string demo_secret() {
  std::random_device rd;
  std::string key(32, '\0');
  for (auto& ch : key) ch = static_cast<char>(rd() & 0xFF);
  return "whsec_" + delivery::base64_encode(key);
}

}  // namespace

int run_demo(const cli_args& a) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / fmt::format("kazoo-bridge-demo-{}", ::getpid());
  fs::create_directories(dir);
  const bool tty = ::isatty(STDOUT_FILENO) != 0;

  auto sim = child_process::spawn({find_simulator(), "--ws-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0",
                                   "--mix"},
                                  (dir / "kazoo-sim.log").string());
  if (!sim) throw std::runtime_error("cannot start kazoo-sim");
  auto line = sim->read_line(10000);
  if (!line) throw std::runtime_error("kazoo-sim did not start; see " + (dir / "kazoo-sim.log").string());
  auto info = nlohmann::json::parse(*line, nullptr, false);
  if (!info.is_object() || !info.contains("ws_url") || !info.contains("api_url") || !info.contains("api_key")) {
    throw std::runtime_error("kazoo-sim printed an unexpected start line: " + *line);
  }

  // Terminal lines come from two threads (the daemon's events, the receiver's deliveries).
  std::mutex out_mutex;
  auto print = [&out_mutex](const std::string& text) {
    std::lock_guard lock(out_mutex);
    std::cout << text << "\n" << std::flush;
  };
  const auto secret = demo_secret();
  demo_receiver receiver(secret, [&print, tty](const std::string& text) {
    print(std::string(tty ? "\033[35m" : "") + text + (tty ? "\033[0m" : ""));
  });
  subscribe_receiver((dir / "demo.db").string(), info.value("account_id", std::string{}), receiver.url(), secret);

  auto config_file = (dir / "demo.toml").string();
  {
    std::ofstream f(config_file);
    f << "# written by `kazoo-bridge demo`\n"
      << "[server]\nlisten = \"127.0.0.1:0\"\n\n"
      << "[storage]\ndatabase = \"" << (dir / "demo.db").string() << "\"\n\n"
      << "[kazoo]\napi_url = \"" << info["api_url"].get<std::string>() << "\"\n"
      << "websocket_url = \"" << info["ws_url"].get<std::string>() << "\"\n"
      << "api_key = \"" << info["api_key"].get<std::string>() << "\"\n\n"
      << "[hooks]\n# the demo's hook receiver listens on 127.0.0.1\nallow_private_targets = true\n\n"
      << "[log]\nlevel = \"warn\"\n";
  }
  auto loaded = config::load_file(config_file, {});
  if (!loaded.ok()) {
    for (const auto& p : loaded.problems) std::cerr << config::format_problem(p) << "\n";
    throw std::runtime_error("the demo configuration is invalid");
  }

  log_factory logs({.level = "warn", .format = "text", .timestamps = {}, .journald = {}});
  application app(loaded.cfg, logs);
  const auto self = (fs::path(executable_dir()) / "kazoo-bridge").string();
  app.hooks.on_listening = [&](const tcp::endpoint& ep) {
    std::lock_guard lock(out_mutex);
    std::cout << "kazoo-bridge demo: the Kazoo simulator plays calls; each lifecycle event prints below,\n"
              << "  and each delivery to a local REST hook receiver subscribed to every event (as a Zap\n"
              << "  would be), with its Standard Webhooks signature checked (" << receiver.url() << ").\n"
              << "  API:      http://127.0.0.1:" << ep.port() << "  (try /readyz and /metrics)\n"
              << "  Database: " << (dir / "demo.db").string() << "\n"
              << "  See the calls in another terminal:\n"
              << "    " << self << " calls --config " << config_file << "\n"
              << "    " << self << " events --config " << config_file << " --json\n"
              << "  Ctrl-C stops the demo.\n\n"
              << std::flush;
  };
  app.hooks.on_event = [tty, &print](const calls::lifecycle_event& e) {
    auto summary = e.payload.value("summary", std::string{});
    print(format_iso8601(e.occurred_at_ms).substr(11, 8) + "  " + colour_for(e.type, tty) +
          fmt::format("{:<20}", e.type) + (tty ? "\033[0m" : "") + "  " + summary);
  };
  int rc = app.run();
  sim->terminate(3000);
  if (!a.has("keep")) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    std::cout << "kept " << dir.string() << "\n";
  }
  return rc;
}

}  // namespace kazoo_bridge::app
