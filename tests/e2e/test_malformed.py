"""Garbage on the blackhole socket (invalid JSON, binary frames, events without data, unknown event names)
interleaved with real calls: the calls are still reported in full, every bad frame is counted by reason in
/metrics, each reason is logged once (no log flood), and the daemon neither dies nor reconnects."""
import re
import unittest

from harness import E2ETest, load_scenario, metric, metric_by, wait_for

# The metric's reason labels are a closed set (never text from the peer); the log line names the detail.
REASONS = ("invalid JSON", "binary frame", "event without data", "unknown event name")
SCENARIOS = (("hold_unhold", "kz43"), ("inbound_missed_voicemail", "kzm"), ("park_retrieve", "kz43"))


class MalformedTest(E2ETest):
    def test_garbage_mixed_with_calls(self):
        bridge = self.bridge().start()
        # One of each kind right away, then one garbage frame after every 2 real frames.
        self.sim.fault("garbage")
        self.sim.fault("garbage", every=2)
        plays = [(name, set(self.sim.play(name, flavour=fl, speed=50)["instances"][0]["call_ids"]))
                 for name, fl in SCENARIOS]

        def types_of(ids, events):
            return [e["type"] for e in events if e["call_id"] in ids]

        def done():
            if self.sim.stats()["calls_live"]:
                return False
            evs = bridge.events()
            return all(len(types_of(ids, evs)) >= len(load_scenario(n)["expect"]) for n, ids in plays)
        wait_for(done, timeout=30, interval=0.2, what="the calls to be played and stored")

        garbage_sent = self.sim.stats()["garbage_sent"]
        self.assertGreater(garbage_sent, 8, "the fault interleaved garbage with the calls")

        events = bridge.events()
        for name, ids in plays:
            self.assertEqual(types_of(ids, events), [x["type"] for x in load_scenario(name)["expect"]], name)
        self.assertEqual(len(events), len({e["id"] for e in events}))

        def counted():
            by_reason = metric_by(bridge.metrics(), "kazoo_bridge_kazoo_malformed_frames_total", "reason")
            return by_reason if sum(by_reason.values()) == garbage_sent else None
        by_reason = wait_for(counted, timeout=5, what=f"{garbage_sent} malformed frames counted")
        for reason in REASONS:
            hits = [r for r in by_reason if reason in r]
            self.assertEqual(len(hits), 1, f"one reason label for {reason!r}: {by_reason}")
            self.assertGreaterEqual(by_reason[hits[0]], 2, f"{reason!r} counted each time")

        # Each reason is logged once, however many times it happens.
        log = bridge.log_text()
        malformed_lines = [ln for ln in log.splitlines() if re.search(r"malformed", ln, re.I)]
        for reason in REASONS:
            self.assertEqual(len([ln for ln in malformed_lines if reason in ln]), 1,
                             f"{reason!r} logged once:\n" + "\n".join(malformed_lines))

        # Still running and connected on the same socket (garbage is not a reason to reconnect).
        self.assertIsNone(bridge.proc.poll())
        m = bridge.metrics()
        self.assertEqual(metric(m, "kazoo_bridge_kazoo_reconnects_total"), 0)
        self.assertEqual(bridge.get("/readyz")[0], 200)
        self.assertEqual(self.sim.stats()["connections_total"], 1)
        self.assertEqual(bridge.stop(), 0)


if __name__ == "__main__":
    unittest.main()
