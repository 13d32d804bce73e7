#include "recorder.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <system_error>

namespace hook_sink {

namespace {

// A CSV field: quoted (RFC 4180 §2) only if it holds a separator, a quote or a line break.
void append_field(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

bool has_prefix(std::string_view path, std::string_view dir) {  // "/ok" matches /ok and /ok/...
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

void die(const std::string& why) {
  std::cerr << "hook_sink: " << why << '\n';
  std::exit(2);
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_number(std::string& out, std::uint64_t v) {
  std::array<char, 24> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), v);
  out.append(digits.data(), end);
}

// kazoo-sim stamps msg_id with its send time in Unix µs and the daemon copies that Kazoo object into
// the payload's "raw"; payload keys are sorted, so the first `"msg_id":"` is raw.msg_id.
std::uint64_t msg_id_us(std::string_view body) {
  constexpr std::string_view key = "\"msg_id\":\"";
  const auto at = body.find(key);
  if (at == std::string_view::npos) return 0;
  const char* first = body.data() + at + key.size();
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(first, body.data() + body.size(), v);
  return ec == std::errc{} ? v : 0;
}

recorder::recorder(std::string samples_path) : samples_path_(std::move(samples_path)) {
  if (samples_path_.empty()) return;
  file_ = std::fopen(samples_path_.c_str(), "w");
  if (file_ == nullptr) die("cannot write " + samples_path_);
  pending_.reserve(std::size_t{1} << 20);
}

recorder::~recorder() {
  if (file_ != nullptr) std::fclose(file_);
}

answer recorder::on_request(std::string_view target, std::string_view webhook_id, std::string_view body,
                            std::int64_t receipt_us, std::size_t bytes, bool stats_listener) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/stats") return answer::stats;
  if (stats_listener) return answer::missing;
  bytes_ += bytes;
  answer a = answer::missing;
  if (has_prefix(path, "/ok")) {
    a = answer::ok;
    ++ok_;
  } else if (has_prefix(path, "/fail")) {
    a = answer::fail;
    ++fail_;
  } else if (has_prefix(path, "/hang")) {
    a = answer::hang;
    ++hang_;
  } else {
    ++other_;
  }
  // A delivery the daemon repeats carries the same webhook-id (Standard Webhooks: the id is the
  // idempotency key); requests without one (curl, probes) are not deliveries and never duplicates.
  if (!webhook_id.empty()) {
    std::string key;
    key.reserve(path.size() + 1 + webhook_id.size());
    key.append(path).push_back('\n');
    key.append(webhook_id);
    if (!seen_.insert(std::move(key)).second) ++duplicates_;
  }
  if (file_ != nullptr) {
    append_number(pending_, static_cast<std::uint64_t>(receipt_us));
    pending_.push_back(',');
    append_number(pending_, msg_id_us(body));
    pending_.push_back(',');
    append_field(pending_, path);
    pending_.push_back(',');
    append_field(pending_, webhook_id);
    pending_.push_back('\n');
  }
  return a;
}

std::string recorder::stats_json() const {
  std::string s;
  auto field = [&s](std::string_view name, std::uint64_t v) {
    s += s.empty() ? "{\"" : ",\"";
    s.append(name).append("\":");
    append_number(s, v);
  };
  field("ok", ok_);
  field("fail", fail_);
  field("hang", hang_);
  field("other", other_);
  field("duplicates", duplicates_);
  field("connections_open", open_);
  field("connections_total", total_);
  field("bytes", bytes_);
  field("now_us", static_cast<std::uint64_t>(now_us()));
  s += '}';
  return s;
}

void recorder::flush() {
  if (file_ == nullptr || pending_.empty()) return;
  if (std::fwrite(pending_.data(), 1, pending_.size(), file_) != pending_.size() || std::fflush(file_) != 0) {
    die("writing " + samples_path_ + " failed");
  }
  pending_.clear();  // keeps the capacity: the next 200 ms reuse it
}

}  // namespace hook_sink
