#pragma once
// pooled_id: a string from a small, bounded set (account, user, device and queue ids, directions,
// hang-up causes), stored once per process. A call in progress holds 8 bytes per such value instead of
// a 32-byte std::string plus, for a 32-hex Kazoo id, a 48-byte heap block (bench/README.md: the
// target is at most 2 KB per active call, and these ids repeat across every call of a user).
//
// Only values drawn from the platform's own configuration go here, never per-call values (Call-IDs,
// numbers, names): the pool never shrinks. Thread: interning takes a mutex, reading does not.

#include <string>
#include <string_view>

namespace kazoo_bridge::calls::detail {

class pooled_id {
 public:
  pooled_id() = default;
  // Implicit on purpose, both ways: a drop-in for the std::string members it replaces.
  pooled_id(std::string_view s) : p_(intern(s)) {}
  pooled_id(const std::string& s) : p_(intern(s)) {}
  pooled_id(const char* s) : p_(intern(s)) {}
  pooled_id& operator=(std::string_view s) {
    p_ = intern(s);
    return *this;
  }
  pooled_id& operator=(const std::string& s) { return *this = std::string_view(s); }
  pooled_id& operator=(const char* s) { return *this = std::string_view(s); }

  operator const std::string&() const { return *p_; }
  const std::string& str() const { return *p_; }
  bool empty() const { return p_->empty(); }
  std::size_t size() const { return p_->size(); }
  void clear() { p_ = &empty_value(); }

  friend bool operator==(const pooled_id& a, const pooled_id& b) { return a.p_ == b.p_; }
  friend bool operator==(const pooled_id& a, std::string_view b) { return *a.p_ == b; }
  friend bool operator==(const pooled_id& a, const std::string& b) { return *a.p_ == b; }
  friend bool operator==(const pooled_id& a, const char* b) { return *a.p_ == b; }

 private:
  static const std::string& empty_value();
  static const std::string* intern(std::string_view s);
  const std::string* p_ = &empty_value();
};

}  // namespace kazoo_bridge::calls::detail
