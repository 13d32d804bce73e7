#include <gtest/gtest.h>

#include <kazoo_bridge/common/time.hpp>

namespace kazoo_bridge {
namespace {

TEST(time, gregorian_seconds_convert_to_unix) {
  // reference/kazoo.md §2.6: 2024-06-10T06:13:20Z = Gregorian 63885219200.
  EXPECT_EQ(gregorian_to_unix_s(63885219200), 1718000000);
  EXPECT_EQ(unix_to_gregorian_s(1718000000), 63885219200);
  EXPECT_EQ(format_iso8601(gregorian_to_unix_s(63885219200) * 1000), "2024-06-10T06:13:20Z");
}

TEST(time, formats_and_parses_round_trip) {
  struct row {
    const char* text;
    std::int64_t ms;
  };
  const row rows[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2000-02-29T23:59:59Z", 951868799000},
      {"2026-11-21T10:15:03Z", 1795256103000},
      {"1969-12-31T23:59:59Z", -1000},
      {"1900-03-01T00:00:00Z", -2203891200000},
      {"2024-12-31T23:59:59Z", 1735689599000},
      {"9999-12-31T23:59:59Z", 253402300799000},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(format_iso8601(r.ms), r.text);
    EXPECT_EQ(parse_iso8601(r.text), r.ms) << r.text;
  }
  EXPECT_EQ(format_iso8601(1795256103999), "2026-11-21T10:15:03Z") << "milliseconds are cut, not rounded";
  EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_iso8601(253402300800000), "10000-01-01T00:00:00Z") << "past 9999: still every digit";
}

TEST(time, parses_fractions_and_offsets) {
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_iso8601("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00-00:30"), 1800000);
}

TEST(time, rejects_malformed_text) {
  for (const char* bad : {"", "2026-11-21", "2026-13-01T00:00:00Z", "2026-11-21T10:15:03",
                          "2026-11-21T10:15:03+0100", "2026-11-21T10:15:03.Z", "abcd-ef-ghTij:kl:mnZ"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace kazoo_bridge
