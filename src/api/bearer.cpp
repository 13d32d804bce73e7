#include <kazoo_bridge/api/bearer.hpp>

#include <algorithm>
#include <cctype>

namespace kazoo_bridge::api {
namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 6750 §3: the attribute values are quoted-strings whose characters are limited to
// %x20-21 / %x23-5B / %x5D-7E, i.e. printable ASCII without '"' and '\': nothing needs escaping then.
std::string quoted_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c <= 0x7E && c != '"' && c != '\\') out.push_back(ch);
  }
  return out;
}

}  // namespace

bool is_b64token(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!(std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/')) break;
    ++i;
  }
  if (i == 0) return false;
  while (i < s.size() && s[i] == '=') ++i;
  return i == s.size();
}

parsed_authorization parse_authorization(std::optional<std::string_view> header_value) {
  if (!header_value) return {};
  const std::string_view v = trim_ows(*header_value);
  const auto space = v.find(' ');
  const std::string_view scheme = v.substr(0, space);
  if (!iequals(scheme, "Bearer")) {
    // An empty value or a scheme that is not a token at all is a broken header; Basic & co. are
    // simply not our scheme (RFC 6750 §3.1: answer with the bare challenge, no error code).
    const bool token68ish = !scheme.empty() && std::all_of(scheme.begin(), scheme.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
    });
    return {token68ish ? authorization_kind::other : authorization_kind::malformed, {}};
  }
  if (space == std::string_view::npos) return {authorization_kind::malformed, {}};
  std::string_view rest = v.substr(space);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);  // 1*SP
  if (!is_b64token(rest)) return {authorization_kind::malformed, {}};
  return {authorization_kind::bearer, std::string(rest)};
}

std::string www_authenticate(const bearer_challenge& c) {
  std::string out = "Bearer";
  bool first = true;
  auto attr = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    out += first ? " " : ", ";
    first = false;
    out += name;
    out += "=\"";
    out += quoted_value(value);
    out += '"';
  };
  attr("realm", c.realm);
  attr("error", c.error);
  attr("error_description", c.error_description);
  attr("scope", c.scope);
  return out;
}

}  // namespace kazoo_bridge::api
