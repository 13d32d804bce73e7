#pragma once
/// Standard Webhooks signatures (https://www.standardwebhooks.com, spec "Signature scheme").

#include <cstdint>
#include <string>
#include <string_view>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::delivery {

/// The HMAC key of a "whsec_<base64>" secret: the base64-decoded part after the prefix (a
/// secret without the prefix is decoded whole, as the reference libraries do).
/// Errors: boost::system::errc::invalid_argument for invalid base64 or an empty key.
result<std::string> signing_key(std::string_view secret);

/// The webhook-signature header value: "v1," + base64(HMAC-SHA256(key, id + "." + ts + "." + body)).
/// Errors: those of signing_key().
result<std::string> sign(std::string_view secret, std::string_view webhook_id, std::int64_t timestamp_s,
                         std::string_view body);

/// Standard (padded) base64 of bytes, and its inverse (nullopt-like error on invalid input).
std::string base64_encode(std::string_view bytes);
result<std::string> base64_decode(std::string_view text);

}  // namespace kazoo_bridge::delivery
