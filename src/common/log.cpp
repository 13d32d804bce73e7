#include <kazoo_bridge/common/log.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace kazoo_bridge {
namespace {

bool under_journald() { return std::getenv("JOURNAL_STREAM") != nullptr; }

// sd-daemon(3): a "<N>" prefix on a stderr line gives journald its syslog priority, so that
// `journalctl -p err` shows errors only (without it every line is "info").
const char* syslog_prefix(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "<7>";
    case spdlog::level::info: return "<6>";
    case spdlog::level::warn: return "<4>";
    case spdlog::level::err: return "<3>";
    case spdlog::level::critical: return "<2>";
    default: return "";
  }
}

class syslog_priority_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char* p = syslog_prefix(msg.level);
    dest.append(p, p + std::strlen(p));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<syslog_priority_flag>(); }
};

// One JSON object per line; the message is escaped by nlohmann::json.
class json_formatter final : public spdlog::formatter {
 public:
  json_formatter(bool timestamps, bool journald) : timestamps_(timestamps), journald_(journald) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    if (journald_) {
      const char* p = syslog_prefix(msg.level);
      dest.append(p, p + std::strlen(p));
    }
    nlohmann::json j;
    if (timestamps_) {
      auto t = std::chrono::system_clock::to_time_t(msg.time);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
      j["ts"] = fmt::format("{}.{:03}Z", buf, ms);
    }
    auto lvl = spdlog::level::to_string_view(msg.level);
    j["level"] = std::string(lvl.data(), lvl.size());
    j["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    auto text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>(timestamps_, journald_);
  }

 private:
  bool timestamps_;
  bool journald_;
};



}  // namespace

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return std::nullopt;
}

log_factory::log_factory(log_options opts)
    : log_factory(std::move(opts), {std::make_shared<spdlog::sinks::stderr_sink_mt>()}) {}

log_factory::log_factory(log_options opts, std::vector<spdlog::sink_ptr> sinks)
    : opts_(std::move(opts)), sinks_(std::move(sinks)) {
  const bool journald = opts_.journald.value_or(under_journald());
  const bool timestamps = opts_.timestamps.value_or(!journald);
  for (auto& sink : sinks_) {
    if (opts_.format == "json") {
      sink->set_formatter(std::make_unique<json_formatter>(timestamps, journald));
    } else {
      auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
      f->add_flag<syslog_priority_flag>('*');
      std::string pattern = timestamps ? "%Y-%m-%dT%H:%M:%S.%eZ %-5l %-8n %v" : "%-5l %-8n %v";
      f->set_pattern(journald ? "%*" + pattern : pattern);
      sink->set_formatter(std::move(f));
    }
  }
}

std::shared_ptr<spdlog::logger> log_factory::get(const std::string& name) const {
  auto logger = std::make_shared<spdlog::logger>(name, sinks_.begin(), sinks_.end());
  logger->set_level(parse_log_level(opts_.level).value_or(spdlog::level::info));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::string redact(std::string_view secret) {
  if (secret.empty()) return "(empty)";
  return "[redacted]";
}

std::string redact_in(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "[redacted]");
  }
  return text;
}

}  // namespace kazoo_bridge
