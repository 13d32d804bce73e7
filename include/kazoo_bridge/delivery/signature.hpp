#pragma once
/// Standard Webhooks signatures (https://www.standardwebhooks.com, spec "Signature scheme").

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <kazoo_bridge/common/error.hpp>

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX, kept out of this header

namespace kazoo_bridge::delivery {

/// The HMAC key of a "whsec_<base64>" secret: the base64-decoded part after the prefix (a
/// secret without the prefix is decoded whole, as the reference libraries do).
/// Errors: boost::system::errc::invalid_argument for invalid base64 or an empty key.
result<std::string> signing_key(std::string_view secret);

/// The webhook-signature header value: "v1," + base64(HMAC-SHA256(key, id + "." + ts + "." + body)).
/// The body is streamed into the MAC, never copied. Thread-safe (one OpenSSL context per thread).
/// Errors: those of signing_key().
result<std::string> sign(std::string_view secret, std::string_view webhook_id, std::int64_t timestamp_s,
                         std::string_view body);

/// sign() for one subscription secret, decoded and keyed once: each signature then costs only the
/// HMAC of id.timestamp.body (no base64 decoding, no key schedule). Keep one per hook.
/// Thread: one thread at a time per signer (it owns an OpenSSL MAC context). Copyable (the context
/// is duplicated) and movable; a moved-from signer may only be destroyed or assigned to.
class signer {
 public:
  /// Errors: those of signing_key().
  static result<signer> make(std::string_view secret);

  signer(const signer& other);
  signer& operator=(const signer& other);
  signer(signer&&) noexcept = default;
  signer& operator=(signer&&) noexcept = default;
  ~signer();

  /// The same value as sign(secret, webhook_id, timestamp_s, body).
  /// Errors: boost::system::errc::not_enough_memory if OpenSSL fails (it only can on allocation).
  result<std::string> sign(std::string_view webhook_id, std::int64_t timestamp_s, std::string_view body);

 private:
  struct ctx_deleter {
    void operator()(evp_mac_ctx_st* c) const noexcept;
  };
  using ctx_ptr = std::unique_ptr<evp_mac_ctx_st, ctx_deleter>;
  explicit signer(ctx_ptr ctx) : ctx_(std::move(ctx)) {}

  ctx_ptr ctx_;
};

/// Standard (padded) base64 of bytes, and its inverse (nullopt-like error on invalid input).
std::string base64_encode(std::string_view bytes);
result<std::string> base64_decode(std::string_view text);

}  // namespace kazoo_bridge::delivery
