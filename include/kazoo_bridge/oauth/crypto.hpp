#pragma once
/// The few cryptographic primitives the authorization server needs, over OpenSSL 3 (EVP, RAND_bytes).
/// No I/O, no Asio.

#include <cstddef>
#include <string>
#include <string_view>

namespace kazoo_bridge::oauth {

/// SHA-256 of `data` as 64 lower-case hex characters (how codes, tokens and client secrets are stored).
std::string sha256_hex(std::string_view data);
/// SHA-256 of `data`, raw 32 bytes.
std::string sha256_raw(std::string_view data);
/// MD5 of `data` as 32 lower-case hex characters (Kazoo user_auth credentials, reference/kazoo.md §5.2).
std::string md5_hex(std::string_view data);
/// HMAC-SHA256(key, data), raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Base64url without padding (RFC 4648 §5, as PKCE and our tokens use it).
std::string base64url(std::string_view bytes);
/// Standard base64 with padding (RFC 4648 §4): CSP hashes.
std::string base64(std::string_view bytes);
/// Decodes standard base64 (padding optional); false on a malformed input.
bool base64_decode(std::string_view text, std::string& out);
/// `n` bytes from the OpenSSL CSPRNG (RAND_bytes), base64url-encoded. 32 bytes = a 256-bit token.
/// Throws std::runtime_error if the CSPRNG fails (never continue with a weak secret).
std::string random_token(std::size_t n = 32);
/// `n` random bytes as lower-case hex (client ids, family ids).
std::string random_hex(std::size_t n);
/// Constant-time comparison (CRYPTO_memcmp); false when the lengths differ.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace kazoo_bridge::oauth
