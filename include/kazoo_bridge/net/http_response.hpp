#pragma once
/// Builders for the JSON responses every HTTP handler returns.

#include <nlohmann/json.hpp>
#include <string>

#include <kazoo_bridge/net/http.hpp>

namespace kazoo_bridge::net {

/// `body` serialised as application/json; Content-Length set.
response json_response(http::status s, const nlohmann::json& body, unsigned version = 11,
                       bool keep_alive = true);

/// The error shape of the whole API (design.md, RFC 6749 §5.2):
/// {"error": error, "error_description": description}. By default the connection is closed after
/// it (every error the server itself generates does so); handlers may pass keep_alive = true.
response error_response(http::status s, std::string error, std::string description,
                        unsigned version = 11, bool keep_alive = false);

}  // namespace kazoo_bridge::net
