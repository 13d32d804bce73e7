#pragma once
// An engine over a real SQLite file, driven on the test thread's io_context, delivering to real
// loopback HTTP sinks (fake_http_endpoint).

#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>
#include <vector>

#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/delivery/engine.hpp>

#include "hook_db.hpp"
#include "support/fake_http_endpoint.hpp"
#include "support/log_capture.hpp"
#include "support/run_coro.hpp"
#include "support/wait_until.hpp"

namespace kazoo_bridge::test {

inline delivery::engine_options fast_options() {
  using namespace std::chrono_literals;
  delivery::engine_options o;
  o.allow_private_targets = true;  // the sinks are on 127.0.0.1
  o.timeout = 1000ms;
  o.retry_schedule = {0s, 0s, 0s, 0s};  // retries at once: the tests need no waiting
  o.poll_interval = 200ms;
  return o;
}

struct engine_fixture {
  explicit engine_fixture(delivery::engine_options o = fast_options()) : opts(std::move(o)) {}

  ~engine_fixture() { db_thread.join(); }

  void start() {
    eng = std::make_unique<delivery::engine>(ioc.get_executor(), db_thread, db.db(), opts, metrics, log.logger(),
                                             nullptr);
    eng->on_hook_deleted = [this](const std::string& id) { deleted.push_back(id); };
    eng->on_hook_disabled = [this](const std::string& id) { disabled.push_back(id); };
    running = true;
    asio::co_spawn(ioc, eng->run(), [this](std::exception_ptr e) {
      running = false;
      error = e;
    });
  }

  awaitable<void> stop() {
    eng->stop();
    co_await wait_until([this] { return !running; }, std::chrono::seconds(5));
  }

  /// The status of the event's outbox row for the hook turns `status`.
  awaitable<bool> until_status(std::string event_id, std::string hook_id, std::string status,
                               std::chrono::milliseconds limit = std::chrono::seconds(4)) {
    co_return co_await wait_until([&] { return db.outbox_status(event_id, hook_id) == status; }, limit);
  }

  asio::io_context ioc;
  asio::thread_pool db_thread{1};
  hook_db db;
  metrics_registry metrics;
  log_capture log{"delivery"};
  delivery::engine_options opts;
  std::unique_ptr<delivery::engine> eng;
  std::vector<std::string> deleted, disabled;
  bool running = false;
  std::exception_ptr error;
};

}  // namespace kazoo_bridge::test
