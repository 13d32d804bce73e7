#pragma once
// A child process with its stdout on a pipe (the demo runs kazoo-sim this way).

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace kazoo_bridge::app {

class child_process {
 public:
  /// Starts `argv[0]` with stdout on a pipe and stderr to `stderr_file` (or inherited when empty).
  static std::optional<child_process> spawn(const std::vector<std::string>& argv, const std::string& stderr_file);
  child_process(child_process&& o) noexcept;
  child_process& operator=(child_process&&) = delete;
  ~child_process();

  /// Reads one line of the child's stdout; nullopt at EOF or after `timeout_ms`.
  std::optional<std::string> read_line(int timeout_ms);
  /// SIGTERM, then SIGKILL if it has not exited after `grace_ms`; returns the exit status.
  int terminate(int grace_ms);
  pid_t pid() const { return pid_; }

 private:
  child_process(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
};

/// The directory of the running executable (/proc/self/exe).
std::string executable_dir();

}  // namespace kazoo_bridge::app
