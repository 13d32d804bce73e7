#pragma once
/// Kazoo simulator scenarios: the fixture (accounts, users, devices) and the call scenarios of
/// tools/kazoo-sim/scenarios/*.json, expanded into timed blackhole events whose `data` objects are
/// what Kazoo 4.3 (ecallmgr) or 5.x (mod_kazoo) would put on the WebSocket (reference/kazoo.md §1.4, §2).
/// Pure: no I/O besides reading the JSON files, no clock. The file format is documented in
/// tools/kazoo-sim/scenarios/README.md.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_sim {

/// kz43: app_name "ecallmgr"/"4.0.0", Timestamp = floor of the event time;
/// kzm: app_name "freeswitch"/"1.0", Timestamp = ceil(µs / 1e6), CCVs add call_interaction_is_root and
/// privacy_hide_* booleans, CREATE adds caller_destination_number/destination_number/to_did,
/// DESTROY carries media_recordings at top level (reference/kazoo.md §2.6.8).
enum class flavour { kz43, kzm };

struct user {
  std::string id, username, password, first_name, last_name, email, priv_level, extension, presence_id;
  bool acdc_agent = false;
};
struct device {
  std::string id, name, owner_id, sip_username;
};
struct account {
  std::string id, name, realm, api_key;
  std::vector<user> users;
  std::vector<device> devices;
  std::vector<std::string> numbers;  ///< DIDs routed to the account (first = main number)

  const user* find_user(std::string_view username) const;       ///< by username
  const user* find_user_by_id(std::string_view id) const;
  const device* first_device_of(std::string_view user_id) const;  ///< owner_id == user_id
};
struct fixture {
  std::vector<account> accounts;
  const account* find_account(std::string_view id) const;
  const account* find_account_by_name(std::string_view name) const;
  const account* find_account_by_api_key(std::string_view key) const;
};

/// Reads tools/kazoo-sim/fixtures/account.json; errc::bad_payload on unreadable/invalid files.
kazoo_bridge::result<fixture> load_fixture(const std::filesystem::path& file);

struct scenario {
  std::string name, description;
  nlohmann::json doc;  ///< the whole file
};
/// errc::bad_payload when the file is not JSON or lacks name/legs/events.
kazoo_bridge::result<scenario> load_scenario(const std::filesystem::path& file);
/// Every *.json in `dir`, sorted by name.
kazoo_bridge::result<std::vector<scenario>> load_scenarios(const std::filesystem::path& dir);

struct instance {
  std::string account_id;          ///< which fixture account plays it
  std::uint64_t seed = 0;          ///< makes the generated Call-IDs unique and reproducible per instance
  std::int64_t start_unix_ms = 0;  ///< wall time of at_ms == 0
  flavour flavour_ = flavour::kz43;
  bool legacy_string_durations = false;  ///< old releases sent duration_seconds etc. as strings (§2.4)
  /// Overrides the scenario's `vars` ("number", "caller_number", ...). A var named like a username
  /// in ${user:NAME.field} / ${device:NAME.field} renames that user, e.g. {"bob": "gina"} plays
  /// Bob's part with Gina (quickcall for any user, the same scenario in another account).
  std::map<std::string, std::string> vars;
};

struct timed_event {
  std::int64_t at_unix_ms = 0;  ///< when to send it
  std::string name;             ///< Event-Name, e.g. CHANNEL_CREATE
  std::string call_id;          ///< the leg's Call-ID (for routing_key)
  std::string account_id;       ///< CCV account_id, else the instance's account (DID lookup, §1.4)
  std::string leg;              ///< the scenario's leg alias ("A", "B", ...)
  /// The full blackhole `data` object, snake_case, placeholders resolved, with timestamp (Gregorian s),
  /// msg_id (µs string), app_name/app_version and channel_created_time (µs) filled in as Kazoo does;
  /// PARK_* events without timestamp, with a random 32-hex msg_id and a string parking_slot.
  nlohmann::json data;
};

/// Expands one play of `s` by account `i.account_id` of `f`; sorted by at_unix_ms (stable).
/// Placeholders that cannot be resolved (unknown user, var...) are left in place verbatim.
std::vector<timed_event> expand(const scenario& s, const fixture& f, const instance& i);

/// The seeded generators behind an instance's ids (Call-IDs, ${rand}, interaction and PARK msg_ids):
/// the same scenario name, seed and key always give the same value. expand() uses them, and the load
/// generator's pre-expanded templates use them to produce the ids expand() would give.
std::uint64_t seed_state_of(std::string_view scenario_name, std::uint64_t seed);
/// `n` lower-case hex digits derived from (seed_state, key).
std::string seeded_hex(std::uint64_t seed_state, std::string_view key, std::size_t n);
/// A version-4-shaped UUID derived from (seed_state, key), like FreeSWITCH's call uuids.
std::string seeded_uuid(std::uint64_t seed_state, std::string_view key);

/// kz_amqp_util:encode/1 (§1.4): keeps [A-Za-z0-9-~_], space -> '+', every other byte -> %XX.
std::string encode_call_id(std::string_view call_id);

/// "call.{ACCOUNT_ID}.{EVENT}.{ENCODED_CALL_ID}" (§1.4).
std::string routing_key(const timed_event& e);

}  // namespace kazoo_sim
