"""Every bundled scenario, in both event flavours (KZ43 ecallmgr and KZM mod_kazoo), through one running
daemon: the lifecycle events a user receives and the call record `kazoo-bridge calls` shows must be what
the scenario file's `expect` / `expect_call` say."""
import json
import unittest

from harness import (CALL_KEYS, PAYLOAD_KEYS, E2ETest, load_fixture, load_scenario, scenario_names,
                     wait_for)

SPEED = 40  # the longest scenario (~2 min of Kazoo time) plays in ~3 s


def fixture_users(account_id):
    acct = next(a for a in load_fixture()["accounts"] if a["id"] == account_id)
    return {u["username"]: u for u in acct["users"]}


class ScenarioTest(E2ETest):
    def test_every_scenario_in_both_flavours(self):
        bridge = self.bridge().start()
        users = fixture_users(self.sim.info["account_id"])

        plays = []  # (scenario, flavour, set of Call-IDs)
        slots = {}  # play index -> its parking slot
        for name in scenario_names():
            for flavour in ("kz43", "kzm"):
                extra = {}
                if "slot" in load_scenario(name).get("vars", {}):
                    # Concurrent plays park in distinct slots, as two calls do in a real Kazoo.
                    slots[len(plays)] = extra_slot = str(201 + len(plays))
                    extra["vars"] = {"slot": extra_slot}
                r = self.sim.play(name, flavour=flavour, speed=SPEED, **extra)
                self.assertEqual(len(r["instances"]), 1, r)
                plays.append((name, flavour, set(r["instances"][0]["call_ids"])))

        def events_by_play():
            evs = bridge.events()
            by = {i: [] for i in range(len(plays))}
            for e in evs:
                owners = [i for i, (_, _, ids) in enumerate(plays) if e["call_id"] in ids]
                self.assertEqual(len(owners), 1, f"event {e['id']} ({e['call_id']}) belongs to {owners} plays")
                by[owners[0]].append(e)
            return evs, by

        def all_done():
            # call.ended, plus call.missed for a missed call, are the last events of every play.
            if self.sim.stats()["calls_live"] != 0:
                return False
            _, by = events_by_play()
            return all(len(by[i]) >= len(load_scenario(p[0])["expect"]) for i, p in enumerate(plays))

        wait_for(all_done, timeout=60, interval=0.3, what="every scenario to be played and stored")
        # The last commit of a batch may land a moment after the simulator's last frame.
        wait_for(lambda: bridge.metrics().get(("kazoo_bridge_store_pending_events", ())) == 0,
                 what="the store to be idle")
        events, by = events_by_play()

        # Unique event ids over the whole run (consumers deduplicate on them).
        ids = [e["id"] for e in events]
        self.assertEqual(len(ids), len(set(ids)), "duplicate event ids")

        calls = bridge.calls()
        for c in calls:
            for k in CALL_KEYS:
                self.assertIn(k, c, f"calls --json line lacks {k}: {c}")

        for i, (name, flavour, call_ids) in enumerate(plays):
            with self.subTest(scenario=name, flavour=flavour):
                sc = load_scenario(name)
                evs = by[i]
                got_types = [e["type"] for e in evs]
                self.assertEqual(got_types, [x["type"] for x in sc["expect"]],
                                 f"{name}/{flavour} lifecycle events")
                self.assertEqual(got_types.count("call.ended"), 1)
                # One call per play: every event carries the same (call) id.
                self.assertEqual(len({e["call_id"] for e in evs}), 1, [e["call_id"] for e in evs])
                for e, want in zip(evs, sc["expect"]):
                    missing = [k for k in PAYLOAD_KEYS if k not in e]
                    self.assertEqual(missing, [], f"{e['type']} lacks keys")
                    self.assertTrue(e["id"].startswith("evt_"), e["id"])
                    self.assertEqual(e["account_id"], self.sim.info["account_id"])
                    self.assertIsInstance(e["summary"], str)
                    self.assertTrue(e["summary"])
                    self.assertIsInstance(e["raw"], (dict, list))
                    if "user" in want:
                        u = users[want["user"]]
                        self.assertEqual(e["user_id"], u["id"], f"{e['type']} user")
                        self.assertEqual(e["user_name"], f"{u['first_name']} {u['last_name']}",
                                         f"{e['type']} user_name")
                    if "park_slot" in want:
                        self.assertEqual(e["park_slot"], slots[i], f"{e['type']} park_slot")
                    for key in ("hangup_cause", "end_reason"):
                        if key in want:
                            self.assertEqual(e.get(key), want[key], f"{e['type']} {key}")
                    if want.get("recording"):
                        self.assertIsNotNone(e["recording_url"], f"{e['type']} recording_url")

                mine = [c for c in calls if c["call_id"] in call_ids]
                self.assertEqual(len(mine), 1, f"calls of this play: {[c['call_id'] for c in mine]}")
                call = mine[0]
                self.assertEqual(call["call_id"], evs[0]["call_id"])
                self.assertEqual(call["status"], "ended")
                xc = sc["expect_call"]
                for key in ("direction", "answered", "click_to_call", "origin", "from_number", "to_number",
                            "hangup_cause", "duration_s", "talk_s"):
                    if key in xc:
                        self.assertEqual(call.get(key), xc[key], f"call {key}")
                if "user" in xc:
                    self.assertEqual(call["user_id"], users[xc["user"]]["id"], "call user")

                # events --call gives exactly this play's payloads, in the same (oldest first) order.
                self.assertEqual(bridge.events("--call", call["call_id"]), evs)

        # `events --json` is one payload per line, valid JSON objects, nothing else on stdout.
        raw = bridge.cli("events", "--json", "--limit", "1000000").stdout
        lines = raw.splitlines()
        self.assertEqual(len(lines), len(events))
        for line in lines:
            self.assertIsInstance(json.loads(line), dict)
        # Newest first for calls: started_at never increases down the list.
        starts = [c["started_at"] for c in calls]
        self.assertEqual(starts, sorted(starts, reverse=True), "calls --json is newest first")
        self.assertEqual(bridge.stop(), 0)


if __name__ == "__main__":
    unittest.main()
