#pragma once
/// The HTTP client of REST hook deliveries: one signed JSON POST per attempt over a keep-alive
/// connection pool, with the SSRF check after DNS, a total deadline and a capped response read.

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::sinks {

struct hook_client_options {
  std::chrono::milliseconds connect_timeout{5000};  ///< resolve + connect + TLS handshake
  std::chrono::milliseconds total_timeout{15000};   ///< [hooks] timeout_s: the whole attempt
  std::size_t max_response_bytes = 4096;  ///< response body read up to this (the snippet), then closed
  bool allow_private_targets = false;     ///< [hooks] allow_private_targets (net/address_policy.hpp)
  std::size_t max_idle_per_origin = 16;   ///< idle keep-alive connections kept per scheme+host+port
  std::chrono::milliseconds idle_timeout{30000};  ///< an idle connection older than this is not reused
  std::string user_agent{};               ///< empty: "kazoo-bridge/<version>"
  std::size_t max_cached_targets = 16384;  ///< parsed target URLs kept; the cache restarts when full
};

/// One attempt. The Standard Webhooks headers are computed by the caller (delivery::sign):
/// webhook-id stays the same across attempts, the timestamp and signature are fresh per attempt.
struct hook_request {
  std::string url;           ///< the hook's target_url
  /// call_events.payload, sent byte for byte. Shared: one event fans out to many hooks, and the
  /// request points into it instead of copying ~2 KB per attempt.
  std::shared_ptr<const std::string> body;
  std::string webhook_id;    ///< the lifecycle event id
  std::int64_t timestamp_s = 0;
  std::string signature;     ///< "v1,<base64>"
};

/// What came back. `status` is set when an HTTP response header arrived (any status: redirects
/// are never followed); otherwise `error` says why (timeout, refused, forbidden address, TLS).
struct hook_response {
  std::optional<int> status;
  std::string snippet;                     ///< first max_response_bytes of the body
  std::optional<std::string> retry_after;  ///< the Retry-After header, as sent
  error_code error;
  std::string error_text;                  ///< short, for hook_deliveries.error; no URL, no secret
  std::chrono::milliseconds duration{0};
  bool reused_connection = false;
};

/// Thread: the I/O thread only (the pool is unsynchronised).
/// Lifetime: must outlive every post() in progress; the ssl::context too.
/// Cancellation: the total deadline always ends an attempt; a terminal cancellation of the awaiting
///   coroutine closes its socket.
/// Errors: never thrown; reported in hook_response (errc::timeout, errc::forbidden for a target
///   that resolves to a forbidden address, errc::too_large is not used: the body is cut, not failed).
class hook_client {
 public:
  hook_client(asio::any_io_executor ex, std::shared_ptr<asio::ssl::context> tls, hook_client_options o = {});
  ~hook_client();
  hook_client(const hook_client&) = delete;
  hook_client& operator=(const hook_client&) = delete;

  /// POSTs `r` (Content-Type application/json, User-Agent, webhook-id/-timestamp/-signature).
  /// A reused keep-alive connection that turns out closed before any response byte is retried
  /// once on a fresh connection. A header value with a control character (CR, LF, NUL...: the
  /// webhook-id, the signature, the User-Agent) is refused before anything is sent
  /// (boost::system::errc::invalid_argument, "invalid header value").
  awaitable<hook_response> post(hook_request r);

  /// Idle pooled connections across origins (tests, metrics).
  std::size_t idle_connections() const;
  /// Closes every idle connection (shutdown).
  void close_idle();

  struct connection;

 private:
  struct origin_pool;
  struct target;

  /// The parsed form of a target URL, cached: deliveries go to the same few thousand hook URLs
  /// over and over. nullptr: not a URL we can post to.
  std::shared_ptr<const target> find_target(const std::string& url);
  std::unique_ptr<connection> take_idle(origin_pool& pool);
  void give_back(origin_pool& pool, std::unique_ptr<connection> c);

  asio::any_io_executor ex_;
  std::shared_ptr<asio::ssl::context> tls_;
  hook_client_options opts_;
  /// By target URL. Shared with the attempts in flight, so dropping an entry never pulls a target
  /// (or its origin's pool) from under a suspended post().
  std::unordered_map<std::string, std::shared_ptr<const target>> targets_;
  /// Idle connections by origin (scheme://host:port): the URLs of one origin share them.
  std::unordered_map<std::string, std::shared_ptr<origin_pool>> pools_;
};

}  // namespace kazoo_bridge::sinks
