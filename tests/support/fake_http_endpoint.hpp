#pragma once
// A scripted HTTP(S) endpoint on 127.0.0.1:0 (style guide B.9): our own http_server whose one
// catch-all handler records every request and answers from a script (e.g. 500, 500, 200; a delay
// longer than the client's timeout; a huge body). Stands in for Zapier, Salesforce, Kommo, Crossbar.
//
// Thread: the io_context thread (drive it with run_coro). Lifetime: construct inside the test,
// call `co_await shutdown()` (or stop() and keep running the loop until stopped()) before it is
// destroyed.

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kazoo_bridge/net/http.hpp>
#include <kazoo_bridge/net/http_server.hpp>
#include <kazoo_bridge/net/router.hpp>

namespace kazoo_bridge::test {

struct scripted_reply {
  net::http::status status = net::http::status::ok;
  std::string body = "{}";
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< e.g. {"Retry-After", "2"}
  std::chrono::milliseconds delay{0};                        ///< wait before answering
};

class fake_http_endpoint {
 public:
  /// Listens on 127.0.0.1:0 at once (HTTPS when `tls` is set) and starts serving.
  explicit fake_http_endpoint(asio::any_io_executor ex,
                              std::shared_ptr<asio::ssl::context> tls = nullptr);
  ~fake_http_endpoint();
  fake_http_endpoint(const fake_http_endpoint&) = delete;
  fake_http_endpoint& operator=(const fake_http_endpoint&) = delete;

  /// Queues the next reply (FIFO). When the queue is empty the default reply is used.
  void push(scripted_reply r);
  void push(net::http::status s, std::string body = "{}");
  /// The reply once the script is exhausted (200 "{}" unless changed).
  void set_default(scripted_reply r);

  std::uint16_t port() const { return port_; }
  /// "http(s)://127.0.0.1:<port>" + path
  std::string url(std::string_view path = "/") const;

  /// Every request received, in order (recorded before any scripted delay).
  const std::vector<net::request>& requests() const { return requests_; }
  std::size_t request_count() const { return requests_.size(); }

  /// Stops the server; stopped() turns true once its run() has returned.
  void stop();
  bool stopped() const { return finished_; }
  /// stop() and wait (inside a test coroutine) until the server has fully drained.
  awaitable<void> shutdown();

  net::http_server& server() { return *server_; }

 private:
  static awaitable<net::response> respond(fake_http_endpoint* self, net::request_context ctx);

  bool tls_ = false;
  net::router router_;
  std::unique_ptr<net::http_server> server_;
  std::uint16_t port_ = 0;
  std::deque<scripted_reply> script_;
  scripted_reply default_;
  std::vector<net::request> requests_;
  bool finished_ = false;
};

}  // namespace kazoo_bridge::test
