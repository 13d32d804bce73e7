#include <kazoo_bridge/delivery/signature.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <string>

namespace kazoo_bridge::delivery {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

result<std::string> base64_decode(std::string_view text) {
  const auto invalid = make_error_code(boost::system::errc::invalid_argument);
  if (text.size() % 4 != 0) return invalid;
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return invalid;
  // EVP_DecodeBlock counts the padding as zero bytes: drop one per '='.
  std::size_t len = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '=' && len > 0; --i) --len;
  out.resize(len);
  return out;
}

result<std::string> signing_key(std::string_view secret) {
  constexpr std::string_view prefix = "whsec_";
  if (secret.starts_with(prefix)) secret.remove_prefix(prefix.size());
  auto key = base64_decode(secret);
  if (!key) return key.error();
  if (key->empty()) return make_error_code(boost::system::errc::invalid_argument);
  return key;
}

result<std::string> sign(std::string_view secret, std::string_view webhook_id, std::int64_t timestamp_s,
                         std::string_view body) {
  auto key = signing_key(secret);
  if (!key) return key.error();
  // Signed content (spec "Signature scheme"): msg_id "." timestamp "." payload, the exact bytes sent.
  std::string content;
  const auto ts = std::to_string(timestamp_s);
  content.reserve(webhook_id.size() + ts.size() + body.size() + 2);
  content.append(webhook_id).append(".").append(ts).append(".").append(body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac.data(),
           &mac_len) == nullptr) {
    return make_error_code(boost::system::errc::invalid_argument);
  }
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_len));
}

}  // namespace kazoo_bridge::delivery
