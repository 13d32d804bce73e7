#include "calls/pooled_id.hpp"

#include <functional>
#include <mutex>
#include <unordered_set>

namespace kazoo_bridge::calls::detail {
namespace {

struct text_hash {
  using is_transparent = void;  // look up by string_view without building a std::string
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct pool {
  std::mutex m;
  // Node-based: a value's address never changes once interned, so pooled_ids can point at it.
  std::unordered_set<std::string, text_hash, std::equal_to<>> values;
};

pool& the_pool() {
  static pool* p = new pool();  // never destroyed: pooled_ids in static trackers may outlive exit order
  return *p;
}

}  // namespace

const std::string& pooled_id::empty_value() {
  static const std::string empty;
  return empty;
}

const std::string* pooled_id::intern(std::string_view s) {
  if (s.empty()) return &empty_value();
  auto& p = the_pool();
  std::lock_guard lock(p.m);
  if (auto it = p.values.find(s); it != p.values.end()) return &*it;
  return &*p.values.emplace(s).first;
}

}  // namespace kazoo_bridge::calls::detail
