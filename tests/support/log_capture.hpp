#pragma once
// A logger whose lines the test can read back (the Boost.Redis check_log idea, style guide B.7).

#include <memory>
#include <sstream>
#include <string>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

namespace kazoo_bridge::test {

class log_capture {
 public:
  explicit log_capture(const std::string& name = "test")
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)),
        logger_(std::make_shared<spdlog::logger>(name, sink_)) {
    sink_->set_pattern("%l %n %v");
    logger_->set_level(spdlog::level::trace);
  }
  std::shared_ptr<spdlog::logger> logger() const { return logger_; }
  std::string text() const { return out_.str(); }
  bool contains(const std::string& s) const { return text().find(s) != std::string::npos; }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace kazoo_bridge::test
