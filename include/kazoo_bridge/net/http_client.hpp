#pragma once
/// Outbound HTTP(S) client: one request on its own connection, with a deadline.

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>
#include <kazoo_bridge/net/http.hpp>

namespace kazoo_bridge::net {

struct client_options {
  std::chrono::milliseconds connect_timeout{5000};  ///< resolve + TCP connect + TLS handshake
  std::chrono::milliseconds total_timeout{15000};   ///< the whole exchange, connect included
  std::size_t max_body = 8u << 20;                  ///< response body limit => errc::too_large
  /// Optional guard against SSRF: called for every resolved address before connecting; addresses
  /// it rejects are skipped, and if none is left send() fails with errc::forbidden.
  std::function<bool(const asio::ip::address&)> allow_address;
  std::string user_agent = "kazoo-bridge/0.1";
};

struct client_request {
  http::verb method = http::verb::get;
  std::string url;  ///< absolute http:// or https:// URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;  ///< sets Content-Type when not empty
};

/// Thread/executor: I/O thread only. Stateless between requests: concurrent send() calls are
///   independent connections. (Connection pooling can be added behind send() later: the
///   connect step and the exchange step are separate internally.)
/// Lifetime: the ssl::context must outlive every send(); the client itself may be destroyed while
///   sends run only if the caller keeps options alive, so keep it alive until they complete.
/// Cancellation: a terminal cancellation of the awaiting coroutine aborts the request (the
///   socket is closed); the deadline always applies.
/// Errors: errc::timeout (deadline), errc::too_large (body above max_body), errc::forbidden
///   (allow_address rejected every address), boost::system::errc::invalid_argument (bad URL or
///   scheme), otherwise the network/TLS/HTTP-parse error as is (e.g. a certificate verification
///   failure comes back in the SSL category). HTTP statuses are NOT errors: any response,
///   including 3xx (never followed), 4xx and 5xx, is returned as a value.
class http_client {
 public:
  http_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls,
              client_options o = {});

  /// Sends one request on a fresh connection (Connection: close) and reads the whole response.
  /// TLS is verified (peer + host name) and sends SNI.
  awaitable<result<response>> send(client_request r);

 private:
  asio::any_io_executor ex_;
  std::shared_ptr<asio::ssl::context> tls_;
  client_options opts_;
};

}  // namespace kazoo_bridge::net
