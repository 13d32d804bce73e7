#include <gtest/gtest.h>

#include <kazoo_bridge/common/metrics.hpp>

namespace kazoo_bridge {
namespace {

TEST(metrics, renders_counters_with_labels_in_exposition_format) {
  metrics_registry r;
  r.make_counter("kb_events_total", "Events.", {{"type", "call.ended"}}).inc(3);
  r.make_counter("kb_events_total", "Events.", {{"type", "call.\"odd\""}}).inc();
  auto text = r.render();
  EXPECT_NE(text.find("# TYPE kb_events_total counter"), std::string::npos);
  EXPECT_NE(text.find("kb_events_total{type=\"call.ended\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kb_events_total{type=\"call.\\\"odd\\\"\"} 1\n"), std::string::npos);
}

TEST(metrics, same_series_is_returned_twice) {
  metrics_registry r;
  auto& a = r.make_counter("c", "h");
  auto& b = r.make_counter("c", "h");
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(r.make_gauge("c", "h"), std::logic_error);
}

TEST(metrics, histogram_buckets_are_cumulative) {
  metrics_registry r;
  auto& h = r.make_histogram("lat_seconds", "Latency.", {0.01, 0.1, 1});
  h.observe(0.005);
  h.observe(0.05);
  h.observe(0.05);
  h.observe(5);
  auto text = r.render();
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.01\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count 4\n"), std::string::npos);
  EXPECT_DOUBLE_EQ(h.quantile(0.5), 0.1);
}

TEST(metrics, gauge_renders_integers_without_exponent) {
  metrics_registry r;
  r.make_gauge("depth", "Depth.").set(1234567);
  EXPECT_NE(r.render().find("depth 1234567\n"), std::string::npos);
}

}  // namespace
}  // namespace kazoo_bridge
