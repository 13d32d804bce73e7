#pragma once
/// The authenticated API of issue #3: GET /api/v1/me, GET /api/v1/calls, GET /api/v1/calls/{call_id}
/// (docs/api.md has every request and response).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include <kazoo_bridge/api/caller.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/net/router.hpp>
#include <kazoo_bridge/store/call_history.hpp>

namespace kazoo_bridge::api {

struct v1_options {
  std::string realm = "kazoo-bridge";        ///< the realm of every WWW-Authenticate challenge
  std::chrono::seconds retry_after{5};       ///< Retry-After of a 503 (token or database unavailable)
  std::size_t max_timeline_events = 1000;    ///< events returned with one call, the oldest
};

/// What the routes use. authenticate is called on the I/O thread; `history` is only touched on
/// `db_thread` (through offload()).
struct v1_deps {
  authenticate_fn authenticate;
  asio::thread_pool& db_thread;
  store::call_history& history;
  std::shared_ptr<spdlog::logger> log;
  v1_options options{};
};

/// Registers the v1 routes on `r`.
///
/// Thread: handlers run on the I/O thread; reads run on db_thread and resume on the I/O thread.
/// Lifetime: db_thread, history and what authenticate refers to outlive the router's use.
/// Cancellation: a handler cancelled by the server's stop() abandons its request (reads are
///   read-only, nothing to undo).
/// Errors (JSON {"error", "error_description"}, design.md): 401 without a bearer token or with one
///   authenticate does not know, with WWW-Authenticate (RFC 6750 §3); 400 invalid_request for a
///   malformed Authorization header, an access_token query parameter (RFC 6750 §2.3 / RFC 9700) or
///   bad query parameters; 403 insufficient_scope (scope="calls") without calls/account; 404 for a
///   call that is not visible (another account's looks the same as a missing one); 503 with
///   Retry-After when authenticate or the database fails.
void add_v1_routes(net::router& r, v1_deps d);

/// Which calls a caller sees: every call of the account (scope `account`, granted only to Kazoo
/// account admins, and the admin flag still set) or the calls they are a party of (scope `calls`).
/// nullopt when neither applies (403 insufficient_scope).
struct visibility {
  bool whole_account = false;
};
std::optional<visibility> visibility_of(const caller& c);

}  // namespace kazoo_bridge::api
