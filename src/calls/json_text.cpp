#include "calls/json_text.hpp"

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace kazoo_bridge::calls::detail {
namespace {

constexpr int max_depth = 256;  // deeper nesting is not a Kazoo event; refuse instead of recursing on

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const char* skip_ws(const char* p, const char* end) {
  while (p != end && is_ws(*p)) ++p;
  return p;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One UTF-8 sequence starting at p (first byte >= 0x80), RFC 3629 §4: no overlongs, no surrogates,
// nothing above U+10FFFF. Returns the byte after it, or nullptr.
const char* skip_utf8(const char* p, const char* end) {
  const auto b0 = static_cast<unsigned char>(*p);
  int n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return nullptr;
  }
  if (end - p <= n) return nullptr;
  for (int i = 1; i <= n; ++i) {
    const auto b = static_cast<unsigned char>(p[i]);
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return nullptr;
  }
  return p + n + 1;
}

// The high bit of each of the 8 bytes of `w` that is a quote, a backslash, a control character or
// non-ASCII: the bytes a string scan must look at one by one (the "has less / has value" bit tricks of
// graphics.stanford.edu/~seander/bithacks.html#HasLessInWord). A borrow can also flag a byte above a
// flagged one, never below: the lowest flag is exact.
std::uint64_t attention(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  auto has_zero = [&](std::uint64_t x) { return (x - ones) & ~x & highs; };
  const auto control = (w - ones * 0x20) & ~w & highs;
  return control | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | (w & highs);
}

bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// How many bytes from `p` on are plain ASCII (no quote, backslash, control or non-ASCII byte): 8 at a
// time, and the last word's exact position from its lowest flag, instead of byte by byte. Most strings
// of a Kazoo event are short (keys, ids), so their end used to cost a loop over up to 8 bytes.
std::size_t plain_run(const char* p, const char* end) {
  const char* const start = p;
  if constexpr (std::endian::native == std::endian::little) {  // byte i of a loaded word is p[i]
    // The offset from `start` of the first flagged byte of the word at `p`.
    auto first = [&](std::uint64_t m) {
      return static_cast<std::size_t>(p - start) + static_cast<std::size_t>(std::countr_zero(m)) / 8;
    };
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if (const auto m = attention(w)) return first(m);
      p += 8;
    }
    if (p == end) return static_cast<std::size_t>(p - start);
    // The tail, in a word padded with plain bytes (never read past `end`).
    std::uint64_t w = 0x6161616161616161ULL;  // "aaaaaaaa"
    std::memcpy(&w, p, static_cast<std::size_t>(end - p));
    const auto m = attention(w);
    return m ? first(m) : static_cast<std::size_t>(end - start);
  } else {
    while (p != end && plain(static_cast<unsigned char>(*p))) ++p;
    return static_cast<std::size_t>(p - start);
  }
}

// A string starting at its opening quote; returns the byte after the closing quote, or nullptr.
const char* skip_string(const char* p, const char* end) {
  ++p;
  while (p != end) {
    // Plain ASCII runs (ids, names, numbers as text: most of a Kazoo event) go a word at a time.
    p += plain_run(p, end);
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p + 1;
    if (c < 0x20) return nullptr;  // control characters must be escaped (§7)
    if (c == '\\') {
      if (++p == end) return nullptr;
      switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': ++p; break;
        case 'u': {
          // A surrogate escape must be a high+low pair (§7; nlohmann rejects a lone one too).
          auto code = [&](const char* q) -> long {
            if (end - q < 5) return -1;
            long v = 0;
            for (int i = 1; i <= 4; ++i) {
              const int h = hex(q[i]);
              if (h < 0) return -1;
              v = v * 16 + h;
            }
            return v;
          };
          const long cp = code(p);
          if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return nullptr;
          p += 5;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - p < 2 || p[0] != '\\' || p[1] != 'u') return nullptr;
            const long lo = code(p + 1);
            if (lo < 0xDC00 || lo > 0xDFFF) return nullptr;
            p += 6;
          }
          break;
        }
        default: return nullptr;
      }
    } else if (c >= 0x80) {
      p = skip_utf8(p, end);
      if (!p) return nullptr;
    } else {
      ++p;
    }
  }
  return nullptr;
}

bool digit(char c) { return c >= '0' && c <= '9'; }

// number = [ minus ] int [ frac ] [ exp ] (§6)
const char* skip_number(const char* p, const char* end) {
  if (p != end && *p == '-') ++p;
  if (p == end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (digit(*p)) {
    while (p != end && digit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (p != end && *p == '.') {
    ++p;
    if (p == end || !digit(*p)) return nullptr;
    while (p != end && digit(*p)) ++p;
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p != end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !digit(*p)) return nullptr;
    while (p != end && digit(*p)) ++p;
  }
  return p;
}

const char* skip_literal(const char* p, const char* end, std::string_view word) {
  if (static_cast<std::size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) return nullptr;
  return p + word.size();
}

const char* skip_value(const char* p, const char* end, int depth);

// An array or object; with `members`, an object's members are recorded as they are validated.
const char* skip_container(const char* p, const char* end, int depth, bool object,
                           std::vector<json_member>* members = nullptr) {
  if (depth > max_depth) return nullptr;
  if (members) members->clear();
  const char close = object ? '}' : ']';
  p = skip_ws(p + 1, end);
  if (p != end && *p == close) return p + 1;
  for (;;) {
    json_member m;
    if (object) {
      if (p == end || *p != '"') return nullptr;
      const char* key = p;
      p = skip_string(p, end);
      if (!p) return nullptr;
      m.key = std::string_view(key + 1, static_cast<std::size_t>(p - key - 2));
      p = skip_ws(p, end);
      if (p == end || *p != ':') return nullptr;
      p = skip_ws(p + 1, end);
    }
    const char* value = p;
    p = skip_value(p, end, depth + 1);
    if (!p) return nullptr;
    if (members) {
      m.value = std::string_view(value, static_cast<std::size_t>(p - value));
      members->push_back(m);
    }
    p = skip_ws(p, end);
    if (p == end) return nullptr;
    if (*p == close) return p + 1;
    if (*p != ',') return nullptr;
    p = skip_ws(p + 1, end);
  }
}

const char* skip_value(const char* p, const char* end, int depth) {
  if (p == end) return nullptr;
  switch (*p) {
    case '"': return skip_string(p, end);
    case '{': return skip_container(p, end, depth, true);
    case '[': return skip_container(p, end, depth, false);
    case 't': return skip_literal(p, end, "true");
    case 'f': return skip_literal(p, end, "false");
    case 'n': return skip_literal(p, end, "null");
    default: return skip_number(p, end);
  }
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::uint32_t hex4(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v * 16 + static_cast<std::uint32_t>(hex(p[i]));
  return v;
}

// The body of a validated string (between the quotes), unescaped (surrogate pairs already checked).
std::string unescape(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    // The run up to the next backslash is copied whole (most values have no escape at all).
    const auto next = body.find('\\', i);
    if (next == std::string_view::npos) {
      out.append(body.substr(i));
      break;
    }
    out.append(body.substr(i, next - i));
    i = next;
    const char e = body[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::uint32_t cp = hex4(body.data() + i + 1);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < body.size() && body[i + 1] == '\\' && body[i + 2] == 'u') {
          const auto lo = hex4(body.data() + i + 3);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;  // " \ /
    }
  }
  return out;
}

}  // namespace

bool json_member::is(std::string_view name) const {
  if (key.find('\\') == std::string_view::npos) return key == name;
  return unescape(key) == name;
}

json_scan scan_object(std::string_view text, std::vector<json_member>& members, std::string_view nested,
                      std::vector<json_member>* nested_members) {
  members.clear();
  if (nested_members) nested_members->clear();
  const char* p = skip_ws(text.data(), text.data() + text.size());
  const char* end = text.data() + text.size();
  if (p == end) return json_scan::invalid;
  if (*p != '{') {
    p = skip_value(p, end, 0);
    return p && skip_ws(p, end) == end ? json_scan::not_object : json_scan::invalid;
  }
  p = skip_ws(p + 1, end);
  if (p != end && *p == '}') return skip_ws(p + 1, end) == end ? json_scan::ok : json_scan::invalid;
  for (;;) {
    if (p == end || *p != '"') return json_scan::invalid;
    const char* key_end = skip_string(p, end);
    if (!key_end) return json_scan::invalid;
    json_member m;
    m.key = std::string_view(p + 1, static_cast<std::size_t>(key_end - p - 2));
    p = skip_ws(key_end, end);
    if (p == end || *p != ':') return json_scan::invalid;
    p = skip_ws(p + 1, end);
    // The nested object asked for is validated and split into members in the same pass.
    const bool record = nested_members && p != end && *p == '{' && m.is(nested);
    const char* value_end = record ? skip_container(p, end, 1, true, nested_members) : skip_value(p, end, 1);
    if (!value_end) return json_scan::invalid;
    m.value = std::string_view(p, static_cast<std::size_t>(value_end - p));
    members.push_back(m);
    p = skip_ws(value_end, end);
    if (p == end) return json_scan::invalid;
    if (*p == '}') return skip_ws(p + 1, end) == end ? json_scan::ok : json_scan::invalid;
    if (*p != ',') return json_scan::invalid;
    p = skip_ws(p + 1, end);
  }
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  const std::size_t start = out.size();
  out += '"';
  const char* p = s.data();
  const char* end = p + s.size();
  const char* run = p;  // start of the bytes not yet copied: plain runs are appended whole, not per char
  while (p != end) {
    p += plain_run(p, end);
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      const char* next = skip_utf8(p, end);
      if (!next) {
        // Not UTF-8 (a caller's bug or a decoded lone surrogate): render the whole string the way
        // nlohmann's error_handler_t::replace does (U+FFFD), as the DOM serializer did before.
        out.resize(start);
        out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return;
      }
      p = next;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    out.append(run, static_cast<std::size_t>(p - run));
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
    run = ++p;
  }
  out.append(run, static_cast<std::size_t>(end - run));
  out += '"';
}

void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_json(std::string& out, const nlohmann::json& j) {
  using t = nlohmann::json::value_t;
  switch (j.type()) {
    case t::object: {
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, it.key());
        out += ':';
        append_json(out, it.value());
      }
      out += '}';
      return;
    }
    case t::array: {
      out += '[';
      bool first = true;
      for (const auto& v : j) {
        if (!first) out += ',';
        first = false;
        append_json(out, v);
      }
      out += ']';
      return;
    }
    case t::string: append_json_string(out, j.get_ref<const std::string&>()); return;
    case t::boolean: out += j.get<bool>() ? "true" : "false"; return;
    case t::null: out += "null"; return;
    case t::number_integer: append_number(out, j.get<std::int64_t>()); return;
    case t::number_unsigned: append_number(out, j.get<std::uint64_t>()); return;
    default:
      // Floats (none in a payload today) and binary: nlohmann's own formatting, so the text is the same.
      out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
  }
}

std::string decode_key(std::string_view key) {
  return key.find('\\') == std::string_view::npos ? std::string(key) : unescape(key);
}

std::string decode_string(std::string_view value) {
  if (value.size() < 2 || value.front() != '"') return {};
  return unescape(value.substr(1, value.size() - 2));
}

nlohmann::json decode_value(std::string_view value) {
  if (value.empty()) return nullptr;
  switch (value.front()) {
    case '"': return decode_string(value);
    case 't': return true;
    case 'f': return false;
    case 'n': return nullptr;
    case '{': {
      // Custom channel vars and the like: flat objects of strings, decoded without a second parser.
      std::vector<json_member> members;
      scan_object(value, members);
      nlohmann::json o = nlohmann::json::object();
      for (const auto& m : members) o[decode_key(m.key)] = decode_value(m.value);
      return o;
    }
    case '[': return nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    default: break;
  }
  if (value.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc{} && p == value.data() + value.size()) return v;
  }
  double d = 0;
  std::from_chars(value.data(), value.data() + value.size(), d);
  return d;
}

}  // namespace kazoo_bridge::calls::detail
