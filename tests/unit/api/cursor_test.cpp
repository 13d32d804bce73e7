// The page cursor: base64url round trips, and every tampered or malformed text is refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <kazoo_bridge/api/cursor.hpp>

namespace kazoo_bridge::api {
namespace {

TEST(Base64Url, Rfc4648TestVectorsWithoutPadding) {
  // RFC 4648 §10, with the padding dropped (§3.2) and the URL-safe alphabet (§5).
  const std::vector<std::pair<std::string, std::string>> v{
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [plain, text] : v) {
    EXPECT_EQ(base64url_encode(plain), text);
    EXPECT_EQ(base64url_decode(text), plain) << text;
  }
}

TEST(Base64Url, RefusesEverythingButTheCanonicalSpelling) {
  for (const char* bad : {"Zg==", "Zm9v+", "Zm9v/", "Zm 9v", "Z", "Zm9vY", "Zh", "Zm9", "-_9"}) {
    EXPECT_FALSE(base64url_decode(bad)) << bad;  // padding, other alphabet, space, lone char, pad bits
  }
}

TEST(Cursor, RoundTrip) {
  cursor c{{1'700'000'123'456, "a.b|c/d=e"}, 0x0123456789abcdefULL};
  auto text = encode_cursor(c);
  EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  auto back = decode_cursor(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->after, c.after);
  EXPECT_EQ(back->filters, c.filters);
}

// A cursor text with a correct checksum around `body` ("<ms>.<filters>.<call_id>"), so that the
// checks of each field are reached.
std::string forged(const std::string& body, const std::string& version = "1") {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : body) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char check[17];
  std::snprintf(check, sizeof check, "%016llx", static_cast<unsigned long long>(h));
  return base64url_encode(version + "." + check + "." + body);
}

TEST(Cursor, TamperedCursorsAreRefused) {
  const auto good = encode_cursor({{1'700'000'000'000, "call-1"}, 42});
  ASSERT_TRUE(decode_cursor(good));
  ASSERT_TRUE(decode_cursor(forged("1700000000000.000000000000002a.call-1"))) << "forged() matches the format";
  // Every single-character edit and every truncation is refused.
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (char ch : {'A', 'z', '0', '-'}) {
      std::string t = good;
      if (t[i] == ch) continue;
      t[i] = ch;
      EXPECT_FALSE(decode_cursor(t)) << t;
    }
    EXPECT_FALSE(decode_cursor(good.substr(0, i))) << i;
  }
  const std::vector<std::string> bad{
      "",                                                       // empty
      "not a cursor",                                           // not base64url
      good + "=",                                               // padding
      forged("1700000000000.000000000000002a.call-1", "2"),     // unknown version
      forged(".000000000000002a.call-1"),                       // no time
      forged("017.000000000000002a.call-1"),                    // leading zero
      forged("17x.000000000000002a.call-1"),                    // not a number
      forged("99999999999999999999.000000000000002a.c"),        // out of range
      forged("17.000000000000002A.call-1"),                     // upper-case hex
      forged("17.2a.call-1"),                                   // short fingerprint
      forged("17.000000000000002a."),                           // no call id
      forged("17.000000000000002a"),                            // no call id separator
      forged("17.000000000000002a.ca\nll"),                     // control character
      forged("17.000000000000002a." + std::string(513, 'x')),   // oversized call id
  };
  for (const auto& t : bad) EXPECT_FALSE(decode_cursor(t)) << t;
}

}  // namespace
}  // namespace kazoo_bridge::api
