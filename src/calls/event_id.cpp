// Deterministic event ids: the same Kazoo facts always give the same id, so an event re-derived after a
// restart or a reconcile is recognised by the store and by consumers (design.md: "never changes").

#include <kazoo_bridge/calls/lifecycle.hpp>

#include <array>

#include <openssl/evp.h>

namespace kazoo_bridge::calls {

std::string make_event_id(std::string_view account_id, std::string_view call_key, std::string_view type,
                          std::string_view discriminator) {
  std::string input;
  input.reserve(account_id.size() + call_key.size() + type.size() + discriminator.size() + 3);
  input.append(account_id).append("\n").append(call_key).append("\n").append(type).append("\n").append(discriminator);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md.data(), &len, EVP_sha256(), nullptr);
  // 26 base32 chars = 130 bits (RFC 4648 alphabet, lower case).
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out = "evt_";
  unsigned int buffer = 0;
  int bits = 0;
  std::size_t byte = 0;
  while (out.size() < 4 + 26) {
    if (bits < 5) {
      buffer = (buffer << 8) | md[byte++];
      bits += 8;
    }
    out += alphabet[(buffer >> (bits - 5)) & 0x1F];
    bits -= 5;
  }
  return out;
}

}  // namespace kazoo_bridge::calls
