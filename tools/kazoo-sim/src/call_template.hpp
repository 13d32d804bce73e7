#pragma once
/// Load mode's pre-expanded scenarios. expand() (scenario/expand.cpp) builds every call's events as
/// JSON DOMs with merge patches (RFC 7396) and the hub then serializes them: about 110 µs of CPU per
/// channel event, far too much to offer 20,000 events/s (bench/README.md item 11). A call_template
/// is one (scenario, account, flavour) expanded ONCE into the serialized `data` text of each event,
/// with the parts that differ between instances marked as tokens:
///  - values derived from the instance seed, generated exactly as expand() does: the leg Call-IDs'
///    {uuid}/{hexN}/{rand}/{md5:LEG}, ${rand:NAME}, ${interaction}'s hex, PARK_* msg_id;
///  - values derived from the start time: msg_id (Unix µs, reference/kazoo.md §2.3), timestamp
///    (Gregorian s, floor for KZ43, ceil for KZM, §2.6.8), channel_created_time, and the Gregorian
///    seconds of ${interaction} (§2.5).
/// A call instance is then produced by substitution into the text: no DOM, no merge patch.
/// build() renders another seed and start time and checks it byte for byte against a real expand();
/// if a scenario uses something the template cannot reproduce, build() fails and the caller falls
/// back to expand() (literal()).
/// Pure: no I/O, no clock.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <kazoo_bridge/common/error.hpp>
#include <kazoo_sim/scenario.hpp>

namespace kazoo_sim {

/// Text with holes: literal pieces, each followed by a token (or none).
struct text_template {
  static constexpr int no_token = -1;
  static constexpr int msg_id_token = -2;     ///< "\"<µs>\"" (the quotes are part of the token)
  static constexpr int timestamp_token = -3;  ///< Gregorian seconds
  static constexpr int created_token = -4;    ///< channel_created_time, µs
  struct piece {
    std::string literal;
    int token = no_token;  ///< >= 0: index of a per-instance value
  };
  std::vector<piece> pieces;
  std::size_t literal_size = 0;  ///< sum of the literals (reserve())
};

/// The per-instance values of one call: what differs between two plays of the same template.
struct call_values {
  std::int64_t start_unix_ms = 0;
  std::vector<std::string> values;    ///< by token index
  std::vector<std::string> call_ids;  ///< by leg index (call_template::legs())
  std::vector<std::string> encoded_call_ids;  ///< the same, encoded for routing keys (§1.4)
};

/// One event of a template, in send order (expand()'s stable sort by time).
struct event_template {
  std::string name;
  std::string account_id;
  std::size_t leg = 0;             ///< index into call_template::legs()
  std::int64_t at_ms = 0;          ///< offset from the instance's start
  bool channel = false;            ///< CHANNEL_*: carries msg_id/timestamp/channel_created_time
  std::int64_t event_offset_us = 0;    ///< msg_id - start µs
  std::int64_t created_offset_us = 0;  ///< channel_created_time - start µs
  text_template data;              ///< the serialized `data` object
  text_template other_leg_call_id; ///< data.other_leg_call_id (call_state bookkeeping)
  text_template owner_id;          ///< data.custom_channel_vars.owner_id (CDR filter)
};

class call_template {
 public:
  /// Expands (s, account, f) once and checks the template against a second real expand().
  /// errc::bad_payload when the scenario cannot be templated; `why` (if given) gets the reason.
  static kazoo_bridge::result<call_template> build(const scenario& s, const fixture& fx,
                                                   const std::string& account_id, flavour f,
                                                   std::string* why = nullptr);

  /// A template of one already expanded instance (no seed tokens): renders only that instance,
  /// with `start_unix_ms` = i.start_unix_ms. The fallback for scenarios build() refuses.
  static call_template literal(const std::vector<timed_event>& events, const instance& i);

  /// The values of instance (seed, start): Call-IDs and everything else derived from them.
  call_values instantiate(std::uint64_t seed, std::int64_t start_unix_ms) const;

  /// `data` of event `index` for `v`. msg_id is the scenario's own event time unless `msg_id_us`
  /// is given. `msg_id_at`, when not null, receives the offset of msg_id's first digit (npos for
  /// PARK_* events, whose msg_id is random hex, §2.4).
  std::string render(const call_values& v, std::size_t index, std::size_t* msg_id_at = nullptr) const;
  /// A text_template of this call_template (e.g. event_template::owner_id) for `v`.
  std::string render(const call_values& v, const text_template& t) const;

  const std::vector<event_template>& events() const { return events_; }
  const std::vector<std::string>& legs() const { return legs_; }
  std::int64_t length_ms() const { return length_ms_; }
  flavour event_flavour() const { return flavour_; }

 private:
  struct seed_token {
    enum class kind { hex, uuid, md5_leg, interaction } kind_ = kind::hex;
    std::string key;       ///< hex/uuid: the generator key ("leg:A", "rand:x", "park-msg:3")
    std::size_t n = 0;     ///< hex: characters
    std::size_t leg = 0;   ///< md5_leg: whose Call-ID
  };
  static call_template from_events(const std::vector<timed_event>& events, const instance& i,
                                   const scenario* s, std::uint64_t seed);
  void append(std::string& out, const call_values& v, const text_template& t,
              std::int64_t event_offset_us, std::int64_t created_offset_us,
              std::size_t* msg_id_at) const;

  flavour flavour_ = flavour::kz43;
  std::string scenario_name_;
  std::vector<std::string> legs_;
  std::vector<seed_token> tokens_;
  std::vector<std::size_t> token_order_;  ///< md5 tokens after the Call-IDs they hash
  std::vector<text_template> leg_call_ids_;
  std::vector<event_template> events_;
  std::int64_t length_ms_ = 0;
  bool literal_ = false;
  std::int64_t literal_start_ms_ = 0;  ///< literal(): the only start it renders
};

}  // namespace kazoo_sim
