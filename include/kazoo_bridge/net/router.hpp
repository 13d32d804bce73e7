#pragma once
/// Maps (method, path) to a handler coroutine. Patterns are literal segments plus "{name}"
/// placeholders that capture one whole, non-empty, percent-decoded segment.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/net/http.hpp>

namespace kazoo_bridge::net {

/// What a handler receives: the request, the peer address and the captured path parameters.
struct request_context {
  request req;
  asio::ip::address remote;
  std::map<std::string, std::string> params;  ///< "{id}" captures, decoded

  /// The request target without the query string.
  std::string_view path() const;
  /// The decoded query parameters (first value wins on repeats).
  std::map<std::string, std::string> query() const;
};

using handler = std::function<awaitable<response>(request_context)>;

/// Thread: I/O thread (dispatch); add() before the server starts. Immutable while serving.
/// Errors: dispatch answers 404 (unknown path) and 405 (+Allow) as JSON errors; an exception from a
/// handler propagates to the caller (http_server turns it into a 500).
class router {
 public:
  /// Registers `h` for `v` on `pattern` ("/api/v1/calls/{id}"). Throws std::invalid_argument on
  /// a malformed pattern or a duplicate (method, pattern) (a startup error).
  void add(http::verb v, std::string pattern, handler h);

  /// Called instead of the 404 reply when no pattern matches the path (tests' catch-all
  /// endpoints, custom 404 pages).
  void set_fallback(handler h);

  /// Routes the request: the most specific matching pattern wins (a literal segment beats a
  /// placeholder at the first position where they differ). Path known but method not => 405 with
  /// an Allow header. The handler's response is returned as is.
  awaitable<response> dispatch(request_context ctx) const;

  /// Every registered (method, pattern), in registration order (for the OpenAPI check).
  std::vector<std::pair<http::verb, std::string>> routes() const;

  /// Result of matching a path, exposed for tests.
  struct match_result {
    const handler* h = nullptr;                  ///< null: no route for this method
    std::string pattern;                         ///< the pattern that matched
    std::map<std::string, std::string> params;
    std::vector<http::verb> allowed;             ///< methods for this path (sorted), for 405
  };
  /// Pure matching; `path` without query string.
  match_result match(http::verb v, std::string_view path) const;

 private:
  struct route {
    http::verb verb;
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" kept with braces
    handler h;
  };
  std::vector<route> routes_;
  handler fallback_;
};

}  // namespace kazoo_bridge::net
