#include <kazoo_bridge/calls/lifecycle.hpp>

#include "calls/json_text.hpp"

namespace kazoo_bridge::calls {

std::string payload_text(const lifecycle_event& e) {
  // `raw` is spliced in as received instead of being copied into the payload DOM and rendered again:
  // it is the largest part of every event (a ~1.5 KB Kazoo object), and JSON object members are
  // unordered (RFC 8259 §4), so its place at the end changes nothing for a consumer.
  std::string text;
  text.reserve(768 + (e.raw ? e.raw->size() : 4));
  detail::append_json(text, e.payload);
  if (text.size() < 2 || text.back() != '}') return text;  // not an object: nothing to add raw to
  text.pop_back();
  if (text.size() > 1) text += ',';
  text += "\"raw\":";
  if (e.raw) {
    text += *e.raw;
  } else {
    text += "null";
  }
  text += '}';
  return text;
}

}  // namespace kazoo_bridge::calls
