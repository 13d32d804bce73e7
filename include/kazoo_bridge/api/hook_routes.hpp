#pragma once
/// REST hook subscriptions and Zapier's sample data (issue #4, docs/api.md "Hooks"):
/// POST/GET /api/v1/hooks, GET/DELETE/PATCH /api/v1/hooks/{id}, GET /api/v1/hooks/{id}/deliveries,
/// POST /api/v1/hooks/{id}/replay and GET /api/v1/events.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <kazoo_bridge/api/caller.hpp>
#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/delivery/subscriptions.hpp>
#include <kazoo_bridge/net/router.hpp>
#include <kazoo_bridge/store/hook_store.hpp>

namespace kazoo_bridge::api {

struct hook_options {
  std::string realm = "kazoo-bridge";       ///< the realm of every WWW-Authenticate challenge
  std::chrono::seconds retry_after{5};      ///< Retry-After of a 503 (token or database unavailable)
  std::size_t max_hooks_per_user = 100;     ///< POST beyond it: 400 too_many_hooks
  std::size_t max_body_bytes = 16 * 1024;   ///< a larger POST/PATCH body: 413
  std::size_t max_replay_events = 1000;     ///< events one replay request looks at (the oldest of the range)
  /// Accept loopback/private/link-local target addresses (tests, a CRM on the LAN). Off by default:
  /// a subscriber must not make the daemon POST into the operator's network (SSRF).
  bool allow_private_targets = false;
};

/// What the routes use. authenticate is called on the I/O thread; `hooks` is only touched on
/// `db_thread` (through offload()); `index` only on the I/O thread.
struct hook_deps {
  authenticate_fn authenticate;
  asio::thread_pool& db_thread;
  store::hook_store& hooks;
  delivery::subscription_index& index;
  std::function<void()> wake_delivery;  ///< after a replay or a re-enable: new outbox rows may be due
  std::shared_ptr<spdlog::logger> log;
  hook_options options{};
};

/// Registers the hook routes and GET /api/v1/events on `r`.
///
/// Thread: handlers run on the I/O thread; store work runs on db_thread and resumes on the I/O
///   thread, where the index is updated (create: put, delete: erase, re-enable: put active).
/// Lifetime: db_thread, hooks, index and what authenticate/wake_delivery refer to outlive the router's use.
/// Cancellation: a handler cancelled by the server's stop() abandons its request; a store write
///   already offloaded completes and the index may then miss it until the next start (it is loaded
///   from the table at start-up).
/// Errors (JSON {"error", "error_description"}): 401/400 bearer problems as in v1_routes.hpp;
///   403 insufficient_scope; 404 not_found for an unknown hook or one the caller may not see;
///   400 invalid_request / invalid_target / too_many_hooks; 413 for a body above max_body_bytes;
///   503 with Retry-After when authenticate or the database fails.
void add_hook_routes(net::router& r, hook_deps d);

/// A validated POST /api/v1/hooks body.
struct hook_spec {
  std::string target_url, event, scope;
  delivery::subscription_filters filters{};
};

/// The outcome of parse_hook_spec: spec set, or error ("invalid_request" | "invalid_target") with a
/// description a developer can act on.
struct hook_spec_result {
  std::optional<hook_spec> spec;
  std::string error, description;
};

/// Validates a POST /api/v1/hooks body: target_url (aliases targetUrl, url, hookUrl) checked with
/// target_problem(); event a design.md lifecycle type or "*"; scope "user" (default) or "account";
/// filters an object of direction (inbound|outbound|internal), user_id (account scope only) and
/// include_internal (boolean). Unknown keys (top level and in filters) are refused.
hook_spec_result parse_hook_spec(const nlohmann::json& body, bool allow_private_targets);

/// Why a URL cannot be a hook target, or "" when it can: absolute http/https URL, no user info, at
/// most 2048 characters, and (unless allow_private) a host that is not a loopback, private,
/// link-local, unspecified or multicast IP literal nor "localhost". Host names are resolved only at
/// delivery time, where the delivery engine checks the address it connects to.
/// TEMPORARY: a minimal stand-in for net::check_target_url (include/kazoo_bridge/net/target_check.hpp,
/// written by the delivery side); the integrator switches parse_hook_spec to it.
std::string target_problem(std::string_view url, bool allow_private);

/// The `filters` column: {"direction": string|null, "user_id": string|null, "include_internal": bool}.
std::string filters_text(const delivery::subscription_filters& f);
/// Reads the `filters` column back (unknown or malformed members are ignored).
delivery::subscription_filters filters_from_text(std::string_view text);
/// The index entry of a stored hook (active when its status is "active").
delivery::subscription subscription_of(const store::hook_row& h);

/// The public JSON of a hook (GET/POST /api/v1/hooks): never the secret.
nlohmann::json hook_json(const store::hook_row& h);

/// GET /api/v1/events' stand-in when no real event is visible: a payload of `type` (call.missed
/// when "*" or empty) with every design.md key present, marked as an example three ways:
/// "example": true, an id starting "evt_example_", a summary starting "Example: ".
nlohmann::json example_event(std::string_view type, const caller& c);

}  // namespace kazoo_bridge::api
