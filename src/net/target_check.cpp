#include <kazoo_bridge/net/target_check.hpp>

#include <fmt/format.h>

#include <kazoo_bridge/net/address_policy.hpp>
#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::net {

result<void> check_target_url(std::string_view text, bool allow_private, std::string& reason) {
  const auto invalid = make_error_code(boost::system::errc::invalid_argument);
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    reason = "target_url must be an absolute http or https URL";
    return invalid;
  }
  std::string scheme(text.substr(0, scheme_end));
  for (auto& ch : scheme) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  if (scheme != "http" && scheme != "https") {
    reason = "target_url must use http or https";
    return invalid;
  }
  auto authority = text.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    reason = "target_url must not contain credentials (user:password@)";
    return invalid;
  }
  auto u = parse_url(text);
  if (!u) {
    reason = "target_url is not a valid URL (host, port, no spaces)";
    return invalid;
  }
  if (u->host.empty()) {
    reason = "target_url has no host";
    return invalid;
  }
  if (allow_private) return {};
  // "localhost" and its subdomains resolve to loopback by convention (RFC 6761 §6.3).
  if (u->host == "localhost" || u->host.ends_with(".localhost")) {
    reason = "target_url points to a private address (localhost)";
    return make_error_code(errc::forbidden);
  }
  if (u->host_is_ip()) {
    error_code ec;
    auto addr = boost::asio::ip::make_address(u->host, ec);
    if (!ec && !target_address_allowed(addr, false)) {
      reason = fmt::format("target_url points to a private address ({})", to_string(classify_address(addr)));
      return make_error_code(errc::forbidden);
    }
  }
  return {};
}

result<void> check_target_url(std::string_view url, bool allow_private) {
  std::string ignored;
  return check_target_url(url, allow_private, ignored);
}

}  // namespace kazoo_bridge::net
