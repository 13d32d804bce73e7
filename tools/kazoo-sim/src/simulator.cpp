#include "simulator.hpp"

#include <fstream>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>

namespace kazoo_sim {
namespace {

kazoo_bridge::tcp::endpoint parse_endpoint(const std::string& s) {
  std::string host;
  unsigned short port = 0;
  if (!split_host_port(s, host, port)) throw std::runtime_error("invalid listen address " + s);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("invalid listen address " + s);
  return {addr, port};
}

}  // namespace

std::filesystem::path default_scenarios_dir() {
  return std::filesystem::path(KAZOO_SIM_DEFAULT_SCENARIOS_DIR);
}
std::filesystem::path default_fixture_file() {
  return std::filesystem::path(KAZOO_SIM_DEFAULT_FIXTURE);
}

simulator::simulator(asio::any_io_executor ex, sim_options opts, std::shared_ptr<spdlog::logger> log)
    : ex_(std::move(ex)), opts_(std::move(opts)), log_(std::move(log)) {
  if (opts_.scenarios_dir.empty()) opts_.scenarios_dir = default_scenarios_dir();
  if (opts_.fixture.empty()) opts_.fixture = default_fixture_file();
  auto fx = load_fixture(opts_.fixture);
  if (!fx) throw std::runtime_error("cannot load fixture " + opts_.fixture.string());
  fx_ = std::move(*fx);
  if (fx_.accounts.empty()) throw std::runtime_error("fixture has no account: " + opts_.fixture.string());
  auto sc = load_scenarios(opts_.scenarios_dir);
  if (!sc) throw std::runtime_error("cannot load scenarios from " + opts_.scenarios_dir.string());
  for (const auto& name : opts_.play) {
    bool known = std::any_of(sc->begin(), sc->end(), [&](const scenario& s) { return s.name == name; });
    if (!known) throw std::runtime_error("unknown scenario " + name);
  }
  if (!opts_.scenario.empty() &&
      std::none_of(sc->begin(), sc->end(), [&](const scenario& s) { return s.name == opts_.scenario; })) {
    throw std::runtime_error("unknown scenario " + opts_.scenario);
  }
  std::ifstream in(opts_.fixture);
  auto fixture_doc = nlohmann::json::parse(in, nullptr, false);

  tokens_ = std::make_unique<token_store>(opts_.token_ttl_s, std::random_device{}());
  hub_options ho;
  ho.max_queued = opts_.bh_max_queued;
  ho.drop_after = opts_.drop_after;
  ho.garbage_every = opts_.garbage_every;
  hub_ = std::make_unique<hub>(ex_, ho);
  if (opts_.mode == run_mode::load) {
    load_options lo;
    lo.max_calls = opts_.calls;
    lo.calls_per_s = opts_.rate;
    lo.duration_s = opts_.duration_s;
    lo.scenario = opts_.scenario;
    lo.speed = opts_.speed;
    lo.seed = opts_.seed;
    lo.arrivals = opts_.arrivals;
    load_ = std::make_unique<load_generator>(ex_, *hub_, calls_, fx_, *sc, lo, log_);
  }
  player_ = std::make_unique<player>(ex_, *hub_, calls_, fx_, std::move(*sc), opts_.seed, log_);

  ws_server_options wo;
  wo.protocol.ping_pong = opts_.bh_ping;
  wo.protocol.bindings.qubicle = opts_.qubicle;
  wo.protocol.rate_limit = opts_.bh_rate_limit;
  wo.idle_timeout = std::chrono::seconds(opts_.bh_idle_timeout_s);
  wo.max_connections_per_ip = opts_.bh_max_connections_per_ip;
  ws_ = std::make_unique<ws_server>(ex_, parse_endpoint(opts_.ws_listen), *hub_, *tokens_, wo, log_);

  api_context ctx;
  ctx.fx = &fx_;
  ctx.fixture_doc = fixture_doc.is_discarded() ? nlohmann::json::object() : std::move(fixture_doc);
  ctx.tokens = tokens_.get();
  ctx.calls = &calls_;
  ctx.h = hub_.get();
  ctx.p = player_.get();
  ctx.ws_url = "ws://127.0.0.1:" + std::to_string(ws_port());
  ctx.rate_limit_burst = opts_.rate_limit_burst;
  ctx.rate_limit_refill = opts_.rate_limit_refill;
  ctx.extra_stats = [this] { return load_stats(); };
  api_ = std::make_unique<api_server>(ex_, parse_endpoint(opts_.api_listen), std::move(ctx), log_);
}

simulator::~simulator() = default;

unsigned short simulator::ws_port() const { return ws_->local_endpoint().port(); }
unsigned short simulator::api_port() const { return api_->local_endpoint().port(); }

nlohmann::json simulator::load_stats() const {
  if (!load_) return nlohmann::json::object();
  auto s = load_->stats();
  s["calls_live"] = player_->live_instances() + s["load_calls_live"].get<std::size_t>();
  return s;
}

std::string simulator::startup_line() const {
  auto host = [](const kazoo_bridge::tcp::endpoint& ep) {
    auto a = ep.address();
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  };
  const auto& acct = fx_.accounts.front();
  nlohmann::json line = {
      {"ws_url", "ws://" + host(ws_->local_endpoint()) + ":" + std::to_string(ws_port())},
      {"api_url", "http://" + host(api_->local_endpoint()) + ":" + std::to_string(api_port()) + "/v2"},
      {"api_key", acct.api_key},
      {"account_id", acct.id}};
  return line.dump();
}

void simulator::start(std::function<void()> on_done) {
  kazoo_bridge::spawn_logged(ex_, ws_->run(), "ws_server", log_);
  kazoo_bridge::spawn_logged(ex_, api_->run(), "api_server", log_);
  switch (opts_.mode) {
    case run_mode::idle:
      break;
    case run_mode::play:
      kazoo_bridge::spawn_logged(ex_, player_->run_sequence(opts_.play, opts_.flavour_, opts_.speed,
                                                                       opts_.legacy_string_durations),
                                 "play", log_);
      break;
    case run_mode::mix:
      kazoo_bridge::spawn_logged(ex_, player_->run_mix(opts_.speed, opts_.pause_ms), "mix", log_);
      break;
    case run_mode::load: {
      auto* load = load_.get();
      asio::co_spawn(ex_, load->run(), [on_done, log = log_](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            log->error("task=load failed: {}", x.what());
          }
        }
        if (on_done) on_done();
      });
      break;
    }
  }
}

void simulator::stop() {
  if (load_) load_->stop();
  player_->stop();
  api_->stop();
  ws_->stop();
}

}  // namespace kazoo_sim
