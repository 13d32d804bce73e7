#pragma once
/// A small Prometheus registry (text exposition format 0.0.4). Counters, gauges and histograms are
/// lock-free to update from any thread; registration takes a mutex and returns a stable reference,
/// so components register once at construction and keep the reference.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kazoo_bridge {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept;
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  /// Approximate quantile from the buckets (upper bound of the bucket holding it); for logs/tests.
  double quantile(double q) const noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  std::uint64_t bucket_count(std::size_t i) const noexcept {
    return buckets_[i].load(std::memory_order_relaxed);
  }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound, non-cumulative, +Inf last
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

/// Buckets in seconds from 0.1 ms to 10 s, for latencies.
std::vector<double> latency_buckets();

class metrics_registry {
 public:
  counter& make_counter(const std::string& name, const std::string& help, metric_labels labels = {});
  gauge& make_gauge(const std::string& name, const std::string& help, metric_labels labels = {});
  histogram& make_histogram(const std::string& name, const std::string& help,
                            std::vector<double> bounds, metric_labels labels = {});

  /// Text exposition format, families sorted by name.
  std::string render() const;

 private:
  enum class kind { counter, gauge, histogram };
  struct series {
    std::string labels;  // rendered `{a="b",c="d"}` or empty
    std::unique_ptr<counter> c;
    std::unique_ptr<gauge> g;
    std::unique_ptr<histogram> h;
  };
  struct family {
    kind k;
    std::string help;
    std::map<std::string, series> by_labels;
  };
  family& family_for(const std::string& name, const std::string& help, kind k);

  mutable std::mutex mu_;
  std::map<std::string, family> families_;
};

}  // namespace kazoo_bridge
