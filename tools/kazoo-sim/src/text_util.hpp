#pragma once
/// Small text helpers the simulator needs in several places: random hex ids, base64url and the
/// Kazoo routing-key encoding of Call-IDs.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace kazoo_sim {

/// `n` random lower-case hex characters (Kazoo's request ids and msg ids are 32 hex).
std::string random_hex(std::mt19937_64& rng, std::size_t n);

/// RFC 4648 §5 base64url without padding (JWT parts, RFC 7515 §2).
std::string base64url(std::string_view bytes);
std::string base64url_decode(std::string_view text);  ///< empty on malformed input

/// kz_amqp_util:encode/1 (reference/kazoo.md §1.4): keep [A-Za-z0-9-~_], space -> '+',
/// every other byte (including '.') -> %XX upper-case hex. "a@10.1" -> "a%4010%2E1".
std::string encode_routing_segment(std::string_view call_id);

/// Percent-decoding; '+' is a space only in query strings (form encoding), not in paths.
std::string url_decode(std::string_view text, bool plus_is_space = true);

/// Lower-case hex of md5/sha1 (user_auth credentials, reference/kazoo.md §5.2).
std::string md5_hex(std::string_view text);
std::string sha1_hex(std::string_view text);

}  // namespace kazoo_sim
