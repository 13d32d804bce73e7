#include "envelope.hpp"

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_sim {
namespace {

http_response make(const http_request& req, http::status status, const nlohmann::json& body,
                   const std::string& request_id) {
  http_response res{status, req.version()};
  res.set(http::field::server, "kazoo-sim");
  res.set(http::field::content_type, "application/json");
  if (!request_id.empty()) res.set("X-Request-ID", request_id);
  res.keep_alive(req.keep_alive());
  res.body() = body.dump();
  res.prepare_payload();
  return res;
}

nlohmann::json base(const envelope_meta& m, const std::string& token) {
  return nlohmann::json{{"auth_token", token},
                        {"request_id", m.request_id},
                        {"node", m.node},
                        {"version", "4.3.142"},
                        {"timestamp", kazoo_bridge::format_iso8601(kazoo_bridge::now_unix_ms())}};
}

}  // namespace

http_response crossbar_success(const http_request& req, const envelope_meta& m, nlohmann::json data,
                               http::status status, const nlohmann::json& extra) {
  auto body = base(m, m.auth_token);
  body["status"] = "success";
  body["revision"] = "undefined";
  body["data"] = std::move(data);
  for (const auto& [k, v] : extra.items()) body[k] = v;
  return make(req, status, body, m.request_id);
}

http_response crossbar_error(const http_request& req, const envelope_meta& m, http::status status,
                             const std::string& message, nlohmann::json data) {
  auto body = base(m, "");
  body["status"] = "error";
  body["error"] = std::to_string(static_cast<unsigned>(status));
  body["message"] = message;
  body["data"] = std::move(data);
  return make(req, status, body, m.request_id);
}

http_response json_response(const http_request& req, http::status status, const nlohmann::json& body) {
  return make(req, status, body, "");
}

}  // namespace kazoo_sim
