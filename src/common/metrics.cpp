#include <kazoo_bridge/common/metrics.hpp>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace kazoo_bridge {
namespace {

void atomic_add(std::atomic<double>& a, double d) noexcept {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
std::string render_labels(const metric_labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    for (char ch : labels[i].second) {
      if (ch == '\\') out += "\\\\";
      else if (ch == '"') out += "\\\"";
      else if (ch == '\n') out += "\\n";
      else out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string format_value(double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v)) && v < 9e15 && v > -9e15) {
    return fmt::format("{}", static_cast<std::int64_t>(v));
  }
  return fmt::format("{}", v);
}

// Inserts `le` into an already rendered label set.
std::string with_le(const std::string& labels, const std::string& le) {
  if (labels.empty()) return fmt::format("{{le=\"{}\"}}", le);
  return fmt::format("{},le=\"{}\"}}", labels.substr(0, labels.size() - 1), le);
}

}  // namespace

void gauge::add(double d) noexcept { atomic_add(v_, d); }

histogram::histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void histogram::observe(double v) noexcept {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

double histogram::quantile(double q) const noexcept {
  auto total = count();
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    seen += bucket_count(i);
    if (seen > rank || (seen == total)) {
      return i < bounds_.size() ? bounds_[i] : (bounds_.empty() ? 0 : bounds_.back());
    }
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

metrics_registry::family& metrics_registry::family_for(const std::string& name,
                                                       const std::string& help, kind k) {
  auto [it, inserted] = families_.try_emplace(name, family{k, help, {}});
  if (!inserted && it->second.k != k) {
    throw std::logic_error("metric " + name + " registered twice with different types");
  }
  return it->second;
}

counter& metrics_registry::make_counter(const std::string& name, const std::string& help,
                                        metric_labels labels) {
  std::lock_guard lock(mu_);
  auto& s = family_for(name, help, kind::counter).by_labels[render_labels(labels)];
  if (!s.c) s.c = std::make_unique<counter>();
  return *s.c;
}

gauge& metrics_registry::make_gauge(const std::string& name, const std::string& help,
                                    metric_labels labels) {
  std::lock_guard lock(mu_);
  auto& s = family_for(name, help, kind::gauge).by_labels[render_labels(labels)];
  if (!s.g) s.g = std::make_unique<gauge>();
  return *s.g;
}

histogram& metrics_registry::make_histogram(const std::string& name, const std::string& help,
                                            std::vector<double> bounds, metric_labels labels) {
  std::lock_guard lock(mu_);
  auto& s = family_for(name, help, kind::histogram).by_labels[render_labels(labels)];
  if (!s.h) s.h = std::make_unique<histogram>(std::move(bounds));
  return *s.h;
}

std::string metrics_registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    const char* type = fam.k == kind::counter ? "counter" : fam.k == kind::gauge ? "gauge" : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name, type);
    for (const auto& [labels, s] : fam.by_labels) {
      if (s.c) out += fmt::format("{}{} {}\n", name, labels, s.c->value());
      if (s.g) out += fmt::format("{}{} {}\n", name, labels, format_value(s.g->value()));
      if (s.h) {
        std::uint64_t cumulative = 0;
        const auto& b = s.h->bounds();
        for (std::size_t i = 0; i < b.size(); ++i) {
          cumulative += s.h->bucket_count(i);
          out += fmt::format("{}_bucket{} {}\n", name, with_le(labels, fmt::format("{}", b[i])), cumulative);
        }
        cumulative += s.h->bucket_count(b.size());
        out += fmt::format("{}_bucket{} {}\n", name, with_le(labels, "+Inf"), cumulative);
        out += fmt::format("{}_sum{} {}\n", name, labels, s.h->sum());
        out += fmt::format("{}_count{} {}\n", name, labels, s.h->count());
      }
    }
  }
  return out;
}

}  // namespace kazoo_bridge
