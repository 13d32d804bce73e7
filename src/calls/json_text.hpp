#pragma once
// A strict, allocation-light JSON scanner for the ingest hot path (private to the calls module).
//
// Why not nlohmann::json::parse: a blackhole frame is ~2 KB with 60 to 80 members, of which the tracker
// reads about 25. Building the whole DOM (a std::map node and a string per member) and destroying it again
// was the largest cost per frame (bench/README.md "ingest CPU"). This scanner validates the text exactly
// as strictly (RFC 8259 grammar, UTF-8 checked), hands back each top-level member as a view of its text,
// and decodes only the values asked for.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kazoo_bridge::calls::detail {

/// One member of an object: the key as written between its quotes (escapes not decoded) and the exact
/// text of its value.
struct json_member {
  std::string_view key;
  std::string_view value;
  /// The decoded key equals `name` (keys are compared as text unless they contain an escape).
  bool is(std::string_view name) const;
};

enum class json_scan { ok, invalid, not_object };

/// Validates `text` as one JSON text (RFC 8259 §2, surrounding whitespace allowed) and, when it is an
/// object, fills `members` with its top-level members in order. `invalid` for anything a strict parser
/// rejects, including malformed UTF-8 (§8.1); `not_object` for valid JSON that is not an object.
json_scan scan_object(std::string_view text, std::vector<json_member>& members);

/// The value of one member text (as scan_object returned it, so already valid): strings are unescaped,
/// integers become int64 (or double beyond its range), objects and arrays are decoded whole.
nlohmann::json decode_value(std::string_view value);

/// A member's key, unescaped.
std::string decode_key(std::string_view key);

/// The string value of a member text, "" when the value is not a string.
std::string decode_string(std::string_view value);

/// Appends `s` as a JSON string (RFC 8259 §7: quote, backslash and control characters escaped). `s` is
/// UTF-8 the scanner already validated, or text the tracker built from it.
void append_json_string(std::string& out, std::string_view s);

}  // namespace kazoo_bridge::calls::detail
