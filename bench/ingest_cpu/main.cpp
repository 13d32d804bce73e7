// ingest_cpu: CPU time of the daemon's I/O-thread work per Kazoo channel event, with no sockets and no
// other process, so the figure is stable on a shared machine (thread CPU time, not wall time).
//
// Frames: every bundled scenario, both Kazoo flavours, `--calls` instances with unique Call-IDs whose
// starts are staggered so their events interleave as on a busy switch, wrapped in the envelope kazoo-sim
// sends (reference/kazoo.md §1.4). Stages timed separately:
//   parse  calls::parse_frame() alone
//   dom    nlohmann::json::parse() of the whole frame: a reference to read the others as ratios
//   full   parse_frame + tracker::on_event, and every `--batch` frames tracker::flush + app::to_row of
//          the lifecycle events and calls (what app::pipeline does before handing a batch to the store)
//   memory heap bytes the tracker holds per call in progress (mallinfo2)
// Prints one JSON object.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <malloc.h>
#include <unistd.h>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <kazoo_bridge/app/pipeline.hpp>
#include <kazoo_bridge/calls/calls.hpp>
#include <kazoo_sim/scenario.hpp>

namespace {

using namespace kazoo_bridge;

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::shared_ptr<const calls::directory> directory_of(const kazoo_sim::account& a) {
  auto d = std::make_shared<calls::directory>();
  for (const auto& u : a.users) {
    calls::user_info i;
    i.id = u.id;
    i.name = u.first_name + " " + u.last_name;
    i.extension = u.extension;
    i.extensions = {u.extension};
    d->users[u.id] = i;
  }
  for (const auto& dev : a.devices) d->devices[dev.id] = calls::device_info{dev.id, dev.name, dev.owner_id};
  return d;
}

struct timed_text {
  std::int64_t at_ms;
  std::string text;
};

std::vector<timed_text> frames(const kazoo_sim::fixture& fx, const std::vector<kazoo_sim::scenario>& scs,
                               const std::string& account, std::size_t calls) {
  std::vector<timed_text> out;
  const std::int64_t t0 = 1718000000000;
  for (std::size_t i = 0; i < calls; ++i) {
    kazoo_sim::instance inst;
    inst.account_id = account;
    inst.seed = 1000 + i;
    inst.start_unix_ms = t0 + static_cast<std::int64_t>(i) * 5;
    inst.flavour_ = i % 2 == 0 ? kazoo_sim::flavour::kz43 : kazoo_sim::flavour::kzm;
    for (auto& e : kazoo_sim::expand(scs[i % scs.size()], fx, inst)) {
      nlohmann::json env = {{"action", "event"},
                            {"subscribed_key", "call.*.*"},
                            {"subscription_key", "call." + account + ".*.*"},
                            {"name", e.name},
                            {"routing_key", kazoo_sim::routing_key(e)},
                            {"data", e.data}};
      out.push_back({e.at_unix_ms, env.dump()});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
  return out;
}

struct run_result {
  double cpu_s = 0;
  std::size_t events = 0, calls = 0, event_bytes = 0, call_bytes = 0;
};

run_result run_full(const std::vector<timed_text>& in, const std::string& account,
                    std::shared_ptr<const calls::directory> dir, std::size_t batch) {
  calls::tracker t;
  t.set_directory(account, std::move(dir));
  calls::tracker_output out;
  run_result r;
  auto render = [&](std::int64_t now) {
    t.flush(now, out);
    for (const auto& e : out.events) r.event_bytes += app::to_row(e).payload.size();
    for (const auto& c : out.calls) {
      auto row = app::to_row(c);
      r.call_bytes += row.snapshot.size() + row.state.size();
    }
    r.events += out.events.size();
    r.calls += out.calls.size();
    out.events.clear();
    out.calls.clear();
  };
  const double start = thread_cpu_s();
  std::size_t n = 0;
  std::int64_t now = 0;
  for (const auto& f : in) {
    auto parsed = calls::parse_frame(f.text);
    if (!parsed) continue;
    now = f.at_ms;
    t.on_event(*parsed, now, out);
    if (++n % batch == 0) render(now);
  }
  render(now);
  r.cpu_s = thread_cpu_s() - start;
  return r;
}

double run_parse(const std::vector<timed_text>& in) {
  const double start = thread_cpu_s();
  std::size_t ok = 0;
  for (const auto& f : in) if (calls::parse_frame(f.text)) ++ok;
  const double cpu = thread_cpu_s() - start;
  if (ok != in.size()) std::fprintf(stderr, "ingest_cpu: %zu of %zu frames did not parse\n", in.size() - ok, in.size());
  return cpu;
}

// The reference: a full nlohmann DOM of every frame (what parse_frame did before the scanner), so the
// figures above can be read as ratios that hold on a loaded machine.
double run_dom(const std::vector<timed_text>& in) {
  const double start = thread_cpu_s();
  std::size_t members = 0;
  for (const auto& f : in) members += nlohmann::json::parse(f.text).size();
  const double cpu = thread_cpu_s() - start;
  if (members == 0) std::fprintf(stderr, "ingest_cpu: no members parsed\n");
  return cpu;
}

std::size_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// Heap bytes the tracker holds per call in progress: every frame except the hang-ups (CHANNEL_DESTROY,
// PARK_ABANDONED), so every call stays active; glibc's count of allocated bytes before and after
// (mallinfo2, exact and independent of machine load, unlike RSS).
nlohmann::json run_memory(const std::vector<timed_text>& in, const std::string& account,
                          std::shared_ptr<const calls::directory> dir) {
  std::vector<const timed_text*> live;
  for (const auto& f : in) {
    if (f.text.find("\"CHANNEL_DESTROY\"") == std::string::npos && f.text.find("\"PARK_ABANDONED\"") == std::string::npos) {
      live.push_back(&f);
    }
  }
  calls::tracker_output out;
  out.events.reserve(64);
  out.calls.reserve(64);
  auto t = std::make_unique<calls::tracker>();
  t->set_directory(account, std::move(dir));
  malloc_trim(0);
  const auto before = mallinfo2().uordblks;
  const auto before_rss = rss_bytes();
  for (const auto* f : live) {
    if (auto parsed = calls::parse_frame(f->text)) t->on_event(*parsed, f->at_ms, out);
    t->flush(f->at_ms, out);
    out.events.clear();
    out.calls.clear();
  }
  const auto after = mallinfo2().uordblks;
  malloc_trim(0);
  const auto after_rss = rss_bytes();
  const auto active = t->active_calls();
  return {{"active_calls", active},
          {"heap_bytes_per_active_call", active ? static_cast<double>(after - before) / static_cast<double>(active) : 0.0},
          {"rss_bytes_per_active_call",
           active ? (static_cast<double>(after_rss) - static_cast<double>(before_rss)) / static_cast<double>(active) : 0.0}};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t calls = 3000, batch = 64, repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const auto v = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
    if (k == "--calls") calls = v;
    else if (k == "--batch") batch = std::max<std::size_t>(1, v);
    else if (k == "--repeat") repeat = std::max<std::size_t>(1, v);
    else {
      std::fprintf(stderr, "usage: ingest_cpu [--calls N] [--batch N] [--repeat N]\n");
      return 2;
    }
  }
  const auto fx = kazoo_sim::load_fixture(KAZOO_SIM_DEFAULT_FIXTURE);
  const auto scs = kazoo_sim::load_scenarios(KAZOO_SIM_DEFAULT_SCENARIOS_DIR);
  if (!fx || !scs || fx->accounts.empty() || scs->empty()) {
    std::fprintf(stderr, "ingest_cpu: cannot load the simulator's fixture or scenarios\n");
    return 1;
  }
  const auto& account = fx->accounts.front();
  const auto in = frames(*fx, *scs, account.id, calls);
  std::size_t bytes = 0;
  for (const auto& f : in) bytes += f.text.size();
  // Best of `repeat`: the least disturbed run is the closest to the code's own cost.
  double parse = 1e9, dom = 1e9;
  run_result full;
  full.cpu_s = 1e9;
  for (std::size_t i = 0; i < repeat; ++i) {
    parse = std::min(parse, run_parse(in));
    dom = std::min(dom, run_dom(in));
    auto r = run_full(in, account.id, directory_of(account), batch);
    if (r.cpu_s < full.cpu_s) full = r;
  }
  const auto memory = run_memory(in, account.id, directory_of(account));
  const auto n = static_cast<double>(in.size());
  nlohmann::json j = {
      {"frames", in.size()},
      {"mean_frame_bytes", static_cast<double>(bytes) / n},
      {"batch", batch},
      {"parse_us_per_frame", parse / n * 1e6},
      {"full_us_per_frame", full.cpu_s / n * 1e6},
      {"reference_dom_parse_us_per_frame", dom / n * 1e6},
      {"parse_vs_dom", parse / dom},
      {"full_vs_dom", full.cpu_s / dom},
      {"lifecycle_events_per_frame", static_cast<double>(full.events) / n},
      {"call_rows_per_frame", static_cast<double>(full.calls) / n},
      {"mean_event_row_bytes", full.events ? static_cast<double>(full.event_bytes) / static_cast<double>(full.events) : 0.0},
      {"mean_call_row_bytes", full.calls ? static_cast<double>(full.call_bytes) / static_cast<double>(full.calls) : 0.0},
      {"frames_per_s_one_core", n / full.cpu_s},
      {"memory", memory}};
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}
