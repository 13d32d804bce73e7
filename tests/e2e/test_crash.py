"""kill -9 in the middle of a load: nothing that was committed is lost, nothing is reported twice, and the
calls that were in progress (or that happened while the daemon was dead) end exactly once after restart
(their CHANNEL_DESTROY arrives after the restart, or reconciliation ends them)."""
import collections
import time
import unittest

from harness import E2ETest, load_scenario, scenario_names, wait_for

FAST = ("ping_interval_ms = 200\nidle_timeout_ms = 600\n"
        "reconnect_initial_ms = 50\nreconnect_max_ms = 200\n")


class CrashTest(E2ETest):
    def _play(self, plays, name, count, speed, **extra):
        r = self.sim.play(name, count=count, speed=speed, **extra)
        for inst in r["instances"]:
            plays.append((name, set(inst["call_ids"]), inst["ends_at_ms"]))

    def test_kill_9_under_load_and_restart(self):
        bridge = self.bridge(extra_toml=FAST).start()
        plays = []  # (scenario, Call-IDs, ends_at_ms)
        # Wave 1: every scenario, several instances at once, lasting 3-12 s. Parked calls get their own
        # slot each (two calls never share a parking slot in Kazoo).
        slot = 300
        for name in scenario_names():
            if "slot" in load_scenario(name).get("vars", {}):
                for _ in range(2):
                    slot += 1
                    self._play(plays, name, 1, 10, vars={"slot": str(slot)})
            else:
                self._play(plays, name, 3, 10)

        wait_for(lambda: len(bridge.events()) >= 60, timeout=20, what="60 committed events before the kill")
        bridge.kill9()
        # What SQLite holds after the kill is what was committed: it must all survive.
        before = {e["id"]: e for e in bridge.events()}
        open_before = [c for c in bridge.calls() if c["status"] != "ended"]
        self.assertGreater(len(open_before), 0, "the kill should hit calls in progress")

        # Wave 2, while the daemon is dead: short calls that start and end before it is back.
        dead = []
        self._play(dead, "internal", 2, 50)
        self._play(dead, "inbound_missed_voicemail", 1, 50)
        wait_for(lambda: time.time() * 1000 > max(p[2] for p in dead) + 50, timeout=10,
                 what="the calls of wave 2 to end")
        plays += dead

        bridge.start()
        wait_for(lambda: self.sim.stats()["calls_live"] == 0, timeout=30, what="every call to end in Kazoo")

        def all_ended():
            calls = bridge.calls()
            return len(calls) >= len(plays) and all(c["status"] == "ended" for c in calls)
        wait_for(all_ended, timeout=15, interval=0.2, what="every call to be ended in the database")
        wait_for(lambda: bridge.metrics().get(("kazoo_bridge_store_pending_events", ())) == 0,
                 what="the store to be idle")

        events = bridge.events()
        ids = [e["id"] for e in events]
        self.assertEqual(len(ids), len(set(ids)), "an event id appears twice")
        after = {e["id"]: e for e in events}
        lost = [i for i in before if i not in after]
        self.assertEqual(lost, [], "committed events lost across kill -9 + restart")
        changed = [i for i in before if before[i] != after[i]]
        self.assertEqual(changed, [], "committed events changed after restart")

        per_call = collections.defaultdict(collections.Counter)
        for e in events:
            per_call[e["call_id"]][e["type"]] += 1
        calls = bridge.calls()
        self.assertEqual(len(calls), len(plays), "one call per play")
        for name, call_ids, _ in plays:
            with self.subTest(scenario=name, call_ids=sorted(call_ids)[:1]):
                mine = [c for c in calls if c["call_id"] in call_ids]
                self.assertEqual(len(mine), 1)
                counts = per_call[mine[0]["call_id"]]
                self.assertEqual(counts["call.started"], 1, dict(counts))
                self.assertEqual(counts["call.ended"], 1, dict(counts))
                self.assertEqual(counts["call.missed"], 1 if name == "inbound_missed_voicemail" else 0,
                                 dict(counts))
                evs = [e["type"] for e in events if e["call_id"] == mine[0]["call_id"]]
                self.assertEqual(evs[0], "call.started", evs)
                self.assertIn(evs[-1], ("call.ended", "call.missed"), evs)
        for c in open_before:
            self.assertEqual(per_call[c["call_id"]]["call.ended"], 1, f"in progress at the kill: {c['call_id']}")
        self.assertIn("restored calls in progress", bridge.log_text())
        self.assertEqual(bridge.stop(), 0)

    def test_sigterm_mid_call_and_restart_continues_the_call(self):
        # A planned restart (package upgrade) while a call is answered: the call goes on after the restart
        # without a second call.started/call.answered, and ends once when its DESTROY arrives.
        bridge = self.bridge(extra_toml=FAST).start()
        ids = set(self.sim.play("inbound_answered", speed=10)["instances"][0]["call_ids"])  # ends at ~6.6 s
        wait_for(lambda: any(e["type"] == "call.answered" and e["call_id"] in ids for e in bridge.events()),
                 what="the call to be answered")
        self.assertEqual(bridge.stop(), 0)
        self.assertEqual([c["status"] for c in bridge.calls()], ["answered"])
        bridge.start()
        wait_for(lambda: self.sim.stats()["calls_live"] == 0, timeout=20, what="the call to end in Kazoo")
        wait_for(lambda: any(e["type"] == "call.ended" for e in bridge.events()), what="call.ended")
        wait_for(lambda: bridge.metrics().get(("kazoo_bridge_store_pending_events", ())) == 0,
                 what="the store to be idle")
        self.assertEqual([e["type"] for e in bridge.events()],
                         [x["type"] for x in load_scenario("inbound_answered")["expect"]])
        (call,) = bridge.calls()
        self.assertEqual((call["status"], call["answered"], call["talk_s"]), ("ended", True, 60))
        self.assertEqual(bridge.stop(), 0)


if __name__ == "__main__":
    unittest.main()
