#pragma once
/// Project-wide error codes and the result<T> alias (style guide B.4).
/// Free of Asio/Beast/SQLite/spdlog so that pure modules may use it.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <type_traits>

namespace kazoo_bridge {

using error_code = boost::system::error_code;

/// A fallible operation returns result<T>; the error is an error_code.
template <class T>
using result = boost::system::result<T>;

/// Domain errors. Low-level errors are translated into these at module boundaries.
enum class errc {
  bad_payload = 1,    ///< malformed JSON or a document of the wrong shape
  bad_config,         ///< configuration rejected by validation
  auth_failed,        ///< credentials refused (HTTP 401/404 on api_auth/user_auth)
  auth_expired,       ///< a token that was valid has expired (HTTP 401 on a later request)
  forbidden,          ///< HTTP 403
  not_found,          ///< HTTP 404 on a resource
  rate_limited,       ///< HTTP 429
  peer_error,         ///< the peer answered an error we cannot classify further (4xx)
  unavailable,        ///< the peer is down or answered 5xx
  timeout,            ///< a deadline expired
  too_large,          ///< a message or body exceeded its limit
  closed,             ///< the channel or connection was closed by us (shutdown)
  protocol_error,     ///< the peer broke the protocol (bad frame, error reply)
  endpoint_gone,      ///< HTTP 410
  database_error,     ///< SQLite failed
};

const boost::system::error_category& category() noexcept;

inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace kazoo_bridge

template <>
struct boost::system::is_error_code_enum<kazoo_bridge::errc> : std::true_type {};
