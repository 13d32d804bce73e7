#include <kazoo_bridge/net/http_response.hpp>

namespace kazoo_bridge::net {

response json_response(http::status s, const nlohmann::json& body, unsigned version,
                       bool keep_alive) {
  response res{s, version};
  res.set(http::field::content_type, "application/json");
  // Invalid UTF-8 in a stored string must not turn a response into an exception.
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

response error_response(http::status s, std::string error, std::string description,
                        unsigned version, bool keep_alive) {
  return json_response(
      s, nlohmann::json{{"error", std::move(error)}, {"error_description", std::move(description)}},
      version, keep_alive);
}

}  // namespace kazoo_bridge::net
