#pragma once
/// The HTTP side of the simulator: the Crossbar subset under /v2 (reference/kazoo.md §5: envelopes,
/// statuses, api_auth/user_auth tokens, users, devices, channels, cdrs, quickcall, clicktocall)
/// and the control API under /sim (play, fault, stats) that tests and the demo drive.
///
/// Thread: I/O thread only. Lifetime: must outlive run(); call stop() and let the loop drain.
/// Cancellation: stop() closes the acceptor; keep-alive sessions end at their next read.
/// Errors: bind failures throw from the constructor; every request error is an HTTP response.

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "call_state.hpp"
#include "hub.hpp"
#include "player.hpp"
#include "token_store.hpp"

namespace kazoo_sim {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

struct api_context {
  const fixture* fx = nullptr;
  nlohmann::json fixture_doc;  ///< the raw fixture file (numbers, caller_id, ... beyond the structs)
  token_store* tokens = nullptr;
  call_state* calls = nullptr;
  hub* h = nullptr;
  player* p = nullptr;
  std::string ws_url;
  double rate_limit_burst = 0;  ///< 0 = off
  double rate_limit_refill = 10;
  std::function<nlohmann::json()> extra_stats;  ///< load-mode counters for /sim/stats
};

class api_server {
 public:
  api_server(asio::any_io_executor ex, const kazoo_bridge::tcp::endpoint& listen, api_context ctx,
             std::shared_ptr<spdlog::logger> log);

  kazoo_bridge::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  kazoo_bridge::awaitable<void> run();
  void stop();

  /// One request -> one response (exposed for tests of the routing table).
  kazoo_bridge::awaitable<http_response> handle(http_request req, std::string client_ip);

 private:
  struct bucket {
    double tokens;
    std::int64_t last_ms;
  };
  kazoo_bridge::awaitable<void> run_session(kazoo_bridge::tcp::socket socket);
  kazoo_bridge::awaitable<http_response> handle_v2(const http_request& req, std::string path,
                                                   std::map<std::string, std::string> query);
  http_response handle_sim(const http_request& req, const std::string& path);
  bool take_token(const std::string& ip);

  kazoo_bridge::tcp::acceptor acceptor_;
  api_context ctx_;
  std::shared_ptr<spdlog::logger> log_;
  std::mt19937_64 rng_;
  std::map<std::string, bucket> buckets_;
  std::string node_;
  /// "quickcall" fault: the HTTP status every quickcall answers with (0 = behave normally).
  unsigned quickcall_fault_status_ = 0;
};

}  // namespace kazoo_sim
