#pragma once
/// Phone numbers as people type them, turned into what we hand Kazoo's quickcall: E.164 ("+" and at
/// most 15 digits, ITU-T E.164 §6) or an internal extension. Pure: no I/O.
///
/// Lives in common because two modules need the same country table: config validates
/// [dial] default_country against it and the API normalises POST /api/v1/calls numbers with it.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kazoo_bridge::phone {

/// One country we can dial nationally (docs/api.md "Phone numbers" lists them).
struct country {
  std::string_view iso;           ///< ISO 3166-1 alpha-2, upper case
  std::string_view calling_code;  ///< ITU-T E.164 country code, digits only
  std::string_view
      trunk_prefix;  ///< national trunk prefix dropped in E.164 ("0", "1" in NANP, "" none)
  std::string_view intl_prefix;  ///< international call prefix besides "00" ("011" NANP, "0011" AU)
  unsigned min_national = 0;     ///< national significant number length range (digits after the
  unsigned max_national = 0;     ///<   country code)
  std::string_view emergency;  ///< space-separated emergency numbers, refused (never auto-dialled)
};

/// Every supported country, ordered by ISO code.
std::span<const country> supported_countries();

/// The country with this ISO alpha-2 code (upper case exactly), or nullptr.
const country* find_country(std::string_view iso);

/// "US, CA, GB, ..." for error messages and docs.
std::string supported_country_list();

/// E.164 caps a number at 15 digits, country code included (ITU-T E.164 §6.1).
inline constexpr unsigned e164_max_digits = 15;
/// The shortest international numbers in use have 7 digits (e.g. Niue +683 4002).
inline constexpr unsigned e164_min_digits = 7;
/// Strings of this many digits or fewer (and at least 2) are internal extensions.
inline constexpr unsigned max_extension_digits = 6;

enum class number_kind {
  e164,       ///< "+" followed by 7..15 digits
  extension,  ///< 2..6 digits dialled inside the Kazoo account (its callflows decide)
};

struct number {
  std::string text;  ///< "+15551234567" or "101"
  number_kind kind = number_kind::e164;
  bool operator==(const number&) const = default;
};

/// A number, or why it is refused (a sentence for error_description).
struct normalized {
  std::optional<number> value;
  std::string error;
};

/// Normalises `input` as typed: separators (space, - . ( ) /) are ignored, a leading "+" or an
/// international prefix ("00", or the default country's own: "011" in NANP) starts an international
/// number, "(0)" after a country code is dropped ("+44 (0)20 ..."), a national number is completed
/// with `default_country`'s calling code after its trunk prefix is dropped, and 2..6 bare digits
/// are an extension. Refused: empty input, letters (vanity numbers are not converted), other
/// symbols
/// (* # , ; x), more than 15 digits, national lengths outside the country's range, and emergency
/// numbers. `default_country` must be a supported country (config validation guarantees it);
/// otherwise only international numbers and extensions are accepted.
normalized normalize(std::string_view input, std::string_view default_country);

}  // namespace kazoo_bridge::phone
