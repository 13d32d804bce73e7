#pragma once
// A strict, allocation-light JSON scanner for the ingest hot path (private to the calls module).
//
// Why not nlohmann::json::parse: a blackhole frame is ~2 KB with 60 to 80 members, of which the tracker
// reads about 25. Building the whole DOM (a std::map node and a string per member) and destroying it again
// was the largest cost per frame (bench/README.md "ingest CPU"). This scanner validates the text exactly
// as strictly (RFC 8259 grammar, UTF-8 checked), hands back each top-level member as a view of its text,
// and decodes only the values asked for.

#include <cstdint>
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
/// With `nested_members`, the members of the object value of top-level member `nested` (the last one,
/// if the key repeats) are filled in the same pass, so a frame's `data` is not scanned twice.
json_scan scan_object(std::string_view text, std::vector<json_member>& members, std::string_view nested = {},
                      std::vector<json_member>* nested_members = nullptr);

/// The value of one member text (as scan_object returned it, so already valid): strings are unescaped,
/// integers become int64 (or double beyond its range), objects and arrays are decoded whole.
nlohmann::json decode_value(std::string_view value);

/// A member's key, unescaped.
std::string decode_key(std::string_view key);

/// The string value of a member text, "" when the value is not a string.
std::string decode_string(std::string_view value);

/// Appends `s` as a JSON string (RFC 8259 §7: quote, backslash and control characters escaped), the
/// same text as nlohmann's dump(-1, ' ', false, error_handler_t::replace): invalid UTF-8 becomes U+FFFD.
/// Plain runs are copied whole (8 bytes per test), not character by character.
void append_json_string(std::string& out, std::string_view s);

/// Appends an integer in decimal, without the heap string std::to_string makes for 16 digits and more.
void append_number(std::string& out, std::int64_t v);
void append_number(std::string& out, std::uint64_t v);

/// Appends `j` as compact JSON, byte for byte what j.dump(-1, ' ', false, error_handler_t::replace)
/// gives (members in the DOM's key order), without nlohmann's per-character serializer: rendering
/// payloads and call records was most of the I/O thread's work per frame (bench/README.md).
void append_json(std::string& out, const nlohmann::json& j);

}  // namespace kazoo_bridge::calls::detail
