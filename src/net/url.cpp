#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::net {
namespace {

error_code invalid() { return make_error_code(boost::system::errc::invalid_argument); }

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_ipv4(const std::string& h) {
  in_addr a{};
  return inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& h) {
  in6_addr a{};
  return inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

// RFC 3986 §3.2.2 reg-name characters (unreserved / pct-encoded / sub-delims) minus the
// sub-delims, which have no business in a DNS name and only invite confusion.
bool valid_reg_name(std::string_view h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
  });
}

std::uint16_t default_port(std::string_view scheme) {
  return (scheme == "https" || scheme == "wss") ? 443 : 80;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool url::tls() const { return scheme == "https" || scheme == "wss"; }

bool url::host_is_ip() const { return is_ipv4(host) || is_ipv6(host); }

std::string url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) out += ":" + std::to_string(port);
  return out;
}

std::string url::to_string() const { return scheme + "://" + authority() + target; }

result<url> parse_url(std::string_view text) {
  // Whitespace or control characters would end up in a request line or Host header.
  if (std::any_of(text.begin(), text.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      })) {
    return invalid();
  }
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return invalid();
  url u;
  u.scheme = to_lower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https" && u.scheme != "ws" && u.scheme != "wss") {
    return invalid();
  }
  auto rest = text.substr(sep + 3);
  auto auth_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, auth_end);
  auto tail = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  // Credentials in URLs leak into logs and are deprecated (RFC 9110 §4.2.4): refuse them.
  if (authority.find('@') != std::string_view::npos) return invalid();

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid();
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid();
      has_port = true;
      port_text = after.substr(1);
    }
    u.host = to_lower(host);
    if (!is_ipv6(u.host)) return invalid();
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (!valid_reg_name(host)) return invalid();
    u.host = to_lower(host);
  }

  u.port = default_port(u.scheme);
  // RFC 3986 §3.2.3 allows an empty port ("host:") meaning the default.
  if (has_port && !port_text.empty()) {
    if (!std::all_of(port_text.begin(), port_text.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return invalid();
    }
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return invalid();
    }
    u.port = static_cast<std::uint16_t>(value);
  }

  auto hash = tail.find('#');
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  if (tail.empty()) {
    u.target = "/";
  } else if (tail.front() == '?') {
    u.target = "/" + std::string(tail);
  } else {
    u.target = std::string(tail);
  }
  return u;
}

std::string url_encode(std::string_view text) {
  static constexpr std::array<char, 16> digits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                  '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += digits[u >> 4];
      out += digits[u & 0x0f];
    }
  }
  return out;
}

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() &&
               hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query_list(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(url_decode(part), std::string{});
    } else {
      out.emplace_back(url_decode(part.substr(0, eq)), url_decode(part.substr(eq + 1)));
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : parse_query_list(query)) out.emplace(std::move(k), std::move(v));
  return out;
}

}  // namespace kazoo_bridge::net
