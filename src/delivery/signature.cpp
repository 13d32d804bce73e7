#include <kazoo_bridge/delivery/signature.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <string>

namespace kazoo_bridge::delivery {
namespace {

error_code invalid() { return make_error_code(boost::system::errc::invalid_argument); }
error_code openssl_failed() { return make_error_code(boost::system::errc::not_enough_memory); }

// Decodes standard padded base64 into `out` (room for 3 * text.size() / 4 bytes + 1); returns the
// decoded length, or -1 for invalid input. EVP_DecodeBlock counts the padding as zero bytes: one
// is dropped per '='.
long decode_into(std::string_view text, unsigned char* out) {
  if (text.size() % 4 != 0) return -1;
  const int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return -1;
  long len = n;
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '=' && len > 0; --i) --len;
  return len;
}

std::string_view key_text(std::string_view secret) {
  constexpr std::string_view prefix = "whsec_";
  if (secret.starts_with(prefix)) secret.remove_prefix(prefix.size());
  return secret;
}

// Calls f(key, key_len) with the decoded key of `secret`, then wipes the key from memory. Usual
// keys (Standard Webhooks secrets are 24 to 64 bytes) are decoded on the stack, not the heap.
template <class F>
error_code with_key(std::string_view secret, F f) {
  const auto text = key_text(secret);
  std::array<unsigned char, 390> small{};
  std::string large;
  unsigned char* buf = small.data();
  if (3 * (text.size() / 4) + 1 > small.size()) {
    large.assign(3 * (text.size() / 4) + 1, '\0');
    buf = reinterpret_cast<unsigned char*>(large.data());
  }
  const long len = decode_into(text, buf);
  error_code ec = len <= 0 ? invalid() : f(buf, static_cast<std::size_t>(len));
  OPENSSL_cleanse(buf, 3 * (text.size() / 4) + 1);
  return ec;
}

struct ctx_free {
  void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

// OpenSSL 3 looks an algorithm up in its provider store, under a lock, on every implicit fetch
// (HMAC() is EVP_Q_mac, which fetches HMAC and SHA-256 per call: OpenSSL crypto(7),
// "Performance"). Fetch once, keep for the process's life (reachable, so no leak report).
EVP_MAC* hmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

EVP_MAC_CTX* new_hmac_sha256() {
  EVP_MAC* mac = hmac();
  if (mac == nullptr) return nullptr;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (ctx == nullptr) return nullptr;
  char digest[] = "SHA256";
  const std::array<OSSL_PARAM, 2> params{OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(ctx, params.data()) != 1) {
    EVP_MAC_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// The free sign()'s context: one per thread (a context is not shareable), re-keyed per call.
EVP_MAC_CTX* thread_ctx() {
  thread_local const std::unique_ptr<EVP_MAC_CTX, ctx_free> ctx{new_hmac_sha256()};
  return ctx.get();
}

// Appends standard padded base64 of `bytes` to `out` (one allocation at most: the caller's prefix
// and the text share the string).
void append_base64(std::string& out, std::string_view bytes) {
  const std::size_t at = out.size();
  out.resize(at + 4 * ((bytes.size() + 2) / 3) + 1);  // + the NUL EVP_EncodeBlock writes, cut below
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(at + static_cast<std::size_t>(n));
}

// Hashes id "." timestamp "." body (Standard Webhooks "Signature scheme": the exact bytes sent)
// with an initialised context, streaming the parts instead of concatenating them, and formats
// "v1," + base64(mac).
result<std::string> finish(EVP_MAC_CTX* ctx, std::string_view webhook_id, std::int64_t timestamp_s,
                           std::string_view body) {
  std::array<char, 24> ts{};
  const auto ts_end = std::to_chars(ts.data(), ts.data() + ts.size(), timestamp_s).ptr;
  auto feed = [ctx](std::string_view part) {
    return EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  };
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  if (!feed(webhook_id) || !feed(".") || !feed(std::string_view(ts.data(), static_cast<std::size_t>(ts_end - ts.data()))) ||
      !feed(".") || !feed(body) || EVP_MAC_final(ctx, mac.data(), &mac_len, mac.size()) != 1) {
    return openssl_failed();
  }
  std::string out;
  out.reserve(3 + 4 * ((mac_len + 2) / 3) + 1);
  out = "v1,";
  append_base64(out, std::string_view(reinterpret_cast<const char*>(mac.data()), mac_len));
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  append_base64(out, bytes);
  return out;
}

result<std::string> base64_decode(std::string_view text) {
  std::string out(3 * (text.size() / 4) + 1, '\0');
  const long n = decode_into(text, reinterpret_cast<unsigned char*>(out.data()));
  if (n < 0) return invalid();
  out.resize(static_cast<std::size_t>(n));
  return out;
}

result<std::string> signing_key(std::string_view secret) {
  auto key = base64_decode(key_text(secret));
  if (!key) return key.error();
  if (key->empty()) return invalid();
  return key;
}

result<std::string> sign(std::string_view secret, std::string_view webhook_id, std::int64_t timestamp_s,
                         std::string_view body) {
  EVP_MAC_CTX* ctx = thread_ctx();
  if (ctx == nullptr) return openssl_failed();
  result<std::string> out = openssl_failed();
  auto ec = with_key(secret, [&](const unsigned char* key, std::size_t len) -> error_code {
    if (EVP_MAC_init(ctx, key, len, nullptr) != 1) return openssl_failed();
    out = finish(ctx, webhook_id, timestamp_s, body);
    return {};
  });
  if (ec) return ec;
  return out;
}

void signer::ctx_deleter::operator()(evp_mac_ctx_st* c) const noexcept { EVP_MAC_CTX_free(c); }

result<signer> signer::make(std::string_view secret) {
  ctx_ptr ctx{new_hmac_sha256()};
  if (!ctx) return openssl_failed();
  auto ec = with_key(secret, [&](const unsigned char* key, std::size_t len) -> error_code {
    // The key schedule (the inner and outer padded-key digests) is computed here, once.
    return EVP_MAC_init(ctx.get(), key, len, nullptr) == 1 ? error_code{} : openssl_failed();
  });
  if (ec) return ec;
  return signer(std::move(ctx));
}

signer::signer(const signer& other) : ctx_(other.ctx_ ? EVP_MAC_CTX_dup(other.ctx_.get()) : nullptr) {}

signer& signer::operator=(const signer& other) {
  if (this != &other) ctx_.reset(other.ctx_ ? EVP_MAC_CTX_dup(other.ctx_.get()) : nullptr);
  return *this;
}

signer::~signer() = default;

result<std::string> signer::sign(std::string_view webhook_id, std::int64_t timestamp_s, std::string_view body) {
  // A null key restarts the HMAC with the key already set, reusing its key schedule (OpenSSL 3.0
  // branch since openssl/openssl PR #18100, "EVP_MAC reinitialization"; the installed 3.0.x has it,
  // and signature_test signs twice with one signer to hold us to it).
  if (!ctx_ || EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) != 1) return openssl_failed();
  return finish(ctx_.get(), webhook_id, timestamp_s, body);
}

}  // namespace kazoo_bridge::delivery
