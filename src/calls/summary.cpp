// One human sentence per lifecycle event (the `summary` payload key, design.md example:
// "Inbound call from +1 555 123 4567 (Jane Roe) answered by John Doe (ext 101)").

#include <kazoo_bridge/calls/lifecycle.hpp>

#include <cctype>

namespace kazoo_bridge::calls {
namespace {

std::string str(const nlohmann::json& p, const char* key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::string party(const std::string& number, const std::string& name) {
  if (number.empty() && name.empty()) return "an unknown number";
  if (number.empty()) return name;
  auto pretty = pretty_number(number);
  if (name.empty() || name == number) return pretty;
  return pretty + " (" + name + ")";
}

// "John Doe (ext 101)", else the to_* party.
std::string person(const nlohmann::json& p) {
  auto name = str(p, "user_name");
  auto ext = str(p, "extension");
  if (!name.empty()) return ext.empty() ? name : name + " (ext " + ext + ")";
  if (!ext.empty()) return "ext " + ext;
  return party(str(p, "to_number"), str(p, "to_name"));
}

std::string caller(const nlohmann::json& p) {
  const auto direction = str(p, "direction");
  if (direction != "inbound") {
    // Outbound/internal: the caller is one of ours; name them like a person when we can.
    auto from_name = str(p, "from_name");
    auto from_number = str(p, "from_number");
    if (!from_name.empty() && !from_number.empty() && from_number.size() <= 6) {
      return from_name + " (ext " + from_number + ")";
    }
  }
  return party(str(p, "from_number"), str(p, "from_name"));
}

std::string base(const nlohmann::json& p) {
  const auto origin = str(p, "origin");
  const auto to = party(str(p, "to_number"), str(p, "to_name"));
  if (origin == "click_to_call") return "Click-to-call from " + caller(p) + " to " + to;
  if (origin == "quickcall") return "Quickcall from " + caller(p) + " to " + to;
  const auto direction = str(p, "direction");
  if (direction == "outbound") return "Outbound call from " + caller(p) + " to " + to;
  if (direction == "internal") return "Internal call from " + caller(p) + " to " + to;
  return "Inbound call from " + caller(p);
}

std::string duration_text(std::int64_t s) {
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string((s % 3600) / 60) + " min";
}

}  // namespace

std::string pretty_number(std::string_view number) {
  // NANP E.164: +1 NPA NXX XXXX.
  if (number.size() == 12 && number.starts_with("+1")) {
    bool digits = true;
    for (char c : number.substr(1)) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) {
      std::string n(number);
      return n.substr(0, 2) + " " + n.substr(2, 3) + " " + n.substr(5, 3) + " " + n.substr(8);
    }
  }
  return std::string(number);
}

std::string summary_for(const nlohmann::json& payload) {
  if (!payload.is_object()) return {};
  const auto type = str(payload, "type");
  const auto b = base(payload);
  const auto slot = str(payload, "park_slot");
  if (type == "call.started") {
    return str(payload, "direction") == "inbound" && !str(payload, "to_number").empty()
               ? b + " to " + party(str(payload, "to_number"), str(payload, "to_name"))
               : b;
  }
  // An outbound call's user is the caller (already named in `b`); what rings and answers is the far end.
  const bool outbound = str(payload, "direction") == "outbound";
  if (type == "call.ringing") return outbound ? b + " ringing" : b + " ringing " + person(payload);
  if (type == "call.answered") return outbound ? b + " answered" : b + " answered by " + person(payload);
  if (type == "call.held") return b + " put on hold";
  if (type == "call.unheld") return b + " taken off hold";
  if (type == "call.transferred") return b + " transferred to " + person(payload);
  if (type == "call.parked") return b + " parked in slot " + (slot.empty() ? "?" : slot);
  if (type == "call.retrieved") {
    return b + " retrieved from slot " + (slot.empty() ? "?" : slot) +
           (str(payload, "user_name").empty() && str(payload, "extension").empty() ? "" : " by " + person(payload));
  }
  if (type == "call.queue.entered") {
    auto q = str(payload, "queue_id");
    return b + " entered " + (q.empty() ? std::string{"a queue"} : "queue " + q);
  }
  if (type == "call.queue.answered") return b + " answered in the queue by agent " + person(payload);
  if (type == "call.queue.abandoned") return b + " abandoned in the queue";
  if (type == "call.missed") {
    const bool someone = !str(payload, "user_name").empty() || !str(payload, "extension").empty();
    return "Missed call: " + b + (someone ? " to " + person(payload) : "");
  }
  if (type == "call.ended") {
    auto detail = str(payload, "end_detail");
    if (!detail.empty()) return b + " " + detail;
    std::string out = b + " ended";
    if (auto d = payload.find("duration_s"); d != payload.end() && d->is_number_integer()) {
      out += " after " + duration_text(d->get<std::int64_t>());
    }
    if (auto cause = str(payload, "hangup_cause"); !cause.empty()) out += " (" + cause + ")";
    return out;
  }
  return b;
}

}  // namespace kazoo_bridge::calls
