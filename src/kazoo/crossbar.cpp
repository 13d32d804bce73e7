#include <kazoo_bridge/kazoo/crossbar.hpp>

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge::kazoo {
namespace {

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-' || c == '+') v = 62;
    else if (c == '_' || c == '/') v = 63;
    else if (c == '=') break;
    else return std::nullopt;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFFu));
    }
  }
  return out;
}

std::string json_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

std::optional<std::int64_t> jwt_expiry_ms(std::string_view token) {
  auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  auto second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) return std::nullopt;
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) return std::nullopt;
  return exp->get<std::int64_t>() * 1000;
}

bool token_needs_refresh(const auth_token& t, std::int64_t now_ms, std::int64_t margin_ms) {
  return t.token.empty() || now_ms + margin_ms >= t.expires_at_ms;
}

result<auth_token> token_from_auth_response(const nlohmann::json& envelope, std::int64_t now_ms) {
  auth_token t;
  t.token = json_string(envelope, "auth_token");
  const auto data = envelope.find("data");
  if (t.token.empty() || data == envelope.end() || !data->is_object()) return errc::bad_payload;
  t.account_id = json_string(*data, "account_id");
  if (t.account_id.empty()) return errc::bad_payload;
  if (auto owner = json_string(*data, "owner_id"); !owner.empty()) t.owner_id = owner;
  t.expires_at_ms = jwt_expiry_ms(t.token).value_or(now_ms + default_token_lifetime_ms);
  return t;
}

result<nlohmann::json> classify_response(unsigned status, std::string_view body, bool is_auth_request) {
  // nlohmann::json converts from almost anything, so the error is named explicitly.
  auto fail = [](errc e) { return result<nlohmann::json>(boost::system::in_place_error, make_error_code(e)); };
  if (status >= 500) return fail(errc::unavailable);
  if (status == 401) return fail(is_auth_request ? errc::auth_failed : errc::auth_expired);
  // api_auth answers an unknown key with 404 bad identifier (§5.2): for us that is a refused credential.
  if (status == 404) return fail(is_auth_request ? errc::auth_failed : errc::not_found);
  if (status == 403) return fail(errc::forbidden);
  if (status == 423) return fail(errc::forbidden);  // account disabled or expired ("locked")
  if (status == 429) return fail(errc::rate_limited);
  if (status >= 400) return fail(is_auth_request ? errc::auth_failed : errc::peer_error);
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(errc::bad_payload);
  return j;
}

std::string api_auth_body(std::string_view api_key) {
  return nlohmann::json{{"data", {{"api_key", std::string(api_key)}}}}.dump();
}

std::string user_auth_body(std::string_view account_name, std::string_view credentials_md5) {
  return nlohmann::json{{"data",
                         {{"credentials", std::string(credentials_md5)},
                          {"account_name", std::string(account_name)},
                          {"method", "md5"}}}}
      .dump();
}

std::optional<std::string> next_page_path(std::string_view first_page_path, const nlohmann::json& envelope) {
  auto it = envelope.find("next_start_key");
  if (it == envelope.end() || it->is_null()) return std::nullopt;
  std::string key = it->is_string() ? it->get<std::string>() : it->dump();
  if (key.empty()) return std::nullopt;
  std::string base(first_page_path);
  std::string encoded;
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || ch == '-' || ch == '_' || ch == '.' || ch == '~') encoded.push_back(ch);
    else encoded += fmt::format("%{:02X}", c);
  }
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "start_key=" + encoded;
}

std::string cdrs_path(std::string_view account_id, std::int64_t from_unix_s, std::int64_t to_unix_s) {
  from_unix_s = std::max(from_unix_s, to_unix_s - cdr_max_range_s);
  return fmt::format("/accounts/{}/cdrs?created_from={}&created_to={}&ascending=true&page_size=100", account_id,
                     unix_to_gregorian_s(from_unix_s), unix_to_gregorian_s(to_unix_s));
}

}  // namespace kazoo_bridge::kazoo
