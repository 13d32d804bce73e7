#include "bindings.hpp"

#include <algorithm>

namespace kazoo_sim {
namespace {

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

std::string join(const std::vector<std::string_view>& parts, std::size_t from, char sep) {
  std::string out;
  for (std::size_t i = from; i < parts.size(); ++i) {
    if (i > from) out.push_back(sep);
    out.append(parts[i]);
  }
  return out;
}

internal_binding make(std::string_view client, std::string_view account, std::string module,
                      std::string key, std::string event = "*", std::string call_id = "*") {
  return internal_binding{std::string(client), std::move(key), std::string(account),
                          std::move(module), std::move(event), std::move(call_id), {}};
}

// bh_call: exactly `call.{EVENT|*}.{CALLID|*}`; `call.*` -> "invalid format for call
// subscription : *" (the text after "call."); an unknown event -> "event X not supported".
binding_result expand_call(std::string_view binding, const std::vector<std::string_view>& parts,
                           std::string_view account) {
  if (parts.size() != 3) {
    return std::string("invalid format for call subscription : ") + join(parts, 1, '.');
  }
  auto event = parts[1];
  auto call_id = std::string(parts[2]);
  std::vector<internal_binding> out;
  auto add = [&](std::string_view ev) {
    out.push_back(make(binding, account, "call",
                       "call." + std::string(account) + "." + std::string(ev) + "." + call_id,
                       std::string(ev), call_id));
  };
  if (event == "*") {
    for (auto ev : call_event_names) add(ev);
  } else if (is_call_event(event)) {
    add(event);
  } else {
    return "event " + std::string(event) + " not supported";
  }
  return out;
}

}  // namespace

bool is_call_event(std::string_view name) {
  return std::find(call_event_names.begin(), call_event_names.end(), name) !=
         call_event_names.end();
}

binding_result expand_binding(std::string_view binding, std::string_view account_id,
                              const binding_options& opts) {
  const std::string no_module = "no available subscriptions to requested binding";
  auto parts = split_dots(binding);
  auto prefix = parts.front();
  if (prefix == "call") return expand_call(binding, parts, account_id);
  if (prefix == "qubicle") {
    // Commercial bh_qubicle (§4.3): qubicle.session|recipient|queue. Without the module loaded
    // Kazoo has no handler for the prefix.
    if (!opts.qubicle || parts.size() < 2) return no_module;
    auto kind = std::string(parts[1]);
    if (kind != "session" && kind != "recipient" && kind != "queue") return no_module;
    return std::vector<internal_binding>{make(binding, account_id, "qubicle",
                                              "qubicle." + kind + "." + std::string(account_id) +
                                                  ".*",
                                              kind)};
  }
  if (prefix == "conference") {
    // bh_conference: conference.command.{ID} / conference.event.{ID}.{CALL_ID}[.{EVENT}]
    if (parts.size() < 3 || parts[2].empty()) return std::string("ConferenceId required");
    return std::vector<internal_binding>{
        make(binding, account_id, "conference", std::string(binding))};
  }
  if ((prefix == "object" || prefix == "fax") && parts.size() >= 3) {
    // Loaded by default in Kazoo; the simulator accepts them but never generates such events.
    return std::vector<internal_binding>{
        make(binding, account_id, std::string(prefix), std::string(binding))};
  }
  return no_module;
}

bool matches_call_event(const internal_binding& b, std::string_view account_id,
                        std::string_view event_name, std::string_view encoded_call_id) {
  return b.module == "call" && b.account_id == account_id &&
         (b.event == "*" || b.event == event_name) &&
         (b.call_id == "*" || b.call_id == encoded_call_id);
}

}  // namespace kazoo_sim
