"""Running as a systemd service (Type=notify, WatchdogSec) without systemd: the notify datagrams, the
health/readiness probes and the Prometheus metrics an operator scrapes."""
import json
import os
import re
import signal
import socket
import time
import unittest

from harness import E2ETest, metric, metric_by, parse_metrics, wait_for


class NotifySocket:
    """The receiving end of sd_notify(3): an AF_UNIX datagram socket; each datagram is one or more
    newline-separated VAR=VALUE assignments."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.received = []  # (monotonic time, assignment)

    def poll(self):
        try:
            while True:
                data = self.sock.recv(4096)
                now = time.monotonic()
                self.received += [(now, a) for a in data.decode().split("\n") if a]
        except (socket.timeout, BlockingIOError):
            pass
        return self.received

    def count(self, assignment):
        return sum(1 for _, a in self.received if a == assignment)

    def close(self):
        self.sock.close()


class ServiceTest(E2ETest):
    def test_sd_notify_ready_watchdog_stopping(self):
        notify = NotifySocket(os.path.join(self.workdir, "notify.sock"))
        self.addCleanup(notify.close)
        bridge = self.bridge(env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"})
        bridge.start(wait_ready=False)

        def ready():
            for _, a in notify.poll():
                if a == "READY=1":
                    return True
            return False

        # READY=1 must not arrive before the HTTP port answers: once it has arrived, the port is in the
        # log and /healthz answers right away (systemd starts dependent units at READY=1).
        wait_for(ready, timeout=10, interval=0.0, what="READY=1")
        port = bridge._find_port()
        self.assertIsNotNone(port, "READY=1 before the listening port was logged")
        status, body, _ = bridge.get("/healthz")
        self.assertEqual(status, 200, body)
        self.assertEqual(notify.count("READY=1"), 1)

        # WatchdogSec=2 s: the daemon pings every half interval (1 s); systemd kills a service that stays
        # silent for a whole interval, so no gap may reach 2 s. Gaps are measured where this script receives
        # the pings, so the margin also absorbs its own scheduling on a loaded, sanitized run.
        before = notify.count("WATCHDOG=1")
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            notify.poll()
            time.sleep(0.01)
        pings = [t for t, a in notify.received if a == "WATCHDOG=1"]
        self.assertGreaterEqual(len(pings) - before, 3, "WATCHDOG=1 pings within 4.5 s")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 2.0, f"a watchdog gap reached the interval: {gaps}")

        # SIGTERM: STOPPING=1, then exit 0 within a few seconds.
        t0 = time.monotonic()
        bridge.proc.send_signal(signal.SIGTERM)
        code = bridge.proc.wait(10)
        notify.poll()
        self.assertEqual(code, 0, bridge.log_text()[-2000:])
        self.assertLess(time.monotonic() - t0, 8, "the graceful stop took too long")
        self.assertEqual(notify.count("STOPPING=1"), 1)
        names = [a for _, a in notify.received if a != "WATCHDOG=1"]
        self.assertLess(names.index("READY=1"), names.index("STOPPING=1"))

    def test_probes(self):
        bridge = self.bridge(extra_toml="ping_interval_ms = 200\nidle_timeout_ms = 600\n"
                                        "reconnect_initial_ms = 50\nreconnect_max_ms = 200").start()
        status, body, _ = bridge.get("/healthz")
        self.assertEqual(status, 200)
        status, body, headers = bridge.get("/readyz")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["status"], "ready")
        self.assertIn("application/json", headers.get("Content-Type", ""))

        # Kazoo goes away: not ready (a load balancer / monitoring stops trusting us), with the reason.
        self.sim.stop()

        def not_ready():
            s, b, _ = bridge.get("/readyz")
            return (s, b) if s == 503 else None
        status, body = wait_for(not_ready, timeout=10, what="/readyz 503 after Kazoo went away")
        doc = json.loads(body)
        self.assertNotEqual(doc.get("status"), "ready")
        self.assertIn("kazoo", json.dumps(doc).lower(), f"503 body names the reason: {body}")
        # The process itself is fine.
        self.assertEqual(bridge.get("/healthz")[0], 200)
        self.assertIsNone(bridge.proc.poll())
        # Ctrl-C (SIGINT) is a graceful stop as well: exit 0, even with Kazoo unreachable.
        self.assertEqual(bridge.stop(signal.SIGINT, timeout=10), 0)

    def _metrics_after_a_call(self):
        bridge = self.bridge().start()
        call_ids = self.sim.play("inbound_answered", speed=100)["instances"][0]["call_ids"]
        wait_for(lambda: any(e["type"] == "call.ended" and e["call_id"] in call_ids for e in bridge.events()),
                 what="the call to end")
        status, text, headers = bridge.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/plain"), headers)
        self.assertIn("version=0.0.4", headers.get("Content-Type", ""))
        return bridge, text, parse_metrics(text)  # parse_metrics fails on anything not Prometheus text

    def test_metrics_listed_by_the_issue(self):
        bridge, text, m = self._metrics_after_a_call()
        # Kazoo events received: the call's CREATE/ANSWER/DESTROY of both legs.
        received = metric_by(m, "kazoo_bridge_kazoo_events_total", "name")
        self.assertEqual(received.get("CHANNEL_CREATE"), 2, received)
        self.assertEqual(received.get("CHANNEL_DESTROY"), 2, received)
        # Lifecycle events by type.
        produced = metric_by(m, "kazoo_bridge_lifecycle_events_total", "type")
        for t in ("call.started", "call.ringing", "call.answered", "call.ended"):
            self.assertEqual(produced.get(t), 1, produced)
        # Connection state (exactly one state is current) and reconnects.
        states = metric_by(m, "kazoo_bridge_kazoo_connection_state", "state")
        self.assertEqual(states.get("subscribed"), 1, states)
        self.assertEqual(sum(states.values()), 1, states)
        self.assertEqual(metric(m, "kazoo_bridge_kazoo_reconnects_total"), 0)
        # Commit latency histogram: cumulative buckets, +Inf == count, count >= 1.
        buckets = sorted(((float(dict(lbl)["le"]), v) for (n, lbl), v in m.items()
                          if n == "kazoo_bridge_commit_latency_seconds_bucket"), key=lambda x: x[0])
        self.assertTrue(buckets, "commit latency histogram")
        self.assertEqual(buckets[-1][0], float("inf"))
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets), "cumulative buckets")
        count = metric(m, "kazoo_bridge_commit_latency_seconds_count")
        self.assertGreaterEqual(count, 1)
        self.assertEqual(buckets[-1][1], count)
        self.assertIsNotNone(metric(m, "kazoo_bridge_commit_latency_seconds_sum"))
        self.assertRegex(text, r"(?m)^# TYPE kazoo_bridge_commit_latency_seconds histogram$")
        # Queue depth.
        self.assertEqual(metric(m, "kazoo_bridge_ingest_queue_depth"), 0)
        self.assertEqual(bridge.stop(), 0)

    def test_malformed_counter_is_exported_before_the_first_malformed_frame(self):
        # An alert on kazoo_bridge_kazoo_malformed_frames_total needs the family to exist from the start
        # (Prometheus: "avoid missing metrics"); the issue lists it among the metrics /metrics has.
        bridge, text, _ = self._metrics_after_a_call()
        families = re.findall(r"(?m)^# TYPE (\S+) ", text)
        self.assertIn("kazoo_bridge_kazoo_malformed_frames_total", families,
                      "/metrics does not export the malformed-frames counter before the first malformed frame")
        self.assertEqual(bridge.stop(), 0)


if __name__ == "__main__":
    unittest.main()
