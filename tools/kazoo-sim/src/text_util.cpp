#include "text_util.hpp"

#include <array>

#include <openssl/evp.h>

namespace kazoo_sim {
namespace {

constexpr char hex_digits_lower[] = "0123456789abcdef";
constexpr char hex_digits_upper[] = "0123456789ABCDEF";
constexpr char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string digest_hex(const EVP_MD* md, std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &len, md, nullptr);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(hex_digits_lower[out[i] >> 4]);
    hex.push_back(hex_digits_lower[out[i] & 0xf]);
  }
  return hex;
}

}  // namespace

std::string random_hex(std::mt19937_64& rng, std::size_t n) {
  std::string s;
  s.reserve(n);
  while (s.size() < n) {
    auto v = rng();
    for (int i = 0; i < 16 && s.size() < n; ++i, v >>= 4) s.push_back(hex_digits_lower[v & 0xf]);
  }
  return s;
}

std::string base64url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (unsigned{byte(i)} << 16) | (unsigned{byte(i + 1)} << 8) | byte(i + 2);
    out.push_back(b64url_alphabet[(v >> 18) & 63]);
    out.push_back(b64url_alphabet[(v >> 12) & 63]);
    out.push_back(b64url_alphabet[(v >> 6) & 63]);
    out.push_back(b64url_alphabet[v & 63]);
  }
  if (i + 1 == bytes.size()) {
    unsigned v = unsigned{byte(i)} << 16;
    out.push_back(b64url_alphabet[(v >> 18) & 63]);
    out.push_back(b64url_alphabet[(v >> 12) & 63]);
  } else if (i + 2 == bytes.size()) {
    unsigned v = (unsigned{byte(i)} << 16) | (unsigned{byte(i + 1)} << 8);
    out.push_back(b64url_alphabet[(v >> 18) & 63]);
    out.push_back(b64url_alphabet[(v >> 12) & 63]);
    out.push_back(b64url_alphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string base64url_decode(std::string_view text) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = nullptr;
    for (const char* a = b64url_alphabet; *a; ++a) {
      if (*a == c) p = a;
    }
    if (p == nullptr) return {};
    acc = (acc << 6) | static_cast<unsigned>(p - b64url_alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string encode_routing_segment(std::string_view call_id) {
  std::string out;
  out.reserve(call_id.size() + 8);
  for (char ch : call_id) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '~' || c == '_') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex_digits_upper[c >> 4]);
      out.push_back(hex_digits_upper[c & 0xf]);
    }
  }
  return out;
}

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() &&
               hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string md5_hex(std::string_view text) { return digest_hex(EVP_md5(), text); }
std::string sha1_hex(std::string_view text) { return digest_hex(EVP_sha1(), text); }

}  // namespace kazoo_sim
