#!/usr/bin/env python3
"""kazoo-bridge benchmarks: kazoo-sim (load mode) against the release daemon. See bench/README.md.

Phases (each bounded, the whole run takes about 4 minutes):
  latency     ~1,000 channel events/s; bench/commit_tail measures send -> visible (commit) latency
  throughput  offered load above the 20,000 channel events/s target; events/s processed and
              committed over a window after warm-up, queue depths, CPU, peak RSS
  memory      10,000 concurrent long calls; RSS with them minus RSS of the same process idle
  ceiling     bench/sqlite_ceiling on the throughput run's rows (same schema, payloads, batches)
  profile     (only with --profile and when perf works) perf record of the daemon at full load

Only the Python standard library. Writes one JSON document (--out).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def cpu_s(pid):
    """utime + stime of a process in seconds (/proc/<pid>/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def mem_kb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def thread_cpu_s(pid):
    """CPU seconds per thread. The daemon has two: the I/O thread (tid == pid: WebSocket, parsing,
    call tracker, JSON rendering) and the DB thread (asio::thread_pool{1}: SQLite)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out["io" if int(tid) == pid else f"t{tid}"] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def tcp_queues(port):
    """Bytes waiting in the kernel on the blackhole connection (/proc/net/tcp, established sockets):
    send_q on the simulator's side (local port = ws port) = written by the sim, not yet acknowledged;
    recv_q on the daemon's side (remote port = ws port) = received, not yet read by the daemon."""
    out = {"sim_send_q": 0, "daemon_recv_q": 0}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            c = line.split()
            if c[3] != "01":
                continue
            local, remote = int(c[1].split(":")[1], 16), int(c[2].split(":")[1], 16)
            tx, rx = (int(x, 16) for x in c[4].split(":"))
            if local == port:
                out["sim_send_q"] += tx
            elif remote == port:
                out["daemon_recv_q"] += rx
    return out


def machine_busy_s():
    """CPU seconds every process on the machine has used (/proc/stat `cpu` line, all but idle/iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def metrics(port):
    """Sums every series of a family (labels dropped); histograms keep _sum/_count."""
    out = {}
    for line in http_get(f"http://127.0.0.1:{port}/metrics").splitlines():
        m = METRIC_RE.match(line)
        if not m or line.startswith("#"):
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        if name.endswith("_bucket"):
            le = re.search(r'le="([^"]+)"', labels).group(1)
            out.setdefault(name, {})
            out[name][le] = out[name].get(le, 0) + value
        else:
            out[name] = out.get(name, 0) + value
    return out


def hist_quantile(buckets, q):
    """Upper bound of the bucket holding quantile q of a cumulative Prometheus histogram."""
    items = sorted(((float("inf") if k == "+Inf" else float(k)), v) for k, v in buckets.items())
    total = items[-1][1] if items else 0
    if total == 0:
        return None
    for le, cum in items:
        if cum >= q * total:
            return le
    return items[-1][0]


def hist_delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in b}


class run_env:
    """One daemon + one simulator in a temporary directory."""

    def __init__(self, args, name):
        self.args = args
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"kb-bench-{name}-")
        self.db = os.path.join(self.dir, "kb.db")
        self.http_port, self.ws_port, self.api_port = free_port(), free_port(), free_port()
        self.daemon = None
        self.sim = None
        with open(os.path.join(ROOT, "tools/kazoo-sim/fixtures/account.json")) as f:
            self.api_key = json.load(f)["accounts"][0]["api_key"]

    def extra_config(self):
        """More TOML sections for the daemon (the REST hook benchmarks add [hooks])."""
        return ""

    def write_config(self):
        cfg = os.path.join(self.dir, "kb.toml")
        with open(cfg, "w") as f:
            f.write(f"""[server]
listen = "127.0.0.1:{self.http_port}"
public_url = "http://127.0.0.1:{self.http_port}"
[storage]
database = "{self.db}"
synchronous = "{self.args.synchronous}"
[kazoo]
api_url = "http://127.0.0.1:{self.api_port}/v2"
websocket_url = "ws://127.0.0.1:{self.ws_port}"
api_key = "{self.api_key}"
reconnect_initial_ms = 50
reconnect_max_ms = 200
[log]
level = "info"
""" + self.extra_config())
        return cfg

    def start_daemon(self):
        cfg = self.write_config()
        self.daemon_log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.daemon = subprocess.Popen([self.args.daemon, "serve", "--config", cfg],
                                       stdout=self.daemon_log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                http_get(f"http://127.0.0.1:{self.http_port}/healthz", 0.5)
                return
            except OSError:
                if self.daemon.poll() is not None:
                    raise RuntimeError(f"daemon exited: see {self.daemon_log.name}")
                time.sleep(0.05)
        raise RuntimeError("daemon did not listen")

    def start_sim(self, extra):
        cmd = [self.args.sim, "--ws-listen", f"127.0.0.1:{self.ws_port}",
               "--api-listen", f"127.0.0.1:{self.api_port}", "--log-level", "warn"] + extra
        self.sim_log = open(os.path.join(self.dir, f"sim-{int(time.time() * 1000)}.log"), "w")
        self.sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.sim_log, text=True)
        self.sim_start_line = json.loads(self.sim.stdout.readline())
        return self.sim

    def wait_subscribed(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            m = metrics(self.http_port)
            if m.get("kazoo_bridge_kazoo_connected", 0) >= 1:
                return
            time.sleep(0.02)
        raise RuntimeError("daemon never subscribed")

    def sim_stats(self):
        return json.loads(http_get(f"http://127.0.0.1:{self.api_port}/sim/stats"))

    def max_seq(self):
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
            try:
                return con.execute("SELECT coalesce(max(seq), 0) FROM call_events").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return 0

    def sample(self):
        s = {"t": time.time(), "metrics": metrics(self.http_port), "daemon_cpu_s": cpu_s(self.daemon.pid),
             "daemon_mem_kb": mem_kb(self.daemon.pid), "max_seq": self.max_seq(), "loadavg": loadavg(),
             "threads_cpu_s": thread_cpu_s(self.daemon.pid), "tcp": tcp_queues(self.ws_port),
             "machine_busy_s": machine_busy_s()}
        s["sim_alive"] = bool(self.sim and self.sim.poll() is None)
        if s["sim_alive"]:
            try:
                s["sim_cpu_s"] = cpu_s(self.sim.pid)
                s["sim"] = self.sim_stats()
            except (OSError, ValueError):
                pass
        return s

    def wait_sim(self, timeout):
        """The simulator exits by itself after --duration and prints its load_* counters."""
        out, _ = self.sim.communicate(timeout=timeout)
        lines = [l for l in out.splitlines() if l.strip()]
        return json.loads(lines[-1]) if lines else {}

    def stop_daemon(self, timeout=60):
        hwm = mem_kb(self.daemon.pid).get("VmHWM")
        t0 = time.time()
        self.daemon.send_signal(signal.SIGTERM)
        rc = self.daemon.wait(timeout=timeout)
        return {"exit_code": rc, "stop_s": round(time.time() - t0, 3), "peak_rss_kb": hwm}

    def kill_all(self):
        for p in (self.sim, self.daemon):
            if p and p.poll() is None:
                p.kill()
                p.wait()

    def db_counts(self):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            q = lambda sql: con.execute(sql).fetchone()[0]
            return {"call_events": q("SELECT count(*) FROM call_events"),
                    "calls": q("SELECT count(*) FROM calls"),
                    "calls_not_ended": q("SELECT count(*) FROM calls WHERE status <> 'ended'"),
                    "mean_payload_bytes": q("SELECT avg(length(payload)) FROM call_events"),
                    "db_bytes": os.path.getsize(self.db)}
        finally:
            con.close()


def window_figures(a, b):
    """Rates between two samples."""
    dt = b["t"] - a["t"]
    ma, mb = a["metrics"], b["metrics"]
    d = lambda k: mb.get(k, 0) - ma.get(k, 0)
    commits = d("kazoo_bridge_commits_total")
    out = {
        "window_s": round(dt, 3),
        "kazoo_events_per_s": round(d("kazoo_bridge_kazoo_events_total") / dt, 1),
        "frames_per_s": round(d("kazoo_bridge_kazoo_frames_total") / dt, 1),
        "lifecycle_committed_per_s": round((b["max_seq"] - a["max_seq"]) / dt, 1),
        "lifecycle_produced_per_s": round(d("kazoo_bridge_lifecycle_events_total") / dt, 1),
        "commits_per_s": round(commits / dt, 1),
        "mean_batch_events": round(d("kazoo_bridge_commit_batch_events_sum") / commits, 1) if commits else None,
        "daemon_cpu_cores": round((b["daemon_cpu_s"] - a["daemon_cpu_s"]) / dt, 3),
    }
    if "sim" in a and "sim" in b and "sim_cpu_s" in a and "sim_cpu_s" in b:
        # Stamped and queued by the simulator (load_events_sent), not necessarily written yet.
        out["sim_sent_per_s"] = round((b["sim"]["load_events_sent"] - a["sim"]["load_events_sent"]) / dt, 1)
        out["sim_cpu_cores"] = round((b["sim_cpu_s"] - a["sim_cpu_s"]) / dt, 3)
    ta, tb = a["threads_cpu_s"], b["threads_cpu_s"]
    io = (tb.get("io", 0) - ta.get("io", 0)) / dt
    other = sum(v - ta.get(k, 0) for k, v in tb.items() if k != "io") / dt
    out["io_thread_cores"], out["db_thread_cores"] = round(io, 3), round(other, 3)
    if out["kazoo_events_per_s"]:
        ev = out["kazoo_events_per_s"]
        out["daemon_cpu_us_per_event"] = round(out["daemon_cpu_cores"] * 1e6 / ev, 1)
        out["io_thread_cpu_us_per_event"] = round(io * 1e6 / ev, 1)
        out["db_thread_cpu_us_per_event"] = round(other * 1e6 / ev, 1)
        # What one dedicated core per daemon thread would sustain at these costs (the busier
        # thread is the limit; a 2-core machine also has to run Kazoo or the simulator).
        out["projected_events_per_s_one_core_per_thread"] = round(1e6 / max(io * 1e6 / ev, other * 1e6 / ev, 1e-9))
    out["loadavg_1m_end"] = b["loadavg"][0]
    # The machine is shared: how much of its 2 cores everything else (other builds...) used meanwhile.
    busy = (b["machine_busy_s"] - a["machine_busy_s"]) / dt
    out["machine_busy_cores"] = round(busy, 3)
    out["other_processes_cores"] = round(busy - out["daemon_cpu_cores"] - out.get("sim_cpu_cores", 0), 3)
    lat = hist_delta(ma.get("kazoo_bridge_commit_latency_seconds_bucket", {}),
                     mb.get("kazoo_bridge_commit_latency_seconds_bucket", {}))
    out["commit_txn_seconds_p50_bucket"] = hist_quantile(lat, 0.5)
    out["commit_txn_seconds_p99_bucket"] = hist_quantile(lat, 0.99)
    return out


def sample_loop(env, seconds, samples, every=1.0):
    end = time.time() + seconds
    while time.time() < end and env.sim.poll() is None:
        samples.append(env.sample())
        time.sleep(max(0.0, min(every, end - time.time())))


def depth_series(samples):
    """(t, ingest queue depth, store pending events, sim kernel send queue, daemon kernel receive
    queue, sim events published minus frames written... as the sim reports them)."""
    return [(round(s["t"] - samples[0]["t"], 1), int(s["metrics"].get("kazoo_bridge_ingest_queue_depth", 0)),
             int(s["metrics"].get("kazoo_bridge_store_pending_events", 0)), s["tcp"]["sim_send_q"],
             s["tcp"]["daemon_recv_q"], s.get("sim", {}).get("load_events_sent")) for s in samples]


def phase_latency(args):
    log("latency: ~1,000 channel events/s, commit_tail polling every 1 ms")
    env = run_env(args, "latency")
    try:
        env.start_daemon()
        warm, measure = args.latency_warmup, args.latency_window
        env.start_sim(["--load", "--calls", "20000", "--rate", str(args.latency_calls_per_s),
                       "--speed", "10", "--duration", str(warm + measure + 2), "--seed", "11"])
        env.wait_subscribed()
        tail = subprocess.Popen([args.tail, "--db", env.db, "--duration", str(warm + measure),
                                 "--skip", str(warm), "--interval-us", "1000",
                                 *(["--samples", args.latency_samples] if args.latency_samples else [])],
                                stdout=subprocess.PIPE, text=True)
        samples = []
        time.sleep(warm)
        sample_loop(env, measure, samples)
        tail_out = json.loads(tail.communicate(timeout=30)[0])
        res = {"window": window_figures(samples[0], samples[-1]), "send_to_visible": tail_out}
        res["sim_final"] = env.wait_sim(30)
        res["stop"] = env.stop_daemon()
        res["db"] = env.db_counts()
        return res
    finally:
        env.kill_all()


def throughput_step(args, calls_per_s, warm, measure):
    log(f"throughput: offered {calls_per_s} calls/s (~{int(calls_per_s * 8.8)} channel events/s, 8.8 per call)")
    env = run_env(args, f"throughput-{int(calls_per_s)}")
    try:
        env.start_daemon()
        env.start_sim(["--load", "--calls", "50000", "--rate", str(calls_per_s),
                       "--speed", "20", "--duration", str(warm + measure), "--seed", "7"])
        env.wait_subscribed()
        t_start = time.time()
        samples = [env.sample()]
        sample_loop(env, warm + measure + 5, samples)
        # Window: from the end of warm-up to the last sample taken while the simulator was sending.
        in_window = [s for s in samples if s["t"] - t_start >= warm and s["sim_alive"]]
        if len(in_window) < 2:
            in_window = samples[-2:]
        w = window_figures(in_window[0], in_window[-1])
        # Keeping up: the daemon processed what the simulator stamped, and its queues did not grow.
        last = in_window[-1]["metrics"]
        w["kept_up"] = bool(w.get("sim_sent_per_s") and w["kazoo_events_per_s"] >= 0.95 * w["sim_sent_per_s"]
                            and last.get("kazoo_bridge_ingest_queue_depth", 0) < 1000
                            and last.get("kazoo_bridge_store_pending_events", 0) < 5000)
        res = {"offered_calls_per_s": calls_per_s, "window": w,
               "series_t_ingest_store_simsendq_daemonrecvq_simsent": depth_series(samples)}
        res["sim_final"] = env.wait_sim(120)
        # Drain: how long the daemon needs, once the load stops, to process what it has buffered.
        t0, drained = time.time(), None
        while time.time() - t0 < 120:
            m = metrics(env.http_port)
            if m.get("kazoo_bridge_ingest_queue_depth", 0) == 0 and m.get("kazoo_bridge_store_pending_events", 0) == 0:
                drained = round(time.time() - t0, 2)
                break
            time.sleep(0.1)
        res["drain_after_load_s"] = drained
        final = env.sample()
        res["totals"] = {"kazoo_events": final["metrics"].get("kazoo_bridge_kazoo_events_total"),
                         "frames": final["metrics"].get("kazoo_bridge_kazoo_frames_total"),
                         "lifecycle_produced": final["metrics"].get("kazoo_bridge_lifecycle_events_total"),
                         "sim_events_sent": res["sim_final"].get("load_events_sent"),
                         "reconnects": final["metrics"].get("kazoo_bridge_kazoo_reconnects_total")}
        res["stop"] = env.stop_daemon()
        res["db"] = env.db_counts()
        res["db_copy"] = os.path.join(args.work, f"throughput-{int(calls_per_s)}.db")
        shutil.copy(env.db, res["db_copy"])
        return res
    finally:
        env.kill_all()


def phase_throughput(args):
    steps = [throughput_step(args, float(r), args.tp_warmup, args.tp_window) for r in args.tp_calls_per_s.split(",")]
    # The headline: the highest rate the daemon processed while keeping up (else the highest processed).
    kept = [s for s in steps if s["window"]["kept_up"]]
    best = max(kept or steps, key=lambda s: s["window"]["kazoo_events_per_s"])
    return {"steps": steps, "best": steps.index(best), "window": best["window"], "totals": best["totals"],
            "stop": best["stop"], "db": best["db"], "db_copy": best["db_copy"]}


def memory_run(args, calls):
    log(f"memory: idle RSS, then {calls:,} concurrent calls in the same daemon process")
    env = run_env(args, f"memory-{calls}")
    try:
        env.start_daemon()
        env.start_sim([])  # idle simulator: the daemon connects, subscribes, reads the directory
        env.wait_subscribed()
        time.sleep(3)
        idle = []
        for _ in range(5):
            idle.append(mem_kb(env.daemon.pid)["VmRSS"])
            time.sleep(0.2)
        env.sim.terminate()
        env.sim.wait(timeout=10)
        env.start_sim(["--load", "--calls", str(calls), "--rate", "500", "--speed", "0.5",
                       "--duration", str(args.mem_duration), "--seed", "3"])
        env.wait_subscribed()
        samples = []
        sample_loop(env, args.mem_duration - 2, samples)
        # Steady state: the samples where the daemon tracks (nearly) every call the simulator holds.
        full = [s for s in samples if s["metrics"].get("kazoo_bridge_active_calls", 0) >= 0.98 * calls]
        pick = full[-5:] if full else samples[-5:]
        rss = sorted(s["daemon_mem_kb"]["VmRSS"] for s in pick)[len(pick) // 2]
        active = pick[-1]["metrics"].get("kazoo_bridge_active_calls", 0)
        idle_kb = sorted(idle)[len(idle) // 2]
        res = {"idle_rss_kb": idle_kb, "loaded_rss_kb": rss, "active_calls": active,
               "sim_calls_live": pick[-1].get("sim", {}).get("load_calls_live"),
               "bytes_per_active_call": round((rss - idle_kb) * 1024 / active, 1) if active else None,
               "ingest_queue_depth": pick[-1]["metrics"].get("kazoo_bridge_ingest_queue_depth"),
               "active_series": [(round(s["t"] - samples[0]["t"], 1), int(s["metrics"].get("kazoo_bridge_active_calls", 0)),
                                  s["daemon_mem_kb"]["VmRSS"]) for s in samples]}
        res["sim_final"] = env.wait_sim(30)
        res["stop"] = env.stop_daemon()
        return res
    finally:
        env.kill_all()


def phase_memory(args):
    # Two daemons: with N and with N/2 calls. (loaded - idle) / calls is an upper bound: it also counts
    # what does not grow with calls (SQLite's page cache, up to 2 MB; buffers). The difference between
    # the two runs divided by the difference in calls is the memory each further call costs.
    res = memory_run(args, args.mem_calls)
    half = memory_run(args, args.mem_calls // 2)
    res["half"] = {k: v for k, v in half.items() if k != "active_series"}
    d_calls = (res["active_calls"] or 0) - (half["active_calls"] or 0)
    res["marginal_bytes_per_active_call"] = (
        round((res["loaded_rss_kb"] - half["loaded_rss_kb"]) * 1024 / d_calls, 1) if d_calls > 0 else None)
    return res


def schema_args():
    # The ceiling loop builds its database the way the store does: every migration in order, 8 KB pages
    # (src/store/database.cpp new_database_page_size), the calls upsert that sets only what changes.
    migrations = sorted(f for f in os.listdir(os.path.join(ROOT, "migrations")) if f.endswith(".sql"))
    out = []
    for m in migrations:
        out += ["--schema", os.path.join(ROOT, "migrations", m)]
    return out + ["--page-size", "8192", "--narrow-upsert"]


def phase_ceiling(args, tp):
    log("ceiling: the throughput run's rows, SQLite alone")
    w = tp["window"]
    batch = max(1, int(round(w["mean_batch_events"] or 100)))
    ratio = tp["totals"]["kazoo_events"] / max(1, tp["totals"]["lifecycle_produced"])
    res = {"batch_events": batch, "channel_events_per_lifecycle_event": round(ratio, 3)}
    for mode in ("events", "mix", "store-mix"):
        out = subprocess.run([args.ceiling, "--source", tp["db_copy"], *schema_args(), "--out",
                              os.path.join(args.work, f"ceiling-{mode}.db"), "--mode", mode, "--batch", str(batch),
                              "--channel-per-event", str(ratio), "--min-events", str(args.ceiling_events),
                              "--synchronous", args.synchronous], capture_output=True, text=True, check=True)
        res[mode] = json.loads(out.stdout)
    out = subprocess.run([args.ceiling, "--source", tp["db_copy"], *schema_args(), "--out",
                          os.path.join(args.work, "ceiling-full.db"), "--mode", "mix", "--batch", "2000",
                          "--channel-per-event", str(ratio), "--min-events", str(args.ceiling_events),
                          "--synchronous", args.synchronous], capture_output=True, text=True, check=True)
    res["mix_batch_2000"] = json.loads(out.stdout)
    # CPU per lifecycle event: immune to how much of the shared machine each process was given.
    per_lc = lambda r: round(r["cpu_seconds"] * 1e6 / r["events"], 1)
    lc_per_s = w["lifecycle_committed_per_s"] or 1
    res["cpu_us_per_lifecycle_event"] = {
        "ceiling_events": per_lc(res["events"]), "ceiling_mix": per_lc(res["mix"]),
        "ceiling_store_mix": per_lc(res["store-mix"]), "ceiling_mix_batch_2000": per_lc(res["mix_batch_2000"]),
        "daemon_db_thread": round(w["db_thread_cores"] * 1e6 / lc_per_s, 1),
        "daemon_total": round(w["daemon_cpu_cores"] * 1e6 / lc_per_s, 1)}
    cu = res["cpu_us_per_lifecycle_event"]
    res["cpu_ratio_ceiling_mix_to_daemon_total"] = round(cu["ceiling_mix"] / cu["daemon_total"], 3)
    res["cpu_ratio_ceiling_mix_to_daemon_db_thread"] = round(cu["ceiling_mix"] / cu["daemon_db_thread"], 3)
    daemon_lc = w["lifecycle_committed_per_s"]
    res["ratio_daemon_lifecycle_to_events_ceiling"] = round(daemon_lc / res["events"]["events_per_s"], 3)
    res["ratio_daemon_lifecycle_to_mix_ceiling"] = round(daemon_lc / res["mix"]["events_per_s"], 3)
    res["ratio_daemon_lifecycle_to_store_mix_ceiling"] = round(daemon_lc / res["store-mix"]["events_per_s"], 3)
    res["ratio_daemon_channel_to_mix_ceiling"] = round(w["kazoo_events_per_s"] / res["mix"]["channel_events_per_s"], 3)
    return res


def phase_profile(args):
    if not shutil.which("perf"):
        return {"skipped": "perf not installed"}
    log("profile: perf record of the daemon at full load (figures of this phase are not reported)")
    env = run_env(args, "profile")
    try:
        env.start_daemon()
        env.start_sim(["--load", "--calls", "50000", "--rate", args.tp_calls_per_s.split(",")[-1], "--speed", "20",
                       "--duration", "25", "--seed", "9"])
        env.wait_subscribed()
        time.sleep(8)
        out = {}
        for who, pid in (("daemon", env.daemon.pid), ("sim", env.sim.pid)):
            data = os.path.join(args.work, f"perf-{who}.data")
            r = subprocess.run(["perf", "record", "-q", "-F", "499", "-p", str(pid), "-o", data, "--", "sleep", "6"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                out[who] = {"skipped": r.stderr.strip()[:200]}
                continue
            rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol",
                                  "--percent-limit", "1.5"], capture_output=True, text=True)
            rows = [" ".join(l.split())[:200] for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")]
            out[who] = rows[:30]
            rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso"],
                                 capture_output=True, text=True)
            out[who + "_by_dso"] = [" ".join(l.split()) for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")][:12]
        env.wait_sim(60)
        env.stop_daemon()
        return out
    finally:
        env.kill_all()


def main():
    import hooks_bench  # here, not at the top: it imports this module's helpers
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build", help="build directory of the release preset, e.g. build/release")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    p.add_argument("--phases", default="latency,throughput,memory,ceiling,hooks-latency,hooks-throughput,"
                                       "hooks-isolation,hooks-ceiling")
    p.add_argument("--profile", action="store_true", help="also run the perf profile phase")
    p.add_argument("--synchronous", default="normal")
    p.add_argument("--latency-calls-per-s", type=float, default=114)  # x 8.8 events/call = ~1,000/s
    p.add_argument("--latency-warmup", type=int, default=12)
    p.add_argument("--latency-window", type=int, default=30)
    p.add_argument("--latency-samples", help="also write commit_tail's per-row samples to this CSV file")
    # ~4,400 channel events/s offered: more than the daemon processes here, and what kazoo-sim can
    # generate without starving its own writer (README: bottlenecks).
    p.add_argument("--tp-calls-per-s", default="150,300,450", help="comma-separated steps, calls/s")
    p.add_argument("--tp-warmup", type=int, default=6)
    p.add_argument("--tp-window", type=int, default=14)
    p.add_argument("--mem-calls", type=int, default=10000)
    p.add_argument("--mem-duration", type=int, default=45)
    p.add_argument("--ceiling-events", type=int, default=40000)
    hooks_bench.add_arguments(p)
    args = p.parse_args()
    b = os.path.abspath(args.build)
    args.daemon = os.path.join(b, "src/kazoo-bridge")
    args.sim = os.path.join(b, "tools/kazoo-sim/kazoo-sim")
    args.tail = os.path.join(b, "bench/commit_tail/commit_tail")
    args.ceiling = os.path.join(b, "bench/sqlite_ceiling/sqlite_ceiling")
    args.hook_sink = os.path.join(b, "bench/hook_sink/hook_sink")
    args.hook_ceiling = os.path.join(b, "bench/hook_ceiling/hook_ceiling")
    for exe in (args.daemon, args.sim, args.tail, args.ceiling, args.hook_sink, args.hook_ceiling):
        if not os.access(exe, os.X_OK):
            sys.exit(f"missing {exe}: build the release preset first (make bench)")
    args.work = tempfile.mkdtemp(prefix="kb-bench-")
    phases = args.phases.split(",") + (["profile"] if args.profile else [])

    results = {"machine": {"nproc": os.cpu_count(), "loadavg_before": loadavg(),
                           "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                        if l.startswith("model name")), "?"),
                           "mem_total_kb": int(open("/proc/meminfo").readline().split()[1]),
                           "sqlite": sqlite3.sqlite_version, "kernel": os.uname().release},
               "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "synchronous": args.synchronous}
    t0 = time.time()
    if "latency" in phases:
        results["latency"] = phase_latency(args)
    if "throughput" in phases or "ceiling" in phases:
        results["throughput"] = phase_throughput(args)
    if "ceiling" in phases:
        results["ceiling"] = phase_ceiling(args, results["throughput"])
    if "memory" in phases:
        results["memory"] = phase_memory(args)
    if "hooks-latency" in phases:
        results["hooks_latency"] = hooks_bench.phase_latency(args)
    if any(ph in phases for ph in ("hooks-throughput", "hooks-isolation", "hooks-ceiling")):
        results["hooks_throughput"] = hooks_bench.phase_throughput(args)
    if "hooks-isolation" in phases:
        results["hooks_isolation"] = hooks_bench.phase_isolation(args, results["hooks_throughput"])
    if "hooks-ceiling" in phases:
        results["hooks_ceiling"] = hooks_bench.phase_ceiling(args, results["hooks_throughput"])
    if "profile" in phases:
        results["profile"] = phase_profile(args)
    results["duration_s"] = round(time.time() - t0, 1)
    results["machine"]["loadavg_after"] = loadavg()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    log(f"results in {args.out} ({results['duration_s']} s)")
    summary(results)


def summary(r):
    lines = []
    if "latency" in r:
        w, t = r["latency"]["window"], r["latency"]["send_to_visible"]
        lines.append(f"latency: {w['kazoo_events_per_s']} channel events/s, send->visible p50 "
                     f"{t['upper_ms']['p50']} ms p99 {t['upper_ms']['p99']} ms (n={t['measured']}, target p99 <= 20 ms)")
    if "throughput" in r:
        w = r["throughput"]["window"]
        for st in r["throughput"]["steps"]:
            sw = st["window"]
            lines.append(f"  step {st['offered_calls_per_s']} calls/s: sim stamped {sw.get('sim_sent_per_s')}/s, daemon "
                         f"processed {sw['kazoo_events_per_s']}/s, kept_up={sw['kept_up']}, io thread "
                         f"{sw.get('io_thread_cpu_us_per_event')} us/event, db thread {sw.get('db_thread_cpu_us_per_event')} us/event")
        lines.append(f"throughput: {w['kazoo_events_per_s']} channel events/s processed "
                     f"(sim sent {w.get('sim_sent_per_s')}/s), {w['lifecycle_committed_per_s']} lifecycle events/s "
                     f"committed, daemon CPU {w['daemon_cpu_cores']} cores, peak RSS "
                     f"{r['throughput']['stop']['peak_rss_kb']} kB (target >= 20,000/s)")
    if "ceiling" in r:
        c = r["ceiling"]
        lines.append(f"ceiling: events {c['events']['events_per_s']}/s, mix {c['mix']['events_per_s']} lifecycle/s "
                     f"({c['mix']['channel_events_per_s']} channel/s), store-mix {c['store-mix']['events_per_s']}/s; "
                     f"daemon/mix ratio {c['ratio_daemon_lifecycle_to_mix_ceiling']}; mix at 2000/txn "
                     f"{c['mix_batch_2000']['channel_events_per_s']} channel/s; CPU us per lifecycle event "
                     f"{c['cpu_us_per_lifecycle_event']}")
    if "memory" in r:
        m = r["memory"]
        lines.append(f"memory: {m['bytes_per_active_call']} bytes per active call ({m['active_calls']} calls, "
                     f"idle {m['idle_rss_kb']} kB, loaded {m['loaded_rss_kb']} kB; target <= 2048); "
                     f"marginal {m.get('marginal_bytes_per_active_call')} bytes per further call "
                     f"(vs {m.get('half', {}).get('active_calls')} calls: {m.get('half', {}).get('loaded_rss_kb')} kB)")
    import hooks_bench
    lines += hooks_bench.summary(r)
    for l in lines:
        print(l)


if __name__ == "__main__":
    main()
