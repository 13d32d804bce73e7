#include <set>
#include <string>

#include <gtest/gtest.h>

#include <kazoo_bridge/common/phone_number.hpp>

namespace kazoo_bridge::phone {
namespace {

struct accepted_case {
  const char* input;
  const char* country;
  const char* expected;
  number_kind kind;
};

class accepted : public ::testing::TestWithParam<accepted_case> {};

TEST_P(accepted, normalises_to) {
  const auto& c = GetParam();
  auto r = normalize(c.input, c.country);
  ASSERT_TRUE(r.value) << c.input << " (" << c.country << ") refused: " << r.error;
  EXPECT_EQ(r.value->text, c.expected) << c.input << " (" << c.country << ")";
  EXPECT_EQ(r.value->kind, c.kind) << c.input;
  EXPECT_TRUE(r.error.empty());
}

constexpr auto e164 = number_kind::e164;
constexpr auto ext = number_kind::extension;

INSTANTIATE_TEST_SUITE_P(
    table, accepted,
    ::testing::Values(
        // International form: separators of every kind are ignored.
        accepted_case{"+1 (555) 123-4567", "US", "+15551234567", e164},
        accepted_case{"+15551234567", "US", "+15551234567", e164},
        accepted_case{"  +1.555.123.4567  ", "GB", "+15551234567", e164},
        accepted_case{"+44 20 7946 0958", "US", "+442079460958", e164},
        accepted_case{"+44 (0)20 7946 0958", "US", "+442079460958", e164},
        accepted_case{"+33 1 23 45 67 89", "US", "+33123456789", e164},
        accepted_case{"+49 30 123456", "US", "+4930123456", e164},
        accepted_case{"+353 1 234 5678", "GB", "+35312345678", e164},
        accepted_case{"+683 4002", "US", "+6834002", e164},  // Niue, 7 digits, not in our table
        accepted_case{"+999 123 456 789 012", "US", "+999123456789012", e164},  // 15 digits exactly
        accepted_case{"+1/555/123/4567", "US", "+15551234567", e164},
        // "00" is an international prefix wherever you are; NANP also uses 011, Australia 0011.
        accepted_case{"00 44 20 7946 0958", "US", "+442079460958", e164},
        accepted_case{"00 44 20 7946 0958", "GB", "+442079460958", e164},
        accepted_case{"0044 (0)20 7946 0958", "DE", "+442079460958", e164},
        accepted_case{"011 44 20 7946 0958", "US", "+442079460958", e164},
        accepted_case{"011 33 1 23 45 67 89", "CA", "+33123456789", e164},
        accepted_case{"0011 44 20 7946 0958", "AU", "+442079460958", e164},
        // National numbers: the default country's code, its trunk prefix dropped.
        accepted_case{"555-123-4567", "US", "+15551234567", e164},
        accepted_case{"(555) 123-4567", "US", "+15551234567", e164},
        accepted_case{"1 555 123 4567", "US", "+15551234567", e164},
        accepted_case{"1-416-555-0199", "CA", "+14165550199", e164},
        accepted_case{"020 7946 0958", "GB", "+442079460958", e164},
        accepted_case{"07700 900123", "GB", "+447700900123", e164},
        accepted_case{"01 23 45 67 89", "FR", "+33123456789", e164},
        accepted_case{"030 123456", "DE", "+4930123456", e164},
        accepted_case{"(02) 9876 5432", "AU", "+61298765432", e164},
        accepted_case{"06 1234 5678", "IT", "+390612345678",
                      e164},  // Italy keeps its 0 (no trunk prefix)
        accepted_case{"612 345 678", "ES", "+34612345678", e164},
        accepted_case{"021 123 4567", "ZA", "+27211234567", e164},
        // Short digit strings are extensions of the Kazoo account, passed as they are.
        accepted_case{"101", "US", "101", ext}, accepted_case{"10", "GB", "10", ext},
        accepted_case{"2001", "US", "2001", ext}, accepted_case{"123456", "US", "123456", ext},
        accepted_case{"1-0-1", "US", "101", ext}, accepted_case{"0101", "GB", "0101", ext},
        accepted_case{"999", "US", "999", ext}));  // only GB, IE, PL reserve 999

struct refused_case {
  const char* input;
  const char* country;
  const char* reason_part;  // a phrase the error must contain
};

class refused : public ::testing::TestWithParam<refused_case> {};

TEST_P(refused, with_a_reason) {
  const auto& c = GetParam();
  auto r = normalize(c.input, c.country);
  EXPECT_FALSE(r.value) << c.input << " (" << c.country << ") accepted as "
                        << (r.value ? r.value->text : "");
  EXPECT_NE(r.error.find(c.reason_part), std::string::npos)
      << c.input << ": \"" << r.error << "\" lacks \"" << c.reason_part << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    table, refused,
    ::testing::Values(
        refused_case{"", "US", "empty"}, refused_case{"   ", "US", "empty"},
        refused_case{"1-800-FLOWERS", "US", "letters"}, refused_case{"call me", "US", "letters"},
        refused_case{"555-1234 x101", "US", "letters"}, refused_case{"ext. 101", "US", "letters"},
        refused_case{"*97", "US", "'*'"}, refused_case{"101#", "US", "'#'"},
        refused_case{"555,1234", "US", "','"}, refused_case{"555;1234", "US", "';'"},
        refused_case{"+1 555 + 123", "US", "+ may only start"},
        refused_case{"++15551234567", "US", "+ may only start"},
        refused_case{"+", "US", "no digits"}, refused_case{"()-.", "US", "no digits"},
        refused_case{"+0 123 456 7890", "US", "never starts with 0"},
        refused_case{"+1234 5678 9012 3456", "US", "more than the 15"},
        refused_case{"+44 123", "US", "too short"},
        refused_case{"+1 555 123 456", "US", "10 digits after the country code +1"},
        refused_case{"+1 155 123 4567", "US", "area code"},
        refused_case{"+44 20 7946 0958 12", "US", "9 to 10 digits after the country code +44"},
        refused_case{"555-123-456", "US", "10 digits after the country code"},
        refused_case{"555-123-45678", "US", "10 digits"},
        refused_case{"20 7946 0958", "GB", "starts with 0"},
        refused_case{"020 7946 09", "GB", "9 to 10 digits after the trunk prefix 0"},
        refused_case{"5", "US", "at least 2 digits"}, refused_case{"911", "US", "emergency"},
        refused_case{"112", "US", "emergency"}, refused_case{"999", "GB", "emergency"},
        refused_case{"000", "AU", "emergency"}, refused_case{"911", "GB", "emergency"},
        refused_case{"18", "FR", "emergency"}, refused_case{"555 123 4567", "", "default country"},
        refused_case{"555\xc2\xa0"
                     "123",
                     "US", "only digits"},
        refused_case{"555\n123", "US", "only digits"}));

TEST(phone_countries, table_is_consistent) {
  std::set<std::string_view> seen;
  std::string_view previous;
  for (const auto& c : supported_countries()) {
    EXPECT_EQ(c.iso.size(), 2u) << c.iso;
    EXPECT_LT(previous, c.iso) << "ordered by ISO code";
    previous = c.iso;
    EXPECT_TRUE(seen.insert(c.iso).second);
    EXPECT_FALSE(c.calling_code.empty());
    EXPECT_NE(c.calling_code[0], '0');
    EXPECT_LE(c.min_national, c.max_national) << c.iso;
    EXPECT_LE(c.calling_code.size() + c.max_national, e164_max_digits) << c.iso;
    EXPECT_EQ(find_country(c.iso), &c);
  }
  EXPECT_EQ(find_country("us"), nullptr);  // the config value is upper case, exactly
  EXPECT_EQ(find_country("XX"), nullptr);
  EXPECT_NE(supported_country_list().find("GB, IE"), std::string::npos);
}

}  // namespace
}  // namespace kazoo_bridge::phone
