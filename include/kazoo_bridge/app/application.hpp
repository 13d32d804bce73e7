#pragma once
/// The daemon: owns the io_context, the DB thread and every component, starts them in dependency order
/// and stops them in reverse (style guide B.5), speaks sd_notify, and handles SIGINT/SIGTERM.

#include <functional>
#include <memory>

#include <kazoo_bridge/calls/tracker.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/log.hpp>
#include <kazoo_bridge/config/config.hpp>

namespace kazoo_bridge::store {
struct options;
}

namespace kazoo_bridge::app {

/// The store options the configuration asks for.
store::options storage_options(const config::config& cfg);

struct application_hooks {
  /// Every lifecycle event as it is handed to the store (I/O thread).
  std::function<void(const calls::lifecycle_event&)> on_event;
  /// Once the HTTP port listens (I/O thread).
  std::function<void(const tcp::endpoint&)> on_listening;
};

/// Thread: run() blocks the calling thread, which becomes the I/O thread. Lifetime: one run() per object.
/// Cancellation: SIGINT/SIGTERM or request_stop() (any thread) start a graceful drain: the API stops,
/// ingest stops reading, what was read is tracked and committed, then run() returns 0. Errors: a start-up
/// failure (database, bind, TLS files) throws std::runtime_error with a one-line reason.
class application {
 public:
  application(config::config cfg, const log_factory& logs);
  ~application();
  application(const application&) = delete;
  application& operator=(const application&) = delete;

  application_hooks hooks;

  int run();
  void request_stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kazoo_bridge::app
