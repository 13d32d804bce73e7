#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <kazoo_bridge/kazoo/quickcall.hpp>

namespace kazoo_bridge::kazoo {
namespace {

// RFC 3986 §2.3 unreserved characters stay, everything else is percent-encoded.
std::string encode_segment(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || ch == '-' || ch == '.' || ch == '_' ||
                            ch == '~';
    if (unreserved)
      out.push_back(ch);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Kazoo's words for an error (§5.1): quickcall failures carry data.error_message (e.g.
// DESTINATION_OUT_OF_ORDER), others data.message, and the envelope has message too.
std::string message_of(const nlohmann::json& env) {
  const auto data = env.is_object() && env.contains("data") ? env["data"] : nlohmann::json();
  if (auto detail = string_at(data, "error_message"); !detail.empty()) {
    auto general = string_at(env, "message");
    return general.empty() ? detail : general + ": " + detail;
  }
  if (auto s = string_at(data, "message"); !s.empty()) return s;
  // 400 validation: data = {"field": {"rule": {"message": ...}}}
  if (data.is_object()) {
    for (const auto& [field, rules] : data.items()) {
      if (!rules.is_object()) continue;
      for (const auto& detail : rules) {
        if (auto s = string_at(detail, "message"); !s.empty()) return field + ": " + s;
      }
    }
  }
  return string_at(env, "message");
}

}  // namespace

std::string quickcall_path(const quickcall_request& q) {
  const char* kind = q.target == quickcall_target::user ? "users" : "devices";
  return fmt::format("/accounts/{}/{}/{}/quickcall/{}?auto_answer={}&timeout={}",
                     encode_segment(q.account_id), kind, encode_segment(q.target_id),
                     encode_segment(q.number), q.auto_answer ? "true" : "false",
                     q.ring_timeout.count());
}

quickcall_answer classify_quickcall(unsigned http_status, std::string_view body) {
  const auto env = nlohmann::json::parse(body, nullptr, false);
  quickcall_answer a;
  if (http_status >= 200 && http_status < 300) {
    a.status = quickcall_status::started;
    if (env.is_object() && env.contains("data")) {
      // cb_quickcall answers with the originate request it sent; normalised JSON spells it in snake
      // case.
      for (const auto* key : {"Outbound-Call-ID", "outbound_call_id"}) {
        if (auto id = string_at(env["data"], key); !id.empty()) {
          a.call_id = id;
          break;
        }
      }
    }
    return a;
  }
  a.message = env.is_discarded() ? std::string() : message_of(env);
  if (http_status == 401)
    a.status = quickcall_status::auth_expired;
  else if (http_status == 404)
    a.status = quickcall_status::not_found;
  else if (http_status == 429)
    a.status = quickcall_status::rate_limited;
  else if (http_status == 500 &&
           (a.message.find("quickcall initiation failed") != std::string::npos ||
            a.message.find("unspecified_fault") != std::string::npos)) {
    // Kazoo answered and could not originate (no device to ring, the originate failed): a refusal,
    // retrying the same request will not help (cb_quickcall, §5.4).
    a.status = quickcall_status::failed;
  } else if (http_status >= 500)
    a.status = quickcall_status::unavailable;
  else if (http_status >= 400)
    a.status = quickcall_status::refused;
  else
    a.status = quickcall_status::unavailable;  // 1xx/3xx: not a Crossbar answer
  return a;
}

}  // namespace kazoo_bridge::kazoo
