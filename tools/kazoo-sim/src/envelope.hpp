#pragma once
/// Crossbar response envelopes (reference/kazoo.md §5.1): success and error bodies, with the HTTP
/// status mirrored in "error".

#include <string>

#include <nlohmann/json.hpp>

#include "api_server.hpp"

namespace kazoo_sim {

struct envelope_meta {
  std::string request_id;
  std::string node;
  std::string auth_token;  ///< echoed on success (the new token for *_auth)
};

http_response crossbar_success(const http_request& req, const envelope_meta& m, nlohmann::json data,
                               http::status status = http::status::ok,
                               const nlohmann::json& extra = nlohmann::json::object());

/// `message` is the short code ("invalid_credentials", "forbidden", "bad_identifier",
/// "validation error", "too_many_requests"...); `data` the detail object.
http_response crossbar_error(const http_request& req, const envelope_meta& m, http::status status,
                             const std::string& message, nlohmann::json data);

/// Plain JSON response for the /sim control API.
http_response json_response(const http_request& req, http::status status, const nlohmann::json& body);

}  // namespace kazoo_sim
