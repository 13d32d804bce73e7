// kazoo-sim: the bundled Kazoo simulator (tools/kazoo-sim/README.md). Thin: parse argv, build the
// simulator on one io_context thread, print the start-up line, run until SIGINT/SIGTERM.
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include <kazoo_bridge/common/log.hpp>

#include "src/simulator.hpp"

int main(int argc, char** argv) {
  using namespace kazoo_sim;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_options(args);
  if (std::holds_alternative<show_help>(parsed)) {
    std::cout << help_text();
    return 0;
  }
  if (auto* err = std::get_if<std::string>(&parsed)) {
    std::cerr << "kazoo-sim: " << *err << "\n";
    return 2;
  }
  auto opts = std::get<sim_options>(parsed);
  if (!kazoo_bridge::parse_log_level(opts.log_level)) {
    std::cerr << "kazoo-sim: unknown log level " << opts.log_level << "\n";
    return 2;
  }
  kazoo_bridge::log_factory logs(kazoo_bridge::log_options{opts.log_level, "text", std::nullopt, std::nullopt});
  auto log = logs.get("kazoo-sim");
  try {
    asio::io_context ioc{1};
    simulator sim(ioc.get_executor(), opts, log);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    bool load_mode = opts.mode == run_mode::load;
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      log->info("signal received; stopping");
      sim.stop();
      // Sessions still in their HTTP handshake have their own deadlines; don't wait for them.
      ioc.stop();
    });
    sim.start([&] {
      std::cout << sim.load_stats().dump() << std::endl;
      signals.cancel();
      sim.stop();
      ioc.stop();
    });
    std::cout << sim.startup_line() << std::endl;
    log->info("kazoo-sim listening ws=ws://127.0.0.1:{} api=http://127.0.0.1:{}/v2 mode={}",
              sim.ws_port(), sim.api_port(), load_mode ? "load" : "interactive");
    ioc.run();
  } catch (const std::exception& e) {
    log->error("kazoo-sim: {}", e.what());
    return 1;
  }
  return 0;
}
