#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <kazoo_bridge/common/log.hpp>

namespace kazoo_bridge {
namespace {

TEST(log, json_format_is_one_escaped_object_per_line) {
  std::ostringstream out;
  log_factory f({.level = "debug", .format = "json", .timestamps = false, .journald = false},
                {std::make_shared<spdlog::sinks::ostream_sink_mt>(out)});
  f.get("ingest")->info("said \"hi\"\nnext");
  f.get("ingest")->trace("not shown");
  auto line = out.str();
  ASSERT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["logger"], "ingest");
  EXPECT_EQ(j["msg"], "said \"hi\"\nnext");
}

TEST(log, under_journald_lines_carry_their_syslog_priority) {
  std::ostringstream out;
  log_factory f({.level = "debug", .format = "text", .timestamps = false, .journald = true},
                {std::make_shared<spdlog::sinks::ostream_sink_mt>(out)});
  auto l = f.get("app");
  l->error("boom");
  l->warn("careful");
  l->info("hello");
  l->debug("detail");
  auto text = out.str();
  EXPECT_NE(text.find("<3>error app      boom"), std::string::npos) << text;
  EXPECT_NE(text.find("<4>warning app      careful"), std::string::npos) << text;
  EXPECT_NE(text.find("<6>info  app      hello"), std::string::npos) << text;
  EXPECT_NE(text.find("<7>debug app      detail"), std::string::npos) << text;
  std::ostringstream plain;
  log_factory g({.level = "info", .format = "text", .timestamps = false, .journald = false},
                {std::make_shared<spdlog::sinks::ostream_sink_mt>(plain)});
  g.get("app")->error("boom");
  EXPECT_EQ(plain.str().find('<'), std::string::npos) << plain.str();
}

TEST(log, redaction_leaves_nothing_of_the_secret) {
  EXPECT_EQ(redact("eyJhbGciOiJSUzI1NiJ9.secret"), "[redacted]");
  EXPECT_EQ(redact_in("failed to authenticate token abc123 now abc123", "abc123"),
            "failed to authenticate token [redacted] now [redacted]");
  EXPECT_EQ(redact_in("nothing here", ""), "nothing here");
}

TEST(log, unknown_level_is_rejected) {
  EXPECT_TRUE(parse_log_level("warn").has_value());
  EXPECT_FALSE(parse_log_level("loud").has_value());
}

}  // namespace
}  // namespace kazoo_bridge
