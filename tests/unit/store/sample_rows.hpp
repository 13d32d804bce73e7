#pragma once
// Rows as the calls module would hand them to the store (shared by the unit and integration tests).

#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <kazoo_bridge/store/rows.hpp>

namespace kazoo_bridge::store::test {

inline event_row sample_event(std::string id, std::string call_id, std::string type = "call.started",
                              std::int64_t at_ms = 1'700'000'000'000, std::string account = "acc1") {
  event_row e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.call_id = std::move(call_id);
  e.account_id = std::move(account);
  e.occurred_at_ms = at_ms;
  e.direction = "inbound";
  e.user_id = "user1";
  e.payload = fmt::format(R"({{"id":"{}","type":"{}","call_id":"{}","ended_at":null}})", e.id, e.type,
                          e.call_id);
  return e;
}

inline call_row sample_call(std::string call_id, std::string status = "ringing",
                            std::int64_t started_ms = 1'700'000'000'000, std::string account = "acc1") {
  call_row c;
  c.call_id = std::move(call_id);
  c.account_id = std::move(account);
  c.status = std::move(status);
  c.direction = "inbound";
  c.answered = c.status == "answered";
  c.started_at_ms = started_ms;
  c.updated_at_ms = started_ms;
  c.snapshot = R"({"from_number":"+15551234567"})";
  c.state = R"({"legs":["a"]})";
  return c;
}

}  // namespace kazoo_bridge::store::test
