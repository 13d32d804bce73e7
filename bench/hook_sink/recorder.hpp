// hook_sink's bookkeeping, apart from the network code: counters, duplicate detection and the CSV
// samples buffer. Plain C++ (no Asio, no Beast), so main.cpp stays the I/O loop only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_set>

namespace hook_sink {

/// Prints "hook_sink: <why>" to stderr and exits with status 2.
[[noreturn]] void die(const std::string& why);

/// System clock, Unix µs.
std::int64_t now_us();

/// Appends the decimal digits of v.
void append_number(std::string& out, std::uint64_t v);

/// The digits after the first `"msg_id":"` in a payload, 0 when there is none.
std::uint64_t msg_id_us(std::string_view body);

/// What the sink answers a request.
enum class answer { ok, fail, hang, missing, stats };

/// Counts requests and connections, keeps the (path, webhook-id) pairs seen and buffers the samples.
/// Thread: the I/O thread only. Lifetime: must outlive every session (it is created before the
/// io_context, so the session frames destroyed with it can still report their close).
class recorder {
 public:
  /// samples_path empty: no CSV. Otherwise the file is created (truncated) now; exits on failure.
  explicit recorder(std::string samples_path);
  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;
  ~recorder();

  /// Counts one request read in full (`bytes`: head + body as consumed by the parser) and decides
  /// its answer. Requests on the stats listener are answered but never counted or sampled.
  answer on_request(std::string_view target, std::string_view webhook_id, std::string_view body,
                    std::int64_t receipt_us, std::size_t bytes, bool stats_listener);

  /// {"ok":N,"fail":N,"hang":N,"other":N,"duplicates":N,"connections_open":N,"connections_total":N,
  /// "bytes":N,"now_us":T}
  std::string stats_json() const;

  /// Writes the buffered samples out (the 200 ms timer and exit call it); exits if the write fails.
  void flush();

  void opened() { ++open_, ++total_; }
  void closed() { --open_; }

 private:
  std::string samples_path_;
  std::FILE* file_ = nullptr;
  std::string pending_;  // CSV lines not written yet
  std::unordered_set<std::string> seen_;  // path + '\n' + webhook-id
  std::uint64_t ok_ = 0, fail_ = 0, hang_ = 0, other_ = 0, duplicates_ = 0, open_ = 0, total_ = 0, bytes_ = 0;
};

}  // namespace hook_sink
