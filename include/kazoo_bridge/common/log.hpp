#pragma once
/// Logging (style guide B.7): one named logger per module on shared sinks, text or JSON lines,
/// and the one helper that keeps secrets out of logs.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

namespace kazoo_bridge {

struct log_options {
  std::string level = "info";   ///< trace|debug|info|warn|error
  std::string format = "text";  ///< text|json
  /// Without timestamps under systemd (journald adds its own); auto-detected from JOURNAL_STREAM.
  std::optional<bool> timestamps;
  /// Prefix each line with its syslog priority ("<3>" for errors, sd-daemon(3)) so journald can filter
  /// by level; auto-detected from JOURNAL_STREAM.
  std::optional<bool> journald;
};

/// Parses a level name; nullopt for an unknown name.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

/// Owns the shared sinks. Thread-safe; loggers it returns may be used from any thread.
class log_factory {
 public:
  explicit log_factory(log_options opts);
  /// For tests: every logger writes to the given sinks instead of stderr.
  log_factory(log_options opts, std::vector<spdlog::sink_ptr> sinks);

  std::shared_ptr<spdlog::logger> get(const std::string& name) const;

 private:
  log_options opts_;
  std::vector<spdlog::sink_ptr> sinks_;
};

/// What a secret (token, password, client secret, OAuth code, API key) looks like in a log line.
/// Nothing of the secret survives except its length class, so a log never leaks a prefix.
std::string redact(std::string_view secret);

/// Replaces every occurrence of `secret` in `text` (e.g. Kazoo echoes the token in
/// "failed to authenticate token {TOKEN}", reference/kazoo.md §1.3).
std::string redact_in(std::string text, std::string_view secret);

}  // namespace kazoo_bridge
