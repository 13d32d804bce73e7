// POST /api/v1/hooks validation, the filters column, the public hook JSON and the sample event.
#include <kazoo_bridge/api/hook_routes.hpp>

#include <array>

#include <kazoo_bridge/calls/lifecycle.hpp>
#include <kazoo_bridge/common/time.hpp>
#include <kazoo_bridge/net/target_check.hpp>
#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::api {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_target_length = 2048;
constexpr std::size_t max_filter_user_id = 128;

hook_spec_result refuse(std::string error, std::string description) {
  return hook_spec_result{std::nullopt, std::move(error), std::move(description)};
}

std::optional<std::string> optional_string(const json& f, const char* key) {
  auto it = f.find(key);
  if (it == f.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

std::string target_problem(std::string_view url, bool allow_private) {
  if (url.empty()) return "target_url is empty";
  if (url.size() > max_target_length) return "target_url is longer than 2048 characters";
  // The address rule is net's, the one hook_client applies again after DNS at connect time.
  std::string reason;
  if (auto ok = net::check_target_url(url, allow_private, reason); !ok) {
    return reason.empty() ? "target_url is not an allowed http(s) URL" : reason;
  }
  return {};
}

hook_spec_result parse_hook_spec(const json& body, bool allow_private_targets) {
  if (!body.is_object()) return refuse("invalid_request", "the body must be a JSON object");
  static constexpr std::array<const char*, 4> url_keys{"target_url", "targetUrl", "url", "hookUrl"};
  static constexpr std::array<const char*, 3> other_keys{"event", "scope", "filters"};
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (const char* k : url_keys) known = known || key == k;
    for (const char* k : other_keys) known = known || key == k;
    if (!known) {
      return refuse("invalid_request", "unknown member \"" + key.substr(0, 64) +
                                           "\"; expected target_url, event, scope and filters");
    }
  }
  hook_spec spec;
  const char* url_key = nullptr;
  for (const char* k : url_keys) {
    auto it = body.find(k);
    if (it == body.end()) continue;
    if (!it->is_string()) return refuse("invalid_request", std::string(k) + " must be a string");
    if (url_key && it->get<std::string>() != spec.target_url) {
      return refuse("invalid_request", std::string("both ") + url_key + " and " + k + " are given, with different URLs");
    }
    url_key = k;
    spec.target_url = it->get<std::string>();
  }
  if (!url_key) return refuse("invalid_request", "target_url is required");
  if (auto problem = target_problem(spec.target_url, allow_private_targets); !problem.empty()) {
    return refuse("invalid_target", problem);
  }

  auto ev = body.find("event");
  if (ev == body.end() || !ev->is_string()) return refuse("invalid_request", "event is required (a string)");
  spec.event = ev->get<std::string>();
  if (!delivery::is_subscribable_event(spec.event)) {
    return refuse("invalid_request", "event must be \"*\" or one of call.started, call.ringing, call.answered, "
                                     "call.held, call.unheld, call.transferred, call.parked, call.retrieved, "
                                     "call.queue.entered, call.queue.answered, call.queue.abandoned, call.ended, "
                                     "call.missed");
  }

  spec.scope = "user";
  if (auto sc = body.find("scope"); sc != body.end() && !sc->is_null()) {
    if (!sc->is_string() || (*sc != "user" && *sc != "account")) {
      return refuse("invalid_request", "scope must be \"user\" or \"account\"");
    }
    spec.scope = sc->get<std::string>();
  }

  if (auto f = body.find("filters"); f != body.end() && !f->is_null()) {
    if (!f->is_object()) return refuse("invalid_request", "filters must be an object");
    for (const auto& [key, value] : f->items()) {
      if (key == "direction") {
        if (value.is_null()) continue;
        if (!value.is_string() || (value != "inbound" && value != "outbound" && value != "internal")) {
          return refuse("invalid_request", "filters.direction must be \"inbound\", \"outbound\" or \"internal\"");
        }
        spec.filters.direction = value.get<std::string>();
      } else if (key == "user_id") {
        if (value.is_null()) continue;
        if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
            value.get_ref<const std::string&>().size() > max_filter_user_id) {
          return refuse("invalid_request", "filters.user_id must be a Kazoo user id (a non-empty string)");
        }
        spec.filters.user_id = value.get<std::string>();
      } else if (key == "include_internal") {
        if (!value.is_boolean()) return refuse("invalid_request", "filters.include_internal must be true or false");
        spec.filters.include_internal = value.get<bool>();
      } else {
        return refuse("invalid_request", "unknown filter \"" + key.substr(0, 64) +
                                             "\"; filters are direction, user_id and include_internal");
      }
    }
  }
  if (spec.filters.user_id && spec.scope != "account") {
    return refuse("invalid_request",
                  "filters.user_id needs scope \"account\" (a \"user\" hook already gets only your own calls)");
  }
  if (spec.filters.direction == "internal" && !spec.filters.include_internal) {
    return refuse("invalid_request", "filters.direction \"internal\" with include_internal false matches nothing");
  }
  return hook_spec_result{std::move(spec), {}, {}};
}

std::string filters_text(const delivery::subscription_filters& f) {
  json j{{"direction", nullptr}, {"user_id", nullptr}, {"include_internal", f.include_internal}};
  if (f.direction) j["direction"] = *f.direction;
  if (f.user_id) j["user_id"] = *f.user_id;
  return j.dump();
}

delivery::subscription_filters filters_from_text(std::string_view text) {
  delivery::subscription_filters f;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return f;
  f.direction = optional_string(j, "direction");
  f.user_id = optional_string(j, "user_id");
  if (auto it = j.find("include_internal"); it != j.end() && it->is_boolean()) f.include_internal = it->get<bool>();
  return f;
}

delivery::subscription subscription_of(const store::hook_row& h) {
  return delivery::subscription{.id = h.id,
                                .account_id = h.account_id,
                                .user_id = h.user_id,
                                .event = h.event,
                                .scope = h.scope,
                                .filters = filters_from_text(h.filters),
                                .active = h.status == "active"};
}

json hook_json(const store::hook_row& h) {
  auto filters = json::parse(h.filters, nullptr, false);
  if (filters.is_discarded()) filters = json::object();
  json j{{"id", h.id},
         {"target_url", h.target_url},
         {"event", h.event},
         {"scope", h.scope},
         {"filters", std::move(filters)},
         {"status", h.status},
         {"user_id", h.user_id},
         {"created_at", format_iso8601(h.created_at_ms)},
         {"disabled_reason", nullptr},
         {"failing_since", nullptr}};
  if (h.disabled_reason) j["disabled_reason"] = *h.disabled_reason;
  if (h.failing_since_ms) j["failing_since"] = format_iso8601(*h.failing_since_ms);
  return j;
}

json example_event(std::string_view type_in, const caller& c) {
  const std::string type = (type_in.empty() || type_in == "*") ? std::string("call.missed") : std::string(type_in);
  const bool answered = type == "call.answered" || type == "call.held" || type == "call.unheld" ||
                        type == "call.transferred" || type == "call.parked" || type == "call.retrieved" ||
                        type == "call.queue.answered";
  const bool ended = type == "call.ended" || type == "call.missed" || type == "call.queue.abandoned";
  const std::string ext = c.extensions.empty() ? std::string("101") : c.extensions.front();
  const std::string name = c.user_name.empty() ? std::string("John Doe") : c.user_name;
  json p{{"id", "evt_example_" + std::string(type.substr(5))},
         {"type", type},
         {"occurred_at", "2026-11-21T10:15:33Z"},
         {"account_id", c.account_id},
         {"call_id", "example-call-0001"},
         {"direction", "inbound"},
         {"from_number", "+15551234567"},
         {"from_name", "Jane Roe"},
         {"to_number", ext},
         {"to_name", name},
         {"user_id", c.user_id},
         {"user_name", name},
         {"extension", ext},
         {"started_at", "2026-11-21T10:15:00Z"},
         {"answered_at", answered || type == "call.ended" ? json("2026-11-21T10:15:03Z") : json(nullptr)},
         {"ended_at", ended ? json("2026-11-21T10:15:33Z") : json(nullptr)},
         {"duration_s", ended ? json(33) : json(nullptr)},
         {"talk_s", type == "call.ended" ? json(30) : json(nullptr)},
         {"hangup_cause", ended ? json("NORMAL_CLEARING") : json(nullptr)},
         {"recording_url", nullptr},
         {"park_slot", type == "call.parked" || type == "call.retrieved" ? json("3") : json(nullptr)},
         {"queue_id", type.starts_with("call.queue.") ? json("example-queue") : json(nullptr)},
         {"click_to_call", false},
         {"origin", nullptr},
         {"end_reason", ended ? json("hangup") : json(nullptr)},
         {"from_user_id", nullptr},
         {"summary", ""},
         {"raw", nullptr},
         {"example", true}};
  if (type == "call.ended") p["answered_at"] = "2026-11-21T10:15:03Z";
  p["summary"] = "Example: " + calls::summary_for(p);
  return p;
}

}  // namespace kazoo_bridge::api
