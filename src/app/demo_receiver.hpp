#pragma once
// The demo's local hook receiver (`kazoo-bridge demo`): a real HTTP endpoint on loopback that the
// daemon's delivery engine POSTs to, standing in for Zapier's hooks.zapier.com, and that checks every
// delivery's Standard Webhooks signature the way a receiver should (docs/hooks.md).

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::net {
class http_server;
}

namespace kazoo_bridge::app {

/// Thread: its own io_context on its own thread (the daemon's I/O thread stays the daemon's); `print`
/// is called on that thread, once per delivery.
/// Lifetime: listens from construction until destruction (which stops and joins the thread).
/// Errors: the constructor throws when it cannot listen on 127.0.0.1.
class demo_receiver {
 public:
  using print_fn = std::function<void(const std::string& line)>;
  demo_receiver(std::string secret, print_fn print);
  ~demo_receiver();
  demo_receiver(const demo_receiver&) = delete;
  demo_receiver& operator=(const demo_receiver&) = delete;

  /// http://127.0.0.1:<port>/demo-hook
  const std::string& url() const { return url_; }

  struct state;

 private:
  asio::io_context ioc_{1};
  std::shared_ptr<state> state_;
  net::router router_;
  std::unique_ptr<net::http_server> server_;
  std::string url_;
  std::thread thread_;
};

}  // namespace kazoo_bridge::app
