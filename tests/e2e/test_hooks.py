"""REST hook subscriptions on the real daemon (issue #4, docs/api.md "Hooks"): tokens from the real OAuth
server (the code flow, as test_clients.py does), hooks created over HTTP, a kazoo-sim scenario, and the
outbox rows the pipeline committed with the events (one per matching hook, none for the others); the
events sample (example before any call, real payloads after); hooks removed when their grant is revoked."""
import sqlite3

from api_client import BOB, ApiClient
from harness import E2ETest, wait_for


class HooksTest(ApiClient, E2ETest):
    def setUp(self):
        super().setUp()
        self.b = self.bridge()
        self.register_client()
        self.b.start()

    def outbox(self):
        db = sqlite3.connect(f"file:{self.b.db}?mode=ro", uri=True)
        try:
            return db.execute("SELECT destination, event_id, call_id, status FROM outbox ORDER BY id").fetchall()
        finally:
            db.close()

    def test_fan_out_and_events_sample_after_a_scenario(self):
        bob = self.tokens("bob", "bob-secret-2")["access_token"]
        alice = self.tokens("alice", "alice-secret-1", "calls account")["access_token"]

        # Before any call: one example payload, clearly marked.
        status, sample = self.call("GET", "/api/v1/events?type=call.answered", token=bob)
        self.assertEqual(status, 200, sample)
        self.assertEqual(len(sample["data"]), 1)
        ex = sample["data"][0]
        self.assertIs(ex["example"], True)
        self.assertTrue(ex["id"].startswith("evt_example_"))
        self.assertTrue(ex["summary"].startswith("Example: "))

        def create(token, body):
            status, h = self.call("POST", "/api/v1/hooks", body, token)
            self.assertEqual(status, 201, h)
            self.assertTrue(h["secret"].startswith("whsec_"))
            return h["id"]

        target = "https://hooks.zapier.com/hooks/standard/1/abc/"
        bob_all = create(bob, {"target_url": target, "event": "*"})
        bob_outbound = create(bob, {"target_url": target, "event": "*", "filters": {"direction": "outbound"}})
        alice_own = create(alice, {"target_url": target, "event": "*"})
        account_ended = create(alice, {"target_url": target, "event": "call.ended", "scope": "account"})
        account_missed = create(alice, {"target_url": target, "event": "call.missed", "scope": "account"})
        deleted = create(bob, {"target_url": target, "event": "*"})
        status, _ = self.call("DELETE", f"/api/v1/hooks/{deleted}", token=bob)
        self.assertEqual(status, 204)
        status, err = self.call("POST", "/api/v1/hooks", {"target_url": target, "event": "*", "scope": "account"}, bob)
        self.assertEqual(status, 403, err)
        status, listed = self.call("GET", "/api/v1/hooks", token=bob)
        self.assertEqual(sorted(h["id"] for h in listed["data"]), sorted([bob_all, bob_outbound]))
        status, _ = self.call("GET", f"/api/v1/hooks/{alice_own}", token=bob)
        self.assertEqual(status, 404)

        self.sim.play("inbound_answered", speed=100)
        wait_for(lambda: any(e["type"] == "call.ended" for e in self.b.events()), what="the call to end")
        events = self.b.events()
        wait_for(lambda: len([r for r in self.outbox() if r[0] == f"hook:{bob_all}"]) ==
                 len([e for e in events if BOB in (e.get("user_id"), e.get("from_user_id"))]),
                 what="bob's outbox rows")
        rows = self.outbox()
        by_dest = {}
        for dest, event_id, call_id, status in rows:
            by_dest.setdefault(dest, []).append(event_id)
            self.assertEqual(status, "pending")
        bobs = [e["id"] for e in events if BOB in (e.get("user_id"), e.get("from_user_id"))]
        self.assertTrue(bobs, events)
        self.assertEqual(sorted(by_dest.get(f"hook:{bob_all}", [])), sorted(bobs))
        ended = [e["id"] for e in events if e["type"] == "call.ended"]
        self.assertEqual(by_dest.get(f"hook:{account_ended}"), ended)
        for none in (bob_outbound, alice_own, account_missed, deleted):
            self.assertNotIn(f"hook:{none}", by_dest, none)
        self.assertEqual(len(rows), len(bobs) + len(ended))
        # Every outbox row's event is stored (the foreign key held: same transaction or earlier).
        ids = {e["id"] for e in events}
        self.assertTrue(all(r[1] in ids for r in rows))

        # The sample now shows real payloads, newest first, exactly as stored; a `calls` token sees its calls.
        status, sample = self.call("GET", "/api/v1/events?type=call.answered&limit=3", token=bob)
        self.assertEqual(status, 200, sample)
        stored = [e for e in events if e["type"] == "call.answered"]
        self.assertEqual([e["id"] for e in sample["data"]], [e["id"] for e in reversed(stored)][:3])
        self.assertEqual(sample["data"][0], stored[-1])
        self.assertNotIn("example", sample["data"][0])

        log = self.b.log_text()
        for s in (bob, alice):
            self.assertNotIn(s, log)
        self.assertNotIn("whsec_", log)

    def test_the_cap_on_hooks_per_user_comes_from_the_config(self):
        # A daemon of its own, configured the way an operator would (the systemd unit's environment).
        self.b.stop()
        self.b = self.bridge(env={"KAZOO_BRIDGE_HOOKS_MAX_PER_USER": "2"}, name="capped")
        self.register_client()
        self.b.start()
        bob = self.tokens("bob", "bob-secret-2")["access_token"]
        hook = {"target_url": "https://example.com/hook", "event": "*"}
        made = []
        for _ in range(2):
            status, h = self.call("POST", "/api/v1/hooks", hook, bob)
            self.assertEqual(status, 201, h)
            made.append(h["id"])
        status, err = self.call("POST", "/api/v1/hooks", hook, bob)
        self.assertEqual(status, 400, err)
        self.assertEqual(err["error"], "too_many_hooks")
        self.assertIn("at most 2", err["error_description"])
        # Deleting one makes room again.
        status, _ = self.call("DELETE", f"/api/v1/hooks/{made[0]}", token=bob)
        self.assertEqual(status, 204)
        status, h = self.call("POST", "/api/v1/hooks", hook, bob)
        self.assertEqual(status, 201, h)

    def test_revoking_the_grant_removes_its_hooks(self):
        first = self.tokens("bob", "bob-secret-2")
        second = self.tokens("bob", "bob-secret-2")
        target = "https://example.com/hook"
        status, kept = self.call("POST", "/api/v1/hooks", {"target_url": target, "event": "*"}, second["access_token"])
        self.assertEqual(status, 201, kept)
        for _ in range(2):
            status, h = self.call("POST", "/api/v1/hooks", {"target_url": target, "event": "call.missed"},
                                  first["access_token"])
            self.assertEqual(status, 201, h)
        status, body = self.call("POST", "/oauth/revoke", form={
            "token": first["refresh_token"], "client_id": self.client_id, "client_secret": self.client_secret})
        self.assertEqual(status, 200, body)

        def remaining():
            db = sqlite3.connect(f"file:{self.b.db}?mode=ro", uri=True)
            try:
                return [r[0] for r in db.execute("SELECT id FROM hooks")]
            finally:
                db.close()
        wait_for(lambda: remaining() == [kept["id"]], what="the revoked grant's hooks to go")
        status, listed = self.call("GET", "/api/v1/hooks", token=second["access_token"])
        self.assertEqual([h["id"] for h in listed["data"]], [kept["id"]])
        status, _ = self.call("GET", "/api/v1/hooks", token=first["access_token"])
        self.assertEqual(status, 401)


if __name__ == "__main__":
    import unittest
    unittest.main()
