#include <algorithm>
#include <array>

#include <kazoo_bridge/common/phone_number.hpp>

namespace kazoo_bridge::phone {
namespace {

// National significant number lengths from the ITU-T E.164 national numbering plans (ITU
// Operational Bulletin annexes); NANP (+1) numbers are always NPA-NXX-XXXX, 10 digits. Emergency
// numbers are the ones each plan reserves; 112 and 911 are refused everywhere since GSM phones
// treat both as emergency calls (3GPP TS 22.101 §10.1).
constexpr std::array<country, 22> countries{{
    {"AT", "43", "0", "", 4, 13, "122 133 144"},
    {"AU", "61", "0", "0011", 9, 9, "000 106"},
    {"BE", "32", "0", "", 8, 9, "100 101"},
    {"CA", "1", "1", "011", 10, 10, ""},
    {"CH", "41", "0", "", 9, 9, "117 118 144"},
    {"DE", "49", "0", "", 6, 13, "110"},
    {"DK", "45", "", "", 8, 8, ""},
    {"ES", "34", "", "", 9, 9, "091 092 061 080"},
    {"FR", "33", "0", "", 9, 9, "15 17 18 114"},
    {"GB", "44", "0", "", 9, 10, "999"},
    {"IE", "353", "0", "", 7, 9, "999"},
    {"IN", "91", "0", "", 10, 10, "100 101 102 108"},
    {"IT", "39", "", "", 6, 11, "113 115 118"},
    {"MX", "52", "", "", 10, 10, ""},
    {"NL", "31", "0", "", 9, 9, ""},
    {"NO", "47", "", "", 8, 8, "110 113"},
    {"NZ", "64", "0", "", 8, 10, "111"},
    {"PL", "48", "", "", 9, 9, "997 998 999"},
    {"PT", "351", "", "", 9, 9, ""},
    {"SE", "46", "0", "", 7, 9, ""},
    {"US", "1", "1", "011", 10, 10, ""},
    {"ZA", "27", "0", "", 9, 9, "10111 10177"},
}};

constexpr std::string_view everywhere_emergency = "112 911";

bool is_nanp(const country& c) { return c.calling_code == "1"; }

bool in_list(std::string_view list, std::string_view digits) {
  while (!list.empty()) {
    auto sp = list.find(' ');
    auto item = list.substr(0, sp);
    if (item == digits) return true;
    if (sp == std::string_view::npos) break;
    list.remove_prefix(sp + 1);
  }
  return false;
}

bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
bool is_letter(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
bool is_separator(char ch) {
  return ch == ' ' || ch == '\t' || ch == '-' || ch == '.' || ch == '(' || ch == ')' || ch == '/';
}

normalized refuse(std::string why) { return normalized{std::nullopt, std::move(why)}; }
normalized accept(std::string text, number_kind kind) {
  return normalized{number{std::move(text), kind}, {}};
}

std::string range_text(const country& c) {
  if (c.min_national == c.max_national) return std::to_string(c.min_national);
  return std::to_string(c.min_national) + " to " + std::to_string(c.max_national);
}

// Checks the national significant number of a country we know. Empty string: fine.
std::string check_national(const country& c, std::string_view nsn, std::string_view after) {
  if (nsn.size() < c.min_national || nsn.size() > c.max_national) {
    const std::string where = is_nanp(c) ? std::string("North America (+1)") : std::string(c.iso);
    return "a number in " + where + " has " + range_text(c) + " digits after " +
           std::string(after) + ", this one has " + std::to_string(nsn.size());
  }
  // NANP area codes (NPA) never start with 0 or 1 (NANP numbering plan, ATIS-0300051).
  if (is_nanp(c) && (nsn[0] == '0' || nsn[0] == '1')) {
    return "a North American area code never starts with 0 or 1";
  }
  return {};
}

const country* country_of_international(std::string_view digits) {
  const country* best = nullptr;
  for (const auto& c : countries) {
    if (digits.starts_with(c.calling_code) &&
        (best == nullptr || c.calling_code.size() > best->calling_code.size())) {
      best = &c;
    }
  }
  return best;
}

normalized international(std::string_view digits) {
  if (digits.empty())
    return refuse("an international number needs digits after the + or the international prefix");
  if (digits[0] == '0') return refuse("a country code never starts with 0");
  if (digits.size() > e164_max_digits) {
    return refuse("the number has " + std::to_string(digits.size()) +
                  " digits, more than the 15 E.164 allows");
  }
  if (digits.size() < e164_min_digits)
    return refuse("the number is too short for an international number");
  if (const auto* c = country_of_international(digits)) {
    auto why = check_national(*c, digits.substr(c->calling_code.size()),
                              "the country code +" + std::string(c->calling_code));
    if (!why.empty()) return refuse(std::move(why));
  }
  return accept("+" + std::string(digits), number_kind::e164);
}

}  // namespace

std::span<const country> supported_countries() { return countries; }

const country* find_country(std::string_view iso) {
  for (const auto& c : countries) {
    if (c.iso == iso) return &c;
  }
  return nullptr;
}

std::string supported_country_list() {
  std::string out;
  for (const auto& c : countries) {
    if (!out.empty()) out += ", ";
    out += c.iso;
  }
  return out;
}

normalized normalize(std::string_view input, std::string_view default_country) {
  while (!input.empty() && (input.front() == ' ' || input.front() == '\t')) input.remove_prefix(1);
  while (!input.empty() && (input.back() == ' ' || input.back() == '\t')) input.remove_suffix(1);
  if (input.empty()) return refuse("the number is empty");

  const bool plus = input.front() == '+';
  std::string digits;
  std::optional<std::size_t> paren_zero;  // digit index of a "(0)" (the "+44 (0)20 ..." habit)
  for (std::size_t i = plus ? 1 : 0; i < input.size(); ++i) {
    const char ch = input[i];
    if (is_digit(ch)) {
      digits.push_back(ch);
    } else if (ch == '(' && input.substr(i).starts_with("(0)") && !digits.empty()) {
      paren_zero = digits.size();
      digits.push_back('0');
      i += 2;
    } else if (is_separator(ch)) {
      continue;
    } else if (ch == '+') {
      return refuse("a + may only start the number");
    } else if (is_letter(ch)) {
      return refuse(
          "letters are not accepted in a phone number (vanity numbers such as 1-800-FLOWERS are "
          "not "
          "converted; extensions are digits only)");
    } else if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
      return refuse(
          "only digits, spaces and the characters + - . ( ) / are allowed in a phone number");
    } else {
      return refuse(std::string("the character '") + ch +
                    "' is not allowed in a phone number (only digits, "
                    "spaces and + - . ( ) /)");
    }
  }
  if (digits.empty()) return refuse("the number has no digits");

  const country* home = find_country(default_country);
  auto drop_paren_zero = [&](std::size_t prefix_len) {
    // "(0)" marks the trunk prefix one leaves out when dialling from abroad: drop it in
    // international form.
    if (paren_zero && *paren_zero >= prefix_len) digits.erase(*paren_zero, 1);
  };
  if (plus) {
    drop_paren_zero(0);
    return international(digits);
  }

  const bool emergency = in_list(everywhere_emergency, digits) ||
                         (home != nullptr && in_list(home->emergency, digits));
  if (emergency) return refuse("emergency numbers cannot be dialled through the API");

  if (digits.size() <= max_extension_digits) {
    if (digits.size() < 2)
      return refuse("the number is too short: an internal extension has at least 2 digits");
    return accept(digits, number_kind::extension);
  }
  // The country's own prefix first: Australia's 0011 also starts with 00.
  if (home != nullptr && !home->intl_prefix.empty() && digits.starts_with(home->intl_prefix)) {
    drop_paren_zero(home->intl_prefix.size());
    return international(std::string_view(digits).substr(home->intl_prefix.size()));
  }
  if (digits.starts_with("00")) {
    drop_paren_zero(2);
    return international(std::string_view(digits).substr(2));
  }
  if (home == nullptr) {
    return refuse(
        "a national number needs a default country; write it in international form (+ and the "
        "country "
        "code)");
  }

  std::string_view nsn = digits;
  std::string after = "the country code";
  if (!home->trunk_prefix.empty()) {
    const bool has_trunk = nsn.starts_with(home->trunk_prefix);
    if (has_trunk) {
      nsn.remove_prefix(home->trunk_prefix.size());
      after = "the trunk prefix " + std::string(home->trunk_prefix);
    } else if (!is_nanp(*home)) {
      // Without its trunk prefix a national number is ambiguous (a subscriber number? a mistyped
      // international one?): ask for the form people dial.
      return refuse("a national number in " + std::string(home->iso) + " starts with " +
                    std::string(home->trunk_prefix) + "; or write it in international form +" +
                    std::string(home->calling_code) + " ...");
    }
    // NANP: ten-digit dialling without the 1 is the everyday form.
  }
  if (auto why = check_national(*home, nsn, after); !why.empty()) return refuse(std::move(why));
  return accept("+" + std::string(home->calling_code) + std::string(nsn), number_kind::e164);
}

}  // namespace kazoo_bridge::phone
