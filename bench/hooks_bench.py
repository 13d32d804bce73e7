"""REST hook delivery benchmarks (issue #4): kazoo-sim -> daemon -> local sinks. See bench/README.md.

Phases (run by bench.py; each bounded):
  hooks-latency     ~1,000 deliveries/s; event -> receipt latency at the sink (the simulator's send time
                    of the channel event, raw.msg_id, to the moment bench/hook_sink has read the request).
                    Twice: calls starting as a Poisson process (how a PBX's calls arrive; the figure held
                    against the target), then at a constant rate ("aligned": every call plays its events
                    at the same offsets, so events of different calls fall in the same millisecond again
                    and again, each fanned out to ~143 hooks: a worst case, reported beside it)
  hooks-throughput  offered deliveries above the 10,000/s target; deliveries/s received by the sinks
  hooks-isolation   the top throughput step again with one more hook whose sink hangs, then one whose sink
                    answers 500 to everything: the healthy hooks' deliveries/s against the clean run
  hooks-ceiling     bench/hook_ceiling: a minimal HTTP client posting the same payloads to the same sink

The subscriptions are rows of the `hooks` table written before the daemon starts (the daemon loads them
at start, as after a restart; the API that creates them is tested in tests/e2e/test_hooks.py). Each of
the 1,000 hooks has its own loopback host 127.1.x.y, so the daemon keeps one lane (token bucket,
concurrency cap, connection pool) per hook, as it would for 1,000 customers' receivers.
"""

import base64
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import bench as core

# What Zapier's triggers subscribe to (zapier/: new call, answered, ended, missed, parked, retrieved,
# queued). Hook i subscribes to TYPES[i % 7], account-wide, so every lifecycle event of these types
# fans out to about 1/7 of the hooks.
TYPES = ["call.started", "call.answered", "call.ended", "call.missed", "call.parked", "call.retrieved",
         "call.queue.entered"]


MIN_UNIX_US = 1_600_000_000 * 1_000_000  # 2020: anything earlier is not a send time


def hook_url(i, port, path="ok"):
    return f"http://127.1.{i // 250}.{i % 250 + 1}:{port}/{path}/{i}"


def seed_hooks(db, account, user, port, n, bad=None):
    """The subscriptions, written the way hook_store writes them (migrations/0005_hooks.sql)."""
    now = int(time.time() * 1000)
    rows = []
    for i in range(n):
        secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        rows.append((f"hook_bench{i:04d}", account, user, hook_url(i, port), TYPES[i % len(TYPES)], secret, now))
    if bad:
        # One more receiver, on a host of its own, that wants every event.
        secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        rows.append(("hook_bench_bad", account, user, f"http://127.2.0.1:{port}/{bad}/0", "*", secret, now))
    con = sqlite3.connect(db)
    try:
        con.executemany("INSERT INTO hooks (id, account_id, user_id, target_url, event, scope, filters, secret, "
                        "created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'account', '{}', ?, ?, ?7)", rows)
        con.commit()
    finally:
        con.close()


class sink:
    """bench/hook_sink: one process, every hook's host."""

    def __init__(self, args, work, name):
        self.samples = os.path.join(work, f"sink-{name}.csv")
        self.proc = subprocess.Popen([args.hook_sink, "--port", "0", "--samples", self.samples],
                                     stdout=subprocess.PIPE, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def stats(self):
        return json.loads(core.http_get(f"http://127.0.0.1:{self.port}/stats"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def latencies_ms(self, t_from_us, t_to_us, first_only=False, with_receipt=False):
        """receipt - msg_id of the healthy hooks' requests received in [t_from, t_to); with first_only,
        only the first receipt of each event (its fan-out's head); with_receipt, (receipt µs, ms) pairs."""
        out, seen = [], set()
        with open(self.samples) as f:
            for line in f:
                c = line.rstrip("\n").split(",")
                if len(c) < 4 or not c[2].startswith("/ok/"):
                    continue
                receipt, msg = int(c[0]), int(c[1])
                # msg_id is the send time in Unix µs only for CHANNEL_* events (PARK_* carry a hex id,
                # of which the sink may have parsed leading digits): keep plausible times only.
                if not (MIN_UNIX_US < msg <= receipt and t_from_us <= receipt < t_to_us):
                    continue
                if first_only:
                    if c[3] in seen:
                        continue
                    seen.add(c[3])
                out.append((receipt, (receipt - msg) / 1000.0) if with_receipt else (receipt - msg) / 1000.0)
        return out


def slices(pairs, t_from_us, seconds=30):
    """quantiles() of each `seconds` slice of (receipt µs, latency ms) pairs: how much a p99 taken
    over a short window moves. Each lifecycle event fans out to ~143 hooks, so a 30 s slice holds only
    ~210 events and its p99 is decided by its two or three slowest events."""
    by = {}
    for receipt, ms in pairs:
        by.setdefault(int((receipt - t_from_us) // (seconds * 1_000_000)), []).append(ms)
    # A last slice shorter than half the others says little; it is left out.
    full = [k for k in sorted(by) if len(by[k]) >= 0.5 * max(len(v) for v in by.values())]
    return [dict(quantiles(by[k]), slice_s=seconds, start_s=k * seconds) for k in full]


def quantiles(values):
    if not values:
        return {}
    v = sorted(values)
    q = lambda p: round(v[min(len(v) - 1, int(p * len(v)))], 2)
    return {"n": len(v), "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999), "max": round(v[-1], 2)}


class hook_env(core.run_env):
    """A daemon with [hooks] settings for the benchmark, its subscriptions, one sink, one simulator."""

    def __init__(self, args, name, bad=None):
        super().__init__(args, name)
        self.sink = sink(args, self.dir, name)
        cfg = self.write_config()
        subprocess.run([args.daemon, "migrate", "--config", cfg], check=True, capture_output=True)
        with open(os.path.join(core.ROOT, "tools/kazoo-sim/fixtures/account.json")) as f:
            acct = json.load(f)["accounts"][0]
        seed_hooks(self.db, acct["id"], acct["users"][0]["id"], self.sink.port, args.hooks_subscriptions, bad)

    def extra_config(self):
        # Receivers on loopback; per-host limits high enough that no single hook's share of the load
        # (at most ~1/7 of the lifecycle events) is throttled: the benchmark measures the engine.
        return f"[hooks]\nallow_private_targets = true\nrate_per_host = {self.args.hooks_rate_per_host}\n"

    def sample(self):
        s = super().sample()
        s["sink"] = self.sink.stats()
        return s

    def kill_all(self):
        super().kill_all()
        self.sink.stop()


def delivery_window(a, b):
    """Deliveries between two samples, as the sink received them, and what they cost the daemon."""
    dt = b["t"] - a["t"]
    sa, sb = a["sink"], b["sink"]
    ok = (sb["ok"] - sa["ok"]) / dt
    w = core.window_figures(a, b)
    out = {"window_s": round(dt, 3), "deliveries_per_s": round(ok, 1),
           "bad_sink_requests_per_s": round((sb["fail"] + sb["hang"] - sa["fail"] - sa["hang"]) / dt, 1),
           "kazoo_events_per_s": w["kazoo_events_per_s"], "lifecycle_committed_per_s": w["lifecycle_committed_per_s"],
           "daemon_cpu_cores": w["daemon_cpu_cores"], "io_thread_cores": w["io_thread_cores"],
           "db_thread_cores": w["db_thread_cores"], "sim_cpu_cores": w.get("sim_cpu_cores"),
           "machine_busy_cores": w["machine_busy_cores"], "other_processes_cores": w["other_processes_cores"],
           "pending_end": b["metrics"].get("kazoo_bridge_deliveries_pending"),
           "sink_connections_open": sb["connections_open"]}
    if ok:
        out["daemon_cpu_us_per_delivery"] = round(w["daemon_cpu_cores"] * 1e6 / ok, 1)
        out["io_thread_us_per_delivery"] = round(w["io_thread_cores"] * 1e6 / ok, 1)
        out["db_thread_us_per_delivery"] = round(w["db_thread_cores"] * 1e6 / ok, 1)
    return out


def run_step(args, name, calls_per_s, warm, measure, speed, bad=None, latency=False, arrivals="uniform"):
    """One daemon run at `calls_per_s` (kazoo-sim --arrivals `arrivals`), measured after `warm` s for
    `measure` s."""
    env = hook_env(args, name, bad)
    try:
        env.start_daemon()
        env.start_sim(["--load", "--calls", "50000", "--rate", str(calls_per_s), "--speed", str(speed),
                       "--duration", str(warm + measure + 1), "--seed", "5", "--arrivals", arrivals])
        env.wait_subscribed()
        t0 = time.time()
        # The same run's send -> commit latency (bench/commit_tail), to split event -> receipt in two.
        tail = subprocess.Popen([args.tail, "--db", env.db, "--duration", str(warm + measure), "--skip", str(warm),
                                 "--interval-us", "1000"], stdout=subprocess.PIPE, text=True) if latency else None
        samples = [env.sample()]
        core.sample_loop(env, warm + measure + 3, samples)
        in_window = [s for s in samples if s["t"] - t0 >= warm and s["sim_alive"]]
        if len(in_window) < 2:
            in_window = samples[-2:]
        w = delivery_window(in_window[0], in_window[-1])
        # Kept up: the outbox's backlog stayed small and did not grow over the window (what falls due
        # is sent as fast as it is queued). Not judged with a bad sink: its own rows pile up by design.
        p0 = in_window[0]["metrics"].get("kazoo_bridge_deliveries_pending", 0)
        p1 = in_window[-1]["metrics"].get("kazoo_bridge_deliveries_pending", 0)
        w["pending_start"] = p0
        w["kept_up"] = None if bad else bool(p1 <= max(2000, 0.5 * w["deliveries_per_s"])
                                             and p1 - p0 <= max(1000, 0.1 * w["deliveries_per_s"]))
        res = {"offered_calls_per_s": calls_per_s, "bad_sink": bad, "window": w,
               "series_t_delivered_pending": [(round(s["t"] - t0, 1), s["sink"]["ok"],
                                               s["metrics"].get("kazoo_bridge_deliveries_pending"))
                                              for s in samples]}
        res["sim_final"] = env.wait_sim(60)
        # Let what is due drain (bounded; a bad sink's retries never do), then count.
        t_drain, drained = time.time(), None
        while bad is None and time.time() - t_drain < args.hooks_drain:
            m = core.metrics(env.http_port)
            if m.get("kazoo_bridge_deliveries_pending", 0) == 0:
                drained = round(time.time() - t_drain, 2)
                break
            time.sleep(0.5)
        res["drain_s"] = drained
        if latency:
            t_from, t_to = int(in_window[0]["t"] * 1e6), int(in_window[-1]["t"] * 1e6)
            pairs = env.sink.latencies_ms(t_from, t_to, with_receipt=True)
            res["event_to_receipt_ms"] = quantiles([ms for _, ms in pairs])
            res["event_to_receipt_ms_by_30s"] = slices(pairs, t_from)
            res["first_receipt_per_event_ms"] = quantiles(env.sink.latencies_ms(t_from, t_to, True))
            res["send_to_commit"] = json.loads(tail.communicate(timeout=30)[0])
        res["stop"] = env.stop_daemon()
        time.sleep(0.3)
        res["sink"] = env.sink.stats()
        con = sqlite3.connect(f"file:{env.db}?mode=ro", uri=True)
        try:
            q = lambda sql: con.execute(sql).fetchone()[0]
            res["db"] = {"lifecycle_events": q("SELECT count(*) FROM call_events"),
                         "outbox_rows": q("SELECT count(*) FROM outbox WHERE destination LIKE 'hook:%'"),
                         "delivered_rows": q("SELECT count(*) FROM outbox WHERE status = 'delivered'"),
                         "attempts_logged": q("SELECT count(*) FROM hook_deliveries")}
        finally:
            con.close()
        res["db"]["fan_out_per_lifecycle_event"] = round(res["db"]["outbox_rows"] / max(1, res["db"]["lifecycle_events"]), 1)
        res["db_copy"] = os.path.join(args.work, f"{name}.db")
        shutil.copy(env.db, res["db_copy"])
        return res
    finally:
        env.kill_all()


def phase_latency(args):
    rate, window, aligned = args.hooks_latency_calls_per_s, args.hooks_latency_window, args.hooks_aligned_window
    core.log(f"hooks-latency: {rate} calls/s (Poisson arrivals) -> ~1,000 deliveries/s to "
             f"{args.hooks_subscriptions} hooks")
    res = run_step(args, "hooks-latency", rate, 8, window, 10, latency=True, arrivals="poisson")
    core.log(f"hooks-latency: {rate} calls/s again, constant-rate starts (aligned events, the worst case)")
    res["aligned"] = run_step(args, "hooks-latency-aligned", rate, 8, aligned, 10, latency=True, arrivals="uniform")
    return res


def phase_throughput(args):
    steps = []
    for r in args.hooks_tp_calls_per_s.split(","):
        core.log(f"hooks-throughput: {r} calls/s offered")
        steps.append(run_step(args, f"hooks-tp-{r}", float(r), 6, 14, 10))
    # The headline: the most deliveries/s of a step that kept up (else of any step, marked so).
    kept = [s for s in steps if s["window"]["kept_up"]]
    best = max(kept or steps, key=lambda s: s["window"]["deliveries_per_s"])
    return {"steps": steps, "best": steps.index(best), "window": best["window"], "db_copy": best["db_copy"],
            "offered_calls_per_s": best["offered_calls_per_s"]}


def phase_isolation(args, tp):
    rate = tp["offered_calls_per_s"]
    out = {"offered_calls_per_s": rate, "clean": tp["window"]}
    for bad in ("hang", "fail"):
        core.log(f"hooks-isolation: {rate} calls/s with one more hook whose sink does '{bad}'")
        r = run_step(args, f"hooks-{bad}", rate, 6, 14, 10, bad=bad)
        out[bad] = r["window"]
        out[f"{bad}_ratio_to_clean"] = round(r["window"]["deliveries_per_s"] / max(1e-9, tp["window"]["deliveries_per_s"]), 3)
    return out


def phase_ceiling(args, tp):
    core.log("hooks-ceiling: bench/hook_ceiling posts the throughput run's deliveries to a fresh sink")
    s = sink(args, args.work, "ceiling")
    try:
        out = subprocess.run([args.hook_ceiling, "--db", tp["db_copy"], "--connect", f"127.0.0.1:{s.port}",
                              "--connections", "64", "--seconds", "10"], capture_output=True, text=True, timeout=120)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["sink"] = s.stats()
    finally:
        s.stop()
    daemon = tp["window"]["deliveries_per_s"]
    res["ratio_daemon_to_ceiling"] = round(daemon / max(1e-9, res["per_s"]), 3)
    res["ceiling_cpu_us_per_request"] = round(res["cpu_s"] * 1e6 / max(1, res["requests"]), 1)
    return res


def add_arguments(p):
    p.add_argument("--hooks-subscriptions", type=int, default=1000)
    p.add_argument("--hooks-rate-per-host", type=int, default=1000)
    p.add_argument("--hooks-latency-calls-per-s", type=float, default=2.0)
    # p99 over deliveries is p99 over events with a fan-out of ~143 each: at ~7 events/s a window needs
    # minutes, not seconds, before its p99 rests on more than a handful of events (bench/README.md).
    p.add_argument("--hooks-latency-window", type=int, default=180,
                   help="seconds measured with Poisson arrivals (the figure held against the target)")
    p.add_argument("--hooks-aligned-window", type=int, default=60,
                   help="seconds measured with aligned (constant-rate) starts, the worst case beside it")
    # About 490 deliveries per call with 1,000 hooks over 7 types: 10 calls/s ~ 4,900 deliveries/s.
    p.add_argument("--hooks-tp-calls-per-s", default="18,20,22,24", help="comma-separated steps, calls/s")
    p.add_argument("--hooks-drain", type=float, default=20, help="seconds to wait for the outbox to drain")


def summary(r):
    lines = []
    if "hooks_latency" in r:
        l = r["hooks_latency"]
        e = l.get("event_to_receipt_ms", {})
        lines.append(f"hooks latency: {l['window']['deliveries_per_s']} deliveries/s, Poisson arrivals, "
                     f"event->receipt p50 {e.get('p50')} ms p99 {e.get('p99')} ms (n={e.get('n')}, "
                     f"target p99 <= 25 ms)")
        by = [x["p99"] for x in l.get("event_to_receipt_ms_by_30s", [])]
        if by:
            lines.append(f"  p99 of each 30 s slice: {min(by)} to {max(by)} ms "
                         f"({sum(1 for x in by if x <= 25)} of {len(by)} slices <= 25 ms)")
        if "aligned" in l:
            a = l["aligned"].get("event_to_receipt_ms", {})
            lines.append(f"  aligned events (constant-rate starts, worst case): p50 {a.get('p50')} ms p99 "
                         f"{a.get('p99')} ms (n={a.get('n')})")
    if "hooks_throughput" in r:
        for st in r["hooks_throughput"]["steps"]:
            w = st["window"]
            lines.append(f"  step {st['offered_calls_per_s']} calls/s: {w['deliveries_per_s']} deliveries/s, io "
                         f"{w.get('io_thread_us_per_delivery')} us/delivery, db {w.get('db_thread_us_per_delivery')} "
                         f"us/delivery, pending at end {w['pending_end']}, kept_up={w['kept_up']}")
        lines.append(f"hooks throughput: {r['hooks_throughput']['window']['deliveries_per_s']} deliveries/s "
                     f"(target >= 10,000/s)")
    if "hooks_isolation" in r:
        i = r["hooks_isolation"]
        lines.append(f"hooks isolation: with a hanging sink {i.get('hang_ratio_to_clean')} of clean, with a "
                     f"failing sink {i.get('fail_ratio_to_clean')} (target >= 0.9)")
    if "hooks_ceiling" in r:
        c = r["hooks_ceiling"]
        lines.append(f"hooks ceiling: {c['per_s']} requests/s ({c['ceiling_cpu_us_per_request']} us CPU each); "
                     f"daemon/ceiling {c['ratio_daemon_to_ceiling']}")
    return lines
