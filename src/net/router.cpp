#include <algorithm>
#include <stdexcept>

#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/router.hpp>
#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::net {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path == "/") return out;
  path.remove_prefix(1);  // leading '/'
  for (;;) {
    auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_placeholder(const std::string& s) {
  return s.size() > 2 && s.front() == '{' && s.back() == '}';
}

// Path segments are percent-decoded only: '+' is a literal in a path (RFC 3986 §3.3), unlike in
// form-encoded queries.
std::string percent_decode(std::string_view s) {
  std::string plus_safe;
  plus_safe.reserve(s.size());
  for (char c : s) {
    if (c == '+') {
      plus_safe += "%2B";
    } else {
      plus_safe += c;
    }
  }
  return url_decode(plus_safe);
}

// Negative when a is more specific than b: the first segment where one is a literal and the
// other a placeholder decides.
int compare_specificity(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bool pa = is_placeholder(a[i]);
    bool pb = is_placeholder(b[i]);
    if (pa != pb) return pa ? 1 : -1;
  }
  return 0;
}

bool segments_match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                    std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_placeholder(pattern[i])) {
      if (path[i].empty()) return false;
      if (params) (*params)[pattern[i].substr(1, pattern[i].size() - 2)] = percent_decode(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view request_context::path() const {
  std::string_view t{req.target().data(), req.target().size()};
  // Absolute-form targets (RFC 9112 §3.2.2) must be accepted by servers: drop scheme://authority.
  if (auto p = t.find("://"); p != std::string_view::npos && t.front() != '/') {
    auto slash = t.find('/', p + 3);
    t = slash == std::string_view::npos ? std::string_view{"/"} : t.substr(slash);
  }
  return t.substr(0, t.find('?'));
}

std::map<std::string, std::string> request_context::query() const {
  std::string_view t{req.target().data(), req.target().size()};
  auto q = t.find('?');
  if (q == std::string_view::npos) return {};
  return parse_query(t.substr(q + 1));
}

void router::add(http::verb v, std::string pattern, handler h) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  auto segments = split_path(pattern);
  for (const auto& s : segments) {
    bool braces = s.find_first_of("{}") != std::string::npos;
    if (braces && !is_placeholder(s)) throw std::invalid_argument("bad route segment: " + pattern);
  }
  for (const auto& r : routes_) {
    if (r.verb == v && r.pattern == pattern) {
      throw std::invalid_argument("duplicate route: " + pattern);
    }
  }
  routes_.push_back(route{v, std::move(pattern), std::move(segments), std::move(h)});
}

void router::set_fallback(handler h) { fallback_ = std::move(h); }

router::match_result router::match(http::verb v, std::string_view path) const {
  match_result out;
  if (path.empty() || path.front() != '/') return out;
  auto segments = split_path(path);
  const route* best = nullptr;
  for (const auto& r : routes_) {
    if (!segments_match(r.segments, segments, nullptr)) continue;
    if (std::find(out.allowed.begin(), out.allowed.end(), r.verb) == out.allowed.end()) {
      out.allowed.push_back(r.verb);
    }
    if (r.verb != v) continue;
    if (!best || compare_specificity(r.segments, best->segments) < 0) best = &r;
  }
  std::sort(out.allowed.begin(), out.allowed.end());
  if (best) {
    out.h = &best->h;
    out.pattern = best->pattern;
    segments_match(best->segments, segments, &out.params);
  }
  return out;
}

awaitable<response> router::dispatch(request_context ctx) const {
  auto m = match(ctx.req.method(), ctx.path());
  if (m.h) {
    ctx.params = std::move(m.params);
    co_return co_await (*m.h)(std::move(ctx));
  }
  if (m.allowed.empty()) {
    if (fallback_) co_return co_await fallback_(std::move(ctx));
    co_return error_response(http::status::not_found, "not_found",
                             "no such resource: " + std::string(ctx.path()), ctx.req.version());
  }
  // RFC 9110 §15.5.6: a 405 MUST carry Allow with the methods the resource supports.
  std::string allow;
  for (auto verb : m.allowed) {
    if (!allow.empty()) allow += ", ";
    allow += std::string(http::to_string(verb));
  }
  auto res = error_response(http::status::method_not_allowed, "method_not_allowed",
                            "allowed: " + allow, ctx.req.version());
  res.set(http::field::allow, allow);
  co_return res;
}

std::vector<std::pair<http::verb, std::string>> router::routes() const {
  std::vector<std::pair<http::verb, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.emplace_back(r.verb, r.pattern);
  return out;
}

}  // namespace kazoo_bridge::net
