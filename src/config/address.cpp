#include "config/address.hpp"

#include <algorithm>
#include <cctype>

namespace kazoo_bridge::config::detail {
namespace {

bool is_port(std::string_view p, bool allow_zero) {
  if (p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char ch : p) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
    v = v * 10 + static_cast<unsigned>(ch - '0');
  }
  return v <= 65535 && (allow_zero || v > 0);
}

// A DNS name or IPv4 address (RFC 3986 reg-name restricted to what resolvers accept), or an IPv6
// literal in brackets (RFC 3986 §3.2.2).
std::optional<std::string> check_host(std::string_view h) {
  if (h.empty()) return "the host is missing";
  if (h.front() == '[') {
    if (h.size() < 4 || h.back() != ']')
      return "an IPv6 address must be written in brackets, e.g. [::1]";
    auto inner = h.substr(1, h.size() - 2);
    bool ok = std::all_of(inner.begin(), inner.end(), [](char ch) {
      return std::isxdigit(static_cast<unsigned char>(ch)) || ch == ':' || ch == '.';
    });
    if (!ok || inner.find(':') == std::string_view::npos) return "the IPv6 address is malformed";
    return std::nullopt;
  }
  if (h.find(':') != std::string_view::npos) {
    return "an IPv6 address must be written in brackets, e.g. [::1]";
  }
  bool ok = std::all_of(h.begin(), h.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_';
  });
  if (!ok) return "the host contains characters not allowed in a host name";
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out;
  for (char ch : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

std::optional<std::string> check_listen(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return "must be host:port, e.g. 127.0.0.1:8080";
  auto host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  // "::1:8080" would be ambiguous; RFC 3986 brackets make it "[::1]:8080".
  bool bracketed = host.starts_with('[') && host.ends_with(']');
  if (host.find(':') != std::string_view::npos && !bracketed) {
    return "an IPv6 address must be written in brackets, e.g. [::1]:8080";
  }
  if (auto e = check_host(host)) return "must be host:port: " + *e;
  if (!is_port(port, true)) return "must be host:port with a port from 0 to 65535";
  return std::nullopt;
}

std::optional<std::string> check_url(std::string_view text,
                                     std::initializer_list<std::string_view> schemes) {
  std::string wanted;
  for (auto s : schemes) wanted += (wanted.empty() ? "" : " or ") + std::string{s} + "://";
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return "must be a URL starting with " + wanted;
  auto scheme = lower(text.substr(0, sep));
  if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) {
    bool plausible = std::all_of(scheme.begin(), scheme.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '-' || ch == '.';
    });
    return "must start with " + wanted + (plausible ? ", not " + scheme + "://" : "");
  }
  if (std::any_of(text.begin(), text.end(), [](char ch) {
        return std::isspace(static_cast<unsigned char>(ch)) ||
               std::iscntrl(static_cast<unsigned char>(ch));
      })) {
    return "must not contain spaces or control characters";
  }
  auto rest = text.substr(sep + 3);
  auto auth_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, auth_end);
  auto tail = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) {
    return "must not contain user:password@ (credentials go in their own keys)";
  }
  if (tail.find_first_of("?#") != std::string_view::npos) {
    return "must not contain a query (?) or fragment (#)";
  }
  std::string_view host = authority;
  std::string_view port;
  auto bracket = authority.rfind(']');
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!is_port(port, false)) return "has a bad port: it must be from 1 to 65535";
  }
  if (auto e = check_host(host)) return "has a bad host: " + *e;
  return std::nullopt;
}

}  // namespace kazoo_bridge::config::detail
