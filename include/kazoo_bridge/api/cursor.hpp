#pragma once
/// The opaque page cursor of GET /api/v1/calls: base64url (RFC 4648 §5, no padding) of the key of
/// the last call of a page, a fingerprint of the query's filters and a checksum. Pure: no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <kazoo_bridge/store/call_history.hpp>

namespace kazoo_bridge::api {

/// RFC 4648 §5 base64url without '=' padding.
std::string base64url_encode(std::string_view bytes);
/// Strict inverse of base64url_encode: only the URL-safe alphabet, no padding, no whitespace, and
/// the unused low bits of the last character must be zero (so one text decodes to one value and
/// every other spelling is refused). nullopt when malformed.
std::optional<std::string> base64url_decode(std::string_view text);

/// A cursor: where the page ended and which filters it was made for.
struct cursor {
  store::call_key after;
  std::uint64_t filters = 0;  ///< filters_fingerprint() of the query that produced it
};

std::string encode_cursor(const cursor& c);
/// nullopt for anything encode_cursor() did not produce: bad base64url, unknown version, a
/// checksum that does not match (an edited or truncated cursor), a non-numeric time, an empty or
/// oversized call id.
std::optional<cursor> decode_cursor(std::string_view text);

}  // namespace kazoo_bridge::api
