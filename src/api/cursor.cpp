#include <kazoo_bridge/api/cursor.hpp>

#include <array>
#include <charconv>

#include <fmt/format.h>

namespace kazoo_bridge::api {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int value_of(char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '-') return 62;
  if (ch == '_') return 63;
  return -1;
}

// Version 1: "1.<check>.<started_at_ms>.<filters>.<call_id>", check and filters 16 lower-case hex
// digits. The call id comes last and may hold any character, dots included. check is FNV-1a 64 of
// everything after it: an edited or truncated cursor is refused instead of silently starting the
// walk somewhere else. It is no security boundary (it has no key): every page is limited to what
// the token may see whatever the cursor says.
constexpr std::string_view version_prefix = "1.";

std::uint64_t check_of(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// 16 lower-case hex digits (one spelling per value).
std::optional<std::uint64_t> hex16(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  for (char ch : s) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return std::nullopt;
  }
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}
// Longer call ids do not exist in Kazoo (SIP Call-IDs, bridge ids); refusing them keeps a forged
// cursor from making us bind megabytes.
constexpr std::size_t max_call_id = 512;

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    for (int shift : {18, 12, 6, 0}) out.push_back(alphabet[(n >> shift) & 63u]);
  }
  if (bytes.size() - i == 1) {
    const std::uint32_t n = at(i) << 16;
    out.push_back(alphabet[(n >> 18) & 63u]);
    out.push_back(alphabet[(n >> 12) & 63u]);
  } else if (bytes.size() - i == 2) {
    const std::uint32_t n = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(alphabet[(n >> 18) & 63u]);
    out.push_back(alphabet[(n >> 12) & 63u]);
    out.push_back(alphabet[(n >> 6) & 63u]);
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // a lone 6-bit group cannot end a byte
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    const int v = value_of(ch);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  // RFC 4648 §3.5: the pad bits must be zero, otherwise several texts would decode to one value.
  if (bits > 0 && (acc & ((1u << bits) - 1u)) != 0) return std::nullopt;
  return out;
}

std::string encode_cursor(const cursor& c) {
  const auto body = fmt::format("{}.{:016x}.{}", c.after.started_at_ms, c.filters, c.after.call_id);
  return base64url_encode(fmt::format("{}{:016x}.{}", version_prefix, check_of(body), body));
}

std::optional<cursor> decode_cursor(std::string_view text) {
  auto plain = base64url_decode(text);
  if (!plain) return std::nullopt;
  std::string_view s = *plain;
  if (!s.starts_with(version_prefix)) return std::nullopt;
  s.remove_prefix(version_prefix.size());
  if (s.size() < 17 || s[16] != '.') return std::nullopt;
  const auto check = hex16(s.substr(0, 16));
  s.remove_prefix(17);
  if (!check || *check != check_of(s)) return std::nullopt;
  cursor c;
  // started_at_ms: decimal, no sign, no leading zeros (one spelling per value).
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || (dot > 1 && s.front() == '0')) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + dot, c.after.started_at_ms);
  if (ec != std::errc{} || p != s.data() + dot) return std::nullopt;
  s.remove_prefix(dot + 1);
  if (s.size() < 17 || s[16] != '.') return std::nullopt;
  const auto filters = hex16(s.substr(0, 16));
  if (!filters) return std::nullopt;
  c.filters = *filters;
  s.remove_prefix(17);
  if (s.empty() || s.size() > max_call_id) return std::nullopt;
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) return std::nullopt;
  }
  c.after.call_id = std::string(s);
  return c;
}

}  // namespace kazoo_bridge::api
